use std::cell::RefCell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::value::Value;
use minijinja::{Environment, UndefinedBehavior};

use crate::compile::{self, Emissions, Prepared};
use crate::error::{collapse_chain, Nesting, Origin, TemplateSpan};
use crate::scope::LazyContext;
use crate::{compare, filters, lookups, pyrepr, Json, Scope, TemplateError};

/// What `{{ omit }}` renders to; modules drop options holding it, as
/// Ansible drops options set to its omit placeholder.
pub const OMIT: &str = "__omit_place_holder__runbook";

/// Bounds the work of one render, so a runaway loop in a playbook
/// expression fails instead of hanging the run.
pub(crate) const FUEL: u64 = 5_000_000;

/// How deep `lookup('template', ...)` may nest inside looked-up templates.
pub const TEMPLATE_LOOKUP_LIMIT: usize = 20;

/// How deep templated variables may read templated variables (`a: "{{ b }}"`,
/// `b: "{{ c }}"`, ...). A loop is reported as soon as it closes; this
/// bounds chains that do not loop, and keeps the stack from overflowing:
/// both limits reached at once take about 1.5 MiB of stack in a debug
/// build (a third of that optimised), within the 2 MiB of a Tokio worker.
pub const VARIABLE_NESTING_LIMIT: usize = 32;

thread_local! {
    /// The contexts being rendered on this thread, innermost last, so that
    /// `lookup('template', ...)` renders a file with the caller's variables.
    static ACTIVE: RefCell<Vec<Arc<LazyContext>>> = const { RefCell::new(Vec::new()) };
    /// The templated variables and looked-up templates being rendered on
    /// this thread, outermost first.
    static NESTED: RefCell<Vec<(Nesting, String)>> = const { RefCell::new(Vec::new()) };
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

/// Where the text being compiled sits, to point errors at it.
#[derive(Clone, Copy)]
struct Place<'a> {
    origin: &'a Origin,
    /// The whole string (or file) the compiled text is part of.
    source: &'a str,
    /// Where the compiled text starts in `source`.
    offset: usize,
    /// Ansible's `escape_backslashes`: on for task options and variables,
    /// off for conditions and looked-up template files.
    escape: bool,
}

impl Place<'_> {
    fn span(&self, prepared: &Prepared<'_>, err: &minijinja::Error) -> Option<TemplateSpan> {
        let range = prepared.original_range(err)?;
        Some(TemplateSpan::new(
            self.origin.clone(),
            self.source.into(),
            range.start + self.offset..range.end + self.offset,
        ))
    }

    /// All of the compiled text but the blanks around it.
    fn whole(&self, compiled: &str) -> TemplateSpan {
        let start = self.offset + (compiled.len() - compiled.trim_start().len());
        TemplateSpan::new(
            self.origin.clone(),
            self.source.into(),
            start..start + compiled.trim().len(),
        )
    }
}

