use std::cell::RefCell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::value::Value;
use minijinja::{Environment, UndefinedBehavior};

use crate::scope::LazyContext;
use crate::{filters, lookups, Json, Scope, TemplateError};

/// What `{{ omit }}` renders to; modules drop options holding it, as
/// Ansible drops options set to its omit placeholder.
pub const OMIT: &str = "__omit_place_holder__runbook";

/// Bounds the work of one render, so a runaway loop in a playbook
/// expression fails instead of hanging the run.
const FUEL: u64 = 5_000_000;

thread_local! {
    /// The contexts being rendered on this thread, innermost last, so that
    /// `lookup('template', ...)` renders a file with the caller's variables.
    static ACTIVE: RefCell<Vec<Arc<LazyContext>>> = const { RefCell::new(Vec::new()) };
}

/// A shared minijinja environment set up with Ansible's filters, tests and
/// lookups. Cloning is cheap.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    env: Environment<'static>,
    base_dir: PathBuf,
    /// Whether a filter (`true`) or test (`false`) name exists, as probed.
    known: std::sync::Mutex<std::collections::HashMap<(bool, String), bool>>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("base_dir", &self.inner.base_dir)
            .finish()
    }
}

impl Engine {
    /// `base_dir` is the playbook's directory: relative `lookup('file')` and
    /// `lookup('template')` paths are found from there, as Ansible does.
    pub fn new(base_dir: &Path) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        // Ansible templates are plain text: nothing is HTML-escaped.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        filters::register(&mut env);
        lookups::register(&mut env, base_dir.to_path_buf());
        Engine {
            inner: Arc::new(Inner {
                env,
                base_dir: base_dir.to_path_buf(),
                known: Default::default(),
            }),
        }
    }

    pub fn base_dir(&self) -> &Path {
        &self.inner.base_dir
    }

    pub(crate) fn env(&self) -> &Environment<'static> {
        &self.inner.env
    }

    /// Whether the environment itself provides `name` (a function such as
    /// `lookup` or `range`), so it is no variable a playbook must define.
    pub fn is_global(&self, name: &str) -> bool {
        self.inner.env.globals().any(|(n, _)| n == name)
    }

    /// Whether `name` is a filter of this engine.
    pub fn knows_filter(&self, name: &str) -> bool {
        self.knows(true, name)
    }

    /// Whether `name` is a test of this engine.
    pub fn knows_test(&self, name: &str) -> bool {
        self.knows(false, name)
    }

    /// minijinja has no public lookup of filters and tests, so apply the
    /// name once to `none`: only a missing one fails as unknown. (No filter
    /// or test here touches anything outside its arguments.)
    fn knows(&self, filter: bool, name: &str) -> bool {
        let key = (filter, name.to_string());
        if let Some(known) = self
            .inner
            .known
            .lock()
            .ok()
            .and_then(|k| k.get(&key).copied())
        {
            return known;
        }
        let (source, unknown) = if filter {
            (
                format!("{{{{ none | {name} }}}}"),
                minijinja::ErrorKind::UnknownFilter,
            )
        } else {
            (
                format!("{{{{ none is {name} }}}}"),
                minijinja::ErrorKind::UnknownTest,
            )
        };
        let known = match self.inner.env.render_str(&source, ()) {
            Ok(_) => true,
            Err(err) => err.kind() != unknown,
        };
        if let Ok(mut cache) = self.inner.known.lock() {
            cache.insert(key, known);
        }
        known
    }

    /// Renders every string inside `raw` (lists and mappings recursively).
    pub fn render(&self, raw: &Json, scope: &Scope) -> Result<Json, TemplateError> {
        let ctx = LazyContext::new(self.clone(), scope.clone());
        self.render_json_in(raw, &ctx)
    }

    /// Evaluates a `when`-style condition: a bare expression, or a template.
    pub fn eval_condition(&self, condition: &Json, scope: &Scope) -> Result<bool, TemplateError> {
        let ctx = LazyContext::new(self.clone(), scope.clone());
        match condition {
            Json::Bool(b) => Ok(*b),
            Json::Null => Ok(false),
            Json::Array(all) => {
                for item in all {
                    if !self.eval_condition(item, scope)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Json::String(text) if has_template(text) => {
                Ok(truthy(&self.render_string_in(text, &ctx)?))
            }
            Json::String(expr) => {
                let value = self.eval_expression_in(expr, &ctx)?;
                Ok(value.is_true())
            }
            other => Ok(truthy(other)),
        }
    }

    pub(crate) fn render_json_in(
        &self,
        raw: &Json,
        ctx: &Arc<LazyContext>,
    ) -> Result<Json, TemplateError> {
        match raw {
            Json::String(text) => self.render_string_in(text, ctx),
            Json::Array(items) => items
                .iter()
                .map(|item| self.render_json_in(item, ctx))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            Json::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (key, value) in map {
                    out.insert(key.clone(), self.render_json_in(value, ctx)?);
                }
                Ok(Json::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn render_string_in(&self, text: &str, ctx: &Arc<LazyContext>) -> Result<Json, TemplateError> {
        if !has_template(text) {
            return Ok(Json::String(text.to_string()));
        }
        if let Some(expr) = single_expression(text) {
            let value = self.eval_expression_in(expr, ctx)?;
            return to_json(&value);
        }
        let result = with_active(ctx, || {
            self.inner
                .env
                .render_str(text, Value::from_dyn_object(ctx.clone()))
        });
        let rendered = result.map_err(|err| self.explain(&err, text, ctx))?;
        settle(ctx)?;
        Ok(Json::String(rendered))
    }

    fn eval_expression_in(
        &self,
        expr: &str,
        ctx: &Arc<LazyContext>,
    ) -> Result<Value, TemplateError> {
        let compiled = self
            .inner
            .env
            .compile_expression(expr)
            .map_err(|e| TemplateError::from_minijinja(&e))?;
        let value = with_active(ctx, || compiled.eval(Value::from_dyn_object(ctx.clone())))
            .map_err(|err| self.explain(&err, expr, ctx))?;
        if value.is_undefined() {
            return Err(ctx
                .take_failure()
                .unwrap_or_else(|| self.undefined_in(expr, ctx)));
        }
        settle(ctx)?;
        Ok(value)
    }

    /// Turns a minijinja error into ours, naming the undefined variable when
    /// that is what went wrong.
    fn explain(
        &self,
        err: &minijinja::Error,
        source: &str,
        ctx: &Arc<LazyContext>,
    ) -> TemplateError {
        if let Some(failure) = ctx.take_failure() {
            return failure;
        }
        if err.kind() == minijinja::ErrorKind::UndefinedError {
            return self.undefined_in(source, ctx);
        }
        TemplateError::from_minijinja(err)
    }

    fn undefined_in(&self, source: &str, ctx: &Arc<LazyContext>) -> TemplateError {
        let wrapped;
        let template = if has_template(source) {
            source
        } else {
            wrapped = format!("{{{{ {source} }}}}");
            &wrapped
        };
        let missing = crate::analysis::references(self, template)
            .ok()
            .and_then(|refs| {
                refs.names
                    .into_iter()
                    .find(|n| !ctx.scope.contains(n) && !self.is_global(n))
            });
        match missing {
            Some(name) => TemplateError::Undefined { name },
            None => TemplateError::Render {
                message: format!(
                    "undefined value in `{}` (an attribute or key that does not exist?)",
                    source.trim()
                ),
            },
        }
    }
}

/// After a render that succeeded, a variable that failed on the way may
/// still have been read. An undefined one was guarded (`default`, `is
/// defined`), which is fine; anything else, a variable that refers to itself
/// above all, is an error even though the render went on without it (as
/// in Ansible, where `x: "{{ x | default(1) }}"` is a recursive loop).
fn settle(ctx: &Arc<LazyContext>) -> Result<(), TemplateError> {
    match ctx.take_failure() {
        None | Some(TemplateError::Undefined { .. }) => Ok(()),
        Some(err) => Err(err),
    }
}

fn with_active<T>(ctx: &Arc<LazyContext>, f: impl FnOnce() -> T) -> T {
    ACTIVE.with(|a| a.borrow_mut().push(ctx.clone()));
    let out = f();
    ACTIVE.with(|a| a.borrow_mut().pop());
    out
}

/// The context of the innermost render on this thread.
pub(crate) fn active_context() -> Option<Arc<LazyContext>> {
    ACTIVE.with(|a| a.borrow().last().cloned())
}

pub(crate) fn has_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// The expression inside a string that is exactly one `{{ ... }}`.
pub(crate) fn single_expression(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") || inner.contains("{#")
    {
        return None;
    }
    Some(inner)
}

fn to_json(value: &Value) -> Result<Json, TemplateError> {
    serde_json::to_value(value).map_err(|e| TemplateError::Render {
        message: format!("value cannot be converted: {e}"),
    })
}

/// Python's truthiness, as a rendered `when` result is judged.
fn truthy(value: &Json) -> bool {
    match value {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => {
            let s = s.trim();
            !(s.is_empty()
                || s.eq_ignore_ascii_case("false")
                || s == "0"
                || s.eq_ignore_ascii_case("no"))
        }
        Json::Array(a) => !a.is_empty(),
        Json::Object(o) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layer;
    use indexmap::IndexMap;
    use serde_json::json;

    fn scope(vars: Json, templated: bool) -> Scope {
        let map: IndexMap<String, Json> = vars
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut s = Scope::new();
        s.push_lower(if templated {
            Layer::templated(map)
        } else {
            Layer::concrete(map)
        });
        s
    }

    fn engine() -> Engine {
        Engine::new(Path::new("."))
    }

    #[test]
    fn single_expression_keeps_type() {
        let s = scope(json!({"n": 3, "l": [1, 2], "m": {"a": true}}), false);
        let e = engine();
        assert_eq!(e.render(&json!("{{ n }}"), &s).unwrap(), json!(3));
        assert_eq!(e.render(&json!("{{ l }}"), &s).unwrap(), json!([1, 2]));
        assert_eq!(e.render(&json!("{{ m.a }}"), &s).unwrap(), json!(true));
        assert_eq!(e.render(&json!("n={{ n }}"), &s).unwrap(), json!("n=3"));
        assert_eq!(e.render(&json!("{{ n }}{{ n }}"), &s).unwrap(), json!("33"));
    }

    #[test]
    fn lazy_vars_follow_references() {
        let s = scope(
            json!({"a": "{{ b }}-x", "b": "{{ c | upper }}", "c": "y"}),
            true,
        );
        assert_eq!(
            engine().render(&json!("{{ a }}"), &s).unwrap(),
            json!("Y-x")
        );
    }

    #[test]
    fn a_guarded_or_shadowed_self_reference_is_still_a_loop() {
        // `default` must not hide the loop, and `q` must not fall back to
        // the global function of that name (both render "fine" otherwise).
        let s = scope(
            json!({"x": "{{ x | default('a') }}", "p": "{{ q }}-1", "q": "{{ p }}-2"}),
            true,
        );
        for source in ["{{ x }}", "{{ p }}", "{{ p ~ '' }}!"] {
            let err = engine().render(&json!(source), &s).unwrap_err();
            assert!(
                matches!(err, TemplateError::Recursive { .. }),
                "{source}: {err:?}"
            );
        }
        // An undefined variable that `default` guards is still fine.
        let s = scope(json!({"y": "{{ missing }}"}), true);
        assert_eq!(
            engine()
                .render(&json!("{{ y | default('d') }}"), &s)
                .unwrap(),
            json!("d")
        );
    }

    #[test]
    fn self_reference_is_reported() {
        let s = scope(json!({"a": "{{ b }}", "b": "{{ a }}"}), true);
        let err = engine().render(&json!("{{ a }}"), &s).unwrap_err();
        assert!(matches!(err, TemplateError::Recursive { .. }), "{err:?}");
    }

    #[test]
    fn undefined_names_the_variable() {
        let s = scope(json!({"a": 1}), false);
        let err = engine()
            .render(&json!("x {{ missing }} y"), &s)
            .unwrap_err();
        assert_eq!(
            err,
            TemplateError::Undefined {
                name: "missing".into()
            }
        );
        let err = engine()
            .render(&json!("{{ missing.attr }}"), &s)
            .unwrap_err();
        assert_eq!(
            err,
            TemplateError::Undefined {
                name: "missing".into()
            }
        );
        let err = engine()
            .render(
                &json!("{{ other }}"),
                &scope(json!({"other": "{{ gone }}"}), true),
            )
            .unwrap_err();
        assert_eq!(
            err,
            TemplateError::Undefined {
                name: "gone".into()
            }
        );
    }

    #[test]
    fn conditions() {
        let s = scope(
            json!({"flag": "yes", "n": 0, "r": {"skipped": true}}),
            false,
        );
        let e = engine();
        assert!(e.eval_condition(&json!("flag | bool"), &s).unwrap());
        assert!(!e.eval_condition(&json!("n > 0"), &s).unwrap());
        assert!(e.eval_condition(&json!("r is skipped"), &s).unwrap());
        assert!(e
            .eval_condition(&json!("missing is not defined"), &s)
            .unwrap());
        assert!(!e
            .eval_condition(&json!(["flag | bool", "n > 0"]), &s)
            .unwrap());
    }

    #[test]
    fn omit_and_text_without_templates() {
        let s = scope(json!({"omit": OMIT}), false);
        assert_eq!(
            engine().render(&json!("{{ omit }}"), &s).unwrap(),
            json!(OMIT)
        );
        assert_eq!(
            engine().render(&json!("plain"), &s).unwrap(),
            json!("plain")
        );
    }
}