impl Engine {
    /// `base_dir` is the playbook's directory: relative `lookup('file')` and
    /// `lookup('template')` paths are found from there, as Ansible does.
    pub fn new(base_dir: &Path) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        // Errors keep their spans without debug mode, which would also copy
        // every variable into each error.
        env.set_debug(false);
        // As Ansible's Jinja: the newline after a block tag goes. (Jinja
        // also drops a template's last newline; Ansible puts it back on
        // text, see `restore_newlines`.)
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        // Ansible templates are plain text: nothing is HTML-escaped.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        // Python's methods Ansible users call (`d.keys()`, `s.split(',')`,
        // `s.startswith('x')`, `d.get('k')`).
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.set_formatter(|out, state, value| {
            let emissions = state.get_or_insert_extension_with(Emissions::default);
            emissions.count += 1;
            emissions.last = Some(value.clone());
            out.write_str(&pyrepr::emitted(value)).map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
            })
        });
        filters::register(&mut env);
        compare::register(&mut env);
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
        self.render_json_in(raw, &ctx, &Origin::Given)
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
            // Ansible evaluates conditions without its backslash escaping.
            Json::String(text) if has_template(text) => Ok(truthy(&self.render_string_in(
                text,
                &ctx,
                &Origin::Given,
                false,
            )?)),
            Json::String(expr) => {
                let place = Place {
                    origin: &Origin::Given,
                    source: expr,
                    offset: 0,
                    escape: false,
                };
                let value = self.eval_in(expr, &ctx, place)?;
                Ok(value.is_true())
            }
            other => Ok(truthy(other)),
        }
    }

    pub(crate) fn render_json_in(
        &self,
        raw: &Json,
        ctx: &Arc<LazyContext>,
        origin: &Origin,
    ) -> Result<Json, TemplateError> {
        match raw {
            Json::String(text) => self.render_string_in(text, ctx, origin, true),
            Json::Array(items) => items
                .iter()
                .map(|item| self.render_json_in(item, ctx, origin))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            Json::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (key, value) in map {
                    out.insert(key.clone(), self.render_json_in(value, ctx, origin)?);
                }
                Ok(Json::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// A string as Ansible templates it: exactly one `{{ expression }}`
    /// keeps the expression's type, and so does a template whose whole
    /// output is one `{{ }}` (`{% if a %}{{ n }}{% endif %}`); any other
    /// output is text.
    fn render_string_in(
        &self,
        text: &str,
        ctx: &Arc<LazyContext>,
        origin: &Origin,
        escape: bool,
    ) -> Result<Json, TemplateError> {
        if !has_template(text) {
            return Ok(Json::String(text.to_string()));
        }
        let place = Place {
            origin,
            source: text,
            offset: 0,
            escape,
        };
        let result = if let Some(range) = self.single_expression(text) {
            let place = Place {
                offset: range.start,
                ..place
            };
            to_json(&self.eval_in(&text[range], ctx, place)?)?
        } else {
            let (rendered, native) = self.render_in(text, ctx, place)?;
            match native {
                Some(value) => to_json(&value)?,
                None => Json::String(rendered),
            }
        };
        Ok(match result {
            Json::String(rendered) => Json::String(restore_newlines(text, rendered)),
            other => other,
        })
    }

    /// What `lookup('template', ...)` makes of a file: a template rendered
    /// without Ansible's backslash escaping, which may keep its type as
    /// any other.
    pub(crate) fn render_file_in(
        &self,
        text: &str,
        ctx: &Arc<LazyContext>,
        origin: &Origin,
    ) -> Result<Json, TemplateError> {
        self.render_string_in(text, ctx, origin, false)
    }

    /// The text, and the value of the only `{{ }}` when that is all the
    /// text is.
    fn render_in(
        &self,
        text: &str,
        ctx: &Arc<LazyContext>,
        place: Place<'_>,
    ) -> Result<(String, Option<Value>), TemplateError> {
        let prepared = Prepared::new(&self.inner.env, text, false, place.escape);
        let result = with_active(ctx, || {
            compile::render(
                &self.inner.env,
                &prepared.text,
                Value::from_dyn_object(ctx.clone()),
            )
        });
        let (rendered, emissions) =
            result.map_err(|err| self.explain(&err, text, &prepared, place, ctx))?;
        settle(ctx)?;
        let native = match emissions {
            Some(Emissions {
                count: 1,
                last: Some(value),
            }) if pyrepr::emitted(&value) == rendered => Some(value),
            // Nothing written at all is `None`, as in Ansible.
            None if rendered.is_empty() => Some(Value::from(())),
            _ => None,
        };
        Ok((rendered, native))
    }

    fn eval_in(
        &self,
        expr: &str,
        ctx: &Arc<LazyContext>,
        place: Place<'_>,
    ) -> Result<Value, TemplateError> {
        let prepared = Prepared::new(&self.inner.env, expr, true, place.escape);
        let value = with_active(ctx, || {
            compile::eval(
                &self.inner.env,
                &prepared.text,
                Value::from_dyn_object(ctx.clone()),
            )
        })
        .map_err(|err| self.explain(&err, expr, &prepared, place, ctx))?;
        if value.is_undefined() {
            return Err(ctx
                .take_failure()
                .unwrap_or_else(|| self.undefined_in(expr, true, ctx, None))
                .located(Some(place.whole(expr))));
        }
        settle(ctx)?;
        Ok(value)
    }

    /// Turns a minijinja error into ours, naming the undefined variable when
    /// that is what went wrong, and pointing at where it happened.
    fn explain(
        &self,
        err: &minijinja::Error,
        compiled: &str,
        prepared: &Prepared<'_>,
        place: Place<'_>,
        ctx: &Arc<LazyContext>,
    ) -> TemplateError {
        let span = place.span(prepared, err);
        let expression = place.offset > 0 || !has_template(compiled);
        let error = if let Some(failure) = ctx.take_failure() {
            failure
        } else if err.kind() == minijinja::ErrorKind::UndefinedError {
            let failing = span.as_ref().map(|s| s.source[s.range.clone()].to_string());
            self.undefined_in(
                compiled,
                expression,
                ctx,
                failing.or_else(|| described(err)),
            )
        } else {
            TemplateError::from_minijinja(err)
        };
        error.located(span)
    }

    /// The undefined variable `source` reads, or else the undefined
    /// attribute or key. `failing` is the expression minijinja reported.
    fn undefined_in(
        &self,
        source: &str,
        expression: bool,
        ctx: &Arc<LazyContext>,
        failing: Option<String>,
    ) -> TemplateError {
        let names = if expression {
            self.inner
                .env
                .compile_expression(source)
                .map(|e| e.undeclared_variables(false))
        } else {
            self.inner
                .env
                .template_from_str(source)
                .map(|t| t.undeclared_variables(false))
        };
        let mut names: Vec<String> = names.map(|n| n.into_iter().collect()).unwrap_or_default();
        names.sort();
        // Of several, the one in the failing expression.
        names.sort_by_key(|n| {
            !failing.as_deref().is_some_and(|f| {
                f.split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|w| w == n)
            })
        });
        match names
            .into_iter()
            .find(|n| !ctx.scope.contains(n) && !self.is_global(n))
        {
            Some(name) => TemplateError::Undefined { name, at: None },
            None => TemplateError::UndefinedValue {
                expr: failing.unwrap_or_else(|| source.trim().to_string()),
                at: None,
            },
        }
    }

    /// The range of the expression inside a string that is exactly one
    /// `{{ ... }}`.
    fn single_expression(&self, text: &str) -> Option<std::ops::Range<usize>> {
        use minijinja::machinery::Token;
        let mut tokens =
            minijinja::machinery::tokenize(text, false, self.inner.env.syntax().clone());
        let (Token::VariableStart, start) = tokens.next()?.ok()? else {
            return None;
        };
        let mut end = None;
        for token in tokens {
            match token.ok()? {
                (Token::VariableEnd, span) if end.is_none() => end = Some(span),
                (_, _) if end.is_some() => return None,
                (Token::VariableStart | Token::BlockStart | Token::TemplateData(_), _) => {
                    return None
                }
                _ => {}
            }
        }
        let end = end?;
        // Jinja drops a template's last newline before anything else.
        let after = &text[(end.end_offset as usize).min(text.len())..];
        (start.start_offset == 0 && matches!(after, "" | "\n" | "\r\n"))
            .then_some(start.end_offset as usize..end.start_offset as usize)
    }
}

/// Jinja drops the last newline of a template; Ansible gives text back
/// the newlines its template ended with.
fn restore_newlines(template: &str, mut rendered: String) -> String {
    let trailing = |s: &str| s.len() - s.trim_end_matches('\n').len();
    let missing = trailing(template).saturating_sub(trailing(&rendered));
    rendered.extend(std::iter::repeat_n('\n', missing));
    rendered
}

/// The expression minijinja says is undefined ("`r.x` is undefined").
fn described(err: &minijinja::Error) -> Option<String> {
    let detail = err.detail()?;
    let start = detail.find('`')? + 1;
    let end = start + detail[start..].find("` is undefined")?;
    Some(detail[start..end].to_string())
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

/// Marks a templated variable or a looked-up template as being rendered
/// until the guard drops; fails when that nests deeper than allowed.
pub(crate) fn enter(nesting: Nesting, name: &str) -> Result<Nested, TemplateError> {
    let limit = match nesting {
        Nesting::TemplateLookups => TEMPLATE_LOOKUP_LIMIT,
        Nesting::Variables => VARIABLE_NESTING_LIMIT,
    };
    NESTED.with(|n| {
        let mut nested = n.borrow_mut();
        nested.push((nesting, name.to_string()));
        let chain: Vec<String> = nested
            .iter()
            .filter(|(kind, _)| *kind == nesting)
            .map(|(_, name)| name.clone())
            .collect();
        if chain.len() > limit {
            nested.pop();
            let mut chain = collapse_chain(&chain);
            if chain.len() > 12 {
                // No repeat to show: the ends tell where to look.
                chain.splice(6..chain.len() - 4, ["...".to_string()]);
            }
            return Err(TemplateError::TooDeep {
                nesting,
                limit,
                chain,
            });
        }
        Ok(Nested(()))
    })
}

/// See [`enter`].
pub(crate) struct Nested(());

impl Drop for Nested {
    fn drop(&mut self) {
        NESTED.with(|n| n.borrow_mut().pop());
    }
}

pub(crate) fn has_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

fn to_json(value: &Value) -> Result<Json, TemplateError> {
    serde_json::to_value(value)
        .map_err(|e| TemplateError::render(format!("value cannot be converted: {e}")))
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
    use crate::{Layer, Origin};
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

    fn undefined_name(err: TemplateError) -> String {
        match err {
            TemplateError::Undefined { name, .. } => name,
            other => panic!("not an undefined variable: {other:?}"),
        }
    }

    #[test]
    fn undefined_names_the_variable() {
        let s = scope(json!({"a": 1}), false);
        let err = engine()
            .render(&json!("x {{ missing }} y"), &s)
            .unwrap_err();
        let span = err.span().expect("a place").clone();
        assert_eq!(undefined_name(err), "missing");
        assert_eq!(&span.source[span.range.clone()], "missing");
        let err = engine()
            .render(&json!("{{ missing.attr }}"), &s)
            .unwrap_err();
        assert_eq!(undefined_name(err), "missing");
        let err = engine()
            .render(
                &json!("{{ other }}"),
                &scope(json!({"other": "{{ gone }}"}), true),
            )
            .unwrap_err();
        let span = err.span().expect("a place").clone();
        assert_eq!(undefined_name(err), "gone");
        assert_eq!(span.origin, Origin::Variable("other".into()));
        assert_eq!(&*span.source, "{{ gone }}");
    }

    #[test]
    fn an_undefined_attribute_is_not_an_undefined_variable() {
        let s = scope(json!({"r": {"a": 1}, "l": [1]}), false);
        for (source, expr) in [
            ("{{ r.b }}", "r.b"),
            ("x {{ r.a }} {{ r['b'] }}", "r['b']"),
            ("{{ l[3] }}", "l[3]"),
        ] {
            match engine().render(&json!(source), &s).unwrap_err() {
                TemplateError::UndefinedValue { expr: got, at } => {
                    let at = at.expect("a place");
                    assert_eq!(got, expr, "{source}");
                    assert_eq!(&at.source[at.range.clone()], expr, "{source}");
                }
                other => panic!("{source}: {other:?}"),
            }
        }
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

    #[test]
    fn a_long_chain_of_templated_variables_is_bounded() {
        let mut vars = serde_json::Map::new();
        for i in 0..200 {
            vars.insert(format!("v{i}"), json!(format!("{{{{ v{} }}}}", i + 1)));
        }
        vars.insert("v200".into(), json!("end"));
        let s = scope(Json::Object(vars), true);
        match engine().render(&json!("{{ v0 }}"), &s).unwrap_err() {
            TemplateError::TooDeep {
                nesting,
                limit,
                chain,
            } => {
                assert_eq!(nesting, crate::Nesting::Variables);
                assert_eq!(limit, VARIABLE_NESTING_LIMIT);
                assert_eq!(chain.first().map(String::as_str), Some("v0"));
                assert!(chain.contains(&"...".to_string()), "{chain:?}");
            }
            other => panic!("{other:?}"),
        }
        // Within the bound, the chain resolves.
        let mut vars = serde_json::Map::new();
        for i in 0..VARIABLE_NESTING_LIMIT - 1 {
            vars.insert(format!("v{i}"), json!(format!("{{{{ v{} }}}}", i + 1)));
        }
        vars.insert(format!("v{}", VARIABLE_NESTING_LIMIT - 1), json!("end"));
        let s = scope(Json::Object(vars), true);
        assert_eq!(
            engine().render(&json!("{{ v0 }}"), &s).unwrap(),
            json!("end")
        );
    }

    #[test]
    fn running_out_of_fuel_says_so() {
        let err = engine()
            .render(
                &json!("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
                &Scope::new(),
            )
            .unwrap_err();
        assert!(
            matches!(err, TemplateError::TooMuchWork { limit: FUEL, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("the template did too much work (more than {FUEL} steps): a runaway loop?")
        );
    }

    #[test]
    fn ordering_different_types_fails_as_in_python() {
        let s = scope(json!({"count": "1", "n": 5, "items": [1, 2]}), false);
        let e = engine();
        let err = e.eval_condition(&json!("count > 20"), &s).unwrap_err();
        let TemplateError::Render { message, at } = &err else {
            panic!("{err:?}")
        };
        assert!(
            message.starts_with("'>' not supported between instances of 'str' and 'int'"),
            "{message}"
        );
        let at = at.as_ref().expect("a place");
        assert_eq!(&at.source[at.range.clone()], "count > 20");
        assert_eq!(at.caret(), "count > 20\n^^^^^^^^^^");
        // In a template, the caret points into the template.
        let err = e.render(&json!("n={{ n >= count }}"), &s).unwrap_err();
        let at = err.span().expect("a place");
        assert_eq!(&at.source[at.range.clone()], "n >= count");
        // Chained, in a loop, in a macro: every form of comparison.
        for (source, ok) in [
            ("{{ 1 < n < 10 }}", Some(json!(true))),
            ("{{ 1 < n < count }}", None),
            ("{{ 10 < n < count }}", Some(json!(false))),
            (
                "{% for i in items if i > 1 %}{{ i }}{% endfor %}",
                Some(json!(2)),
            ),
            ("{% for i in items if i > count %}{{ i }}{% endfor %}", None),
            (
                "{% macro m(x) %}{{ x > 1 }}{% endmacro %}{{ m(n) }}",
                Some(json!("True")),
            ),
            (
                "{% macro m(x) %}{{ x > 1 }}{% endmacro %}{{ m(count) }}",
                None,
            ),
            ("{{ n == count }}", Some(json!(false))),
            ("{{ [1, n] < [1, 6] }}", Some(json!(true))),
            ("{{ items < [1, count] }}", None),
        ] {
            match (e.render(&json!(source), &s), ok) {
                (Ok(got), Some(want)) => assert_eq!(got, want, "{source}"),
                (Err(TemplateError::Render { message, .. }), None) => {
                    assert!(
                        message.contains("not supported between"),
                        "{source}: {message}"
                    )
                }
                (got, _) => panic!("{source}: {got:?}"),
            }
        }
    }
}
