//! `lookup(...)` and `query(...)`: the lookups a playbook may use. Reading
//! the environment and files under the playbook is fine; running commands or
//! reaching the network (`pipe`, `url`, ...) is refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use crate::engine::{active_context, enter};
use crate::error::{Nesting, Origin, Unknown};
use crate::scope::LazyContext;
use crate::TemplateError;

/// The lookups runbook has (each also as `ansible.builtin.NAME`).
pub const SUPPORTED: &[&str] = &[
    "env",
    "file",
    "template",
    "vars",
    "items",
    "list",
    "dict",
    "indexed_items",
    "sequence",
];

/// Lookups Ansible has that run commands, reach the network or write
/// files: a playbook that uses them is refused, not half run.
pub const REFUSED: &[&str] = &["pipe", "lines", "url", "password"];

/// Whether `name` (as written, `ansible.builtin.` or not) is a lookup
/// runbook has; `Err` says why not.
pub fn check(name: &str) -> Result<(), Unknown> {
    let short = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    if SUPPORTED.contains(&short) {
        Ok(())
    } else if REFUSED.contains(&short) {
        Err(Unknown::RefusedLookup)
    } else {
        Err(Unknown::Lookup)
    }
}

pub(crate) fn register(env: &mut Environment<'static>, base_dir: PathBuf) {
    let dir = base_dir.clone();
    env.add_function(
        "lookup",
        move |name: String, terms: Rest<Value>, kwargs: Kwargs| -> Result<Value, Error> {
            let wantlist: Option<bool> = kwargs.get("wantlist")?;
            let wantlist = wantlist.unwrap_or(false);
            let values = match run(&dir, &name, &terms, kwargs)? {
                Some(values) => values,
                None if wantlist => return Ok(Value::from(Vec::<Value>::new())),
                None => return Ok(Value::from(())),
            };
            if wantlist {
                return Ok(Value::from(values));
            }
            // As Ansible: one result is itself, several strings are joined
            // with commas, anything else stays a list.
            Ok(match values.len() {
                1 => values.into_iter().next().expect("one value"),
                n if n > 1 && values.iter().all(|v| v.kind() == ValueKind::String) => Value::from(
                    values
                        .iter()
                        .map(|v| v.as_str().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                _ => Value::from(values),
            })
        },
    );
    // `query` (and `q`) is `lookup` that always returns a list.
    for name in ["query", "q"] {
        let dir = base_dir.clone();
        env.add_function(
            name,
            move |name: String, terms: Rest<Value>, kwargs: Kwargs| -> Result<Value, Error> {
                Ok(Value::from(
                    run(&dir, &name, &terms, kwargs)?.unwrap_or_default(),
                ))
            },
        );
    }
}

fn failure(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// Runs a lookup; `None` when it failed and `errors='ignore'` (or `'warn'`)
/// says to go on without it.
fn run(
    base_dir: &Path,
    name: &str,
    terms: &[Value],
    kwargs: Kwargs,
) -> Result<Option<Vec<Value>>, Error> {
    let errors: Option<String> = kwargs.get("errors")?;
    let _: Option<bool> = kwargs.get("wantlist")?;
    let errors = errors.unwrap_or_else(|| "strict".into());
    if !matches!(errors.as_str(), "strict" | "warn" | "ignore") {
        return Err(failure(format!(
            "lookup: errors must be strict, warn or ignore, not `{errors}`"
        )));
    }
    if let Err(kind) = check(name) {
        let err = TemplateError::Unknown {
            kind,
            name: name.to_string(),
            at: None,
        };
        return Err(match active_context() {
            Some(ctx) => pass_on(&ctx, err),
            None => failure(err.to_string()),
        });
    }
    let short = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    let ctx = active_context();
    let failed_before = ctx.as_ref().is_none_or(|c| c.has_failure());
    match lookup(base_dir, short, terms, kwargs) {
        Ok(values) => Ok(Some(values)),
        // A lookup's failure (not an undefined variable) that `errors`
        // says to go on without: forget it, also where it was kept for
        // the render to report.
        Err(err) if errors != "strict" && err.kind() == ErrorKind::InvalidOperation => {
            if let Some(ctx) = ctx.filter(|_| !failed_before) {
                ctx.take_failure();
            }
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

fn strings(terms: &[Value], plugin: &str) -> Result<Vec<String>, Error> {
    terms
        .iter()
        .map(|term| match term.as_str() {
            Some(text) => Ok(text.to_string()),
            None if term.is_undefined() => Err(Error::new(
                ErrorKind::UndefinedError,
                format!("lookup('{plugin}') got an undefined term"),
            )),
            None => Err(failure(format!(
                "lookup('{plugin}') takes strings, got {} `{term}`",
                crate::compare::python_type(term)
            ))),
        })
        .collect()
}

fn context(plugin: &str) -> Result<Arc<LazyContext>, Error> {
    active_context().ok_or_else(|| failure(format!("lookup('{plugin}') used outside a render")))
}

/// Hands a template error over to the render that called the lookup, which
/// reports it as it is.
fn pass_on(ctx: &LazyContext, err: TemplateError) -> Error {
    let message = err.to_string();
    ctx.record(err);
    Error::new(ErrorKind::InvalidOperation, message)
}

/// Terms with lists opened one level, as `items` and `indexed_items` do.
fn flattened(terms: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for term in terms {
        match term.kind() {
            ValueKind::Seq | ValueKind::Iterable => {
                out.extend(term.try_iter().into_iter().flatten())
            }
            _ => out.push(term.clone()),
        }
    }
    out
}

fn lookup(
    base_dir: &Path,
    name: &str,
    terms: &[Value],
    kwargs: Kwargs,
) -> Result<Vec<Value>, Error> {
    let values = match name {
        "env" => {
            let default: Option<String> = kwargs.get("default")?;
            kwargs.assert_all_used()?;
            strings(terms, name)?
                .iter()
                .map(|var| {
                    Value::from(
                        std::env::var(var)
                            .ok()
                            .or_else(|| default.clone())
                            .unwrap_or_default(),
                    )
                })
                .collect()
        }
        "file" => {
            let rstrip: Option<bool> = kwargs.get("rstrip")?;
            let lstrip: Option<bool> = kwargs.get("lstrip")?;
            kwargs.assert_all_used()?;
            let mut out = Vec::new();
            for term in strings(terms, name)? {
                let mut text = read(base_dir, &term, "file")?;
                if rstrip.unwrap_or(true) {
                    text.truncate(text.trim_end().len());
                }
                if lstrip.unwrap_or(false) {
                    text = text.trim_start().to_string();
                }
                out.push(Value::from(text));
            }
            out
        }
        "template" => {
            kwargs.assert_all_used()?;
            let ctx = context(name)?;
            let mut out = Vec::new();
            for term in strings(terms, name)? {
                let nested =
                    enter(Nesting::TemplateLookups, &term).map_err(|e| pass_on(&ctx, e))?;
                let source = read(base_dir, &term, "template")?;
                let rendered = ctx
                    .engine
                    .render_file_in(&source, &ctx, &Origin::File(term.clone()))
                    .map_err(|e| pass_on(&ctx, e))?;
                drop(nested);
                out.push(crate::value_of(rendered));
            }
            out
        }
        "vars" => {
            let default: Option<Value> = kwargs.get("default")?;
            kwargs.assert_all_used()?;
            let ctx = context(name)?;
            let mut out = Vec::new();
            for term in strings(terms, name)? {
                let failed_before = ctx.has_failure();
                match ctx.resolve(&term) {
                    Some(value) => out.push(value),
                    None => {
                        // The variable is there but failed to render.
                        if !failed_before && ctx.has_failure() {
                            let err = ctx.take_failure().expect("a failure was kept");
                            return Err(pass_on(&ctx, err));
                        }
                        match &default {
                            Some(default) => out.push(default.clone()),
                            None => {
                                return Err(Error::new(
                                    ErrorKind::UndefinedError,
                                    format!("No variable named '{term}' was found."),
                                ))
                            }
                        }
                    }
                }
            }
            out
        }
        "items" => {
            kwargs.assert_all_used()?;
            flattened(terms)
        }
        "list" => {
            kwargs.assert_all_used()?;
            terms.to_vec()
        }
        "indexed_items" => {
            kwargs.assert_all_used()?;
            flattened(terms)
                .into_iter()
                .enumerate()
                .map(|(i, item)| Value::from(vec![Value::from(i), item]))
                .collect()
        }
        "dict" => {
            kwargs.assert_all_used()?;
            let mut out = Vec::new();
            for term in terms {
                if term.kind() != ValueKind::Map {
                    return Err(failure(format!(
                        "the 'dict' lookup plugin expects a dictionary, got {} `{term}`",
                        crate::compare::python_type(term)
                    )));
                }
                for key in term.try_iter()? {
                    let value = term.get_item(&key)?;
                    out.push(Value::from_pairs([("key", key), ("value", value)]));
                }
            }
            out
        }
        "sequence" => sequence(terms, kwargs)?,
        other => unreachable!("lookup `{other}` passed the check"),
    };
    Ok(values)
}

fn read(base_dir: &Path, term: &str, plugin: &str) -> Result<String, Error> {
    let search: Vec<PathBuf> = active_context()
        .map(|ctx| ctx.scope.search().to_vec())
        .filter(|dirs| !dirs.is_empty())
        .unwrap_or_else(|| vec![base_dir.to_path_buf()]);
    let sub = if plugin == "template" {
        "templates"
    } else {
        "files"
    };
    let candidates = candidates(&search, sub, term);
    let path = candidates
        .iter()
        .find(|p| p.is_file())
        .unwrap_or(&candidates[candidates.len() - 1]);
    std::fs::read_to_string(path).map_err(|e| {
        failure(format!(
            "lookup('{plugin}'): cannot read `{term}` (looked at {}): {e}",
            candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// Where a relative lookup term may be, in Ansible's order: for each
/// search directory (a role's, then the playbook's), its `files/` (or
/// `templates/`) subdirectory, then the directory itself.
pub fn candidates(search: &[PathBuf], sub: &str, term: &str) -> Vec<PathBuf> {
    let path = Path::new(term);
    if path.is_absolute() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    for dir in search {
        out.push(dir.join(sub).join(path));
        out.push(dir.join(path));
    }
    if out.is_empty() {
        out.push(path.to_path_buf());
    }
    out
}

/// Relative paths are found from the playbook's directory, as Ansible does,
/// so a playbook works from any current directory.
pub fn resolve(base_dir: &Path, term: &str) -> PathBuf {
    let path = Path::new(term);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base_dir.join(path)
    }
}

/// The options of one `sequence` term.
#[derive(Clone)]
struct Sequence {
    start: i64,
    end: Option<i64>,
    count: Option<i64>,
    stride: i64,
    format: String,
}

/// `sequence`: `start=1 end=5 stride=1 format=%d` (or `count=` instead of
/// `end=`), or the short form `[start-]end[/stride][:format]`.
fn sequence(terms: &[Value], kwargs: Kwargs) -> Result<Vec<Value>, Error> {
    let mut defaults = Sequence {
        start: 1,
        end: None,
        count: None,
        stride: 1,
        format: "%d".into(),
    };
    for key in ["start", "end", "count", "stride", "format"] {
        let value: Option<Value> = kwargs.get(key)?;
        if let Some(value) = value {
            set_field(&mut defaults, key, &value.to_string())?;
        }
    }
    kwargs.assert_all_used()?;
    let mut terms = strings(terms, "sequence")?;
    if terms.is_empty() {
        terms.push(String::new());
    }
    let mut out = Vec::new();
    for term in terms {
        let mut seq = defaults.clone();
        if !short_sequence(&term, &mut seq)? {
            for pair in term.split_whitespace() {
                let Some((key, value)) = pair.split_once('=') else {
                    return Err(failure(format!(
                        "unrecognized arguments to with_sequence: `{pair}`"
                    )));
                };
                set_field(&mut seq, key, value)?;
            }
        }
        let end = match (seq.end, seq.count) {
            (None, None) => {
                return Err(failure("must specify count or end in with_sequence".into()))
            }
            (Some(_), Some(_)) => {
                return Err(failure(
                    "can't specify both count and end in with_sequence".into(),
                ))
            }
            (_, Some(0)) => continue,
            (_, Some(count)) => seq.start + count * seq.stride - 1,
            (Some(end), None) => end,
        };
        if seq.stride > 0 && end < seq.start {
            return Err(failure("to count backwards make stride negative".into()));
        }
        if seq.stride < 0 && end > seq.start {
            return Err(failure(
                "to count forward don't make stride negative".into(),
            ));
        }
        if seq.stride == 0 {
            continue;
        }
        if seq.format.matches('%').count() != 1 {
            return Err(failure(format!("bad formatting string: {}", seq.format)));
        }
        let mut i = seq.start;
        while (seq.stride > 0 && i <= end) || (seq.stride < 0 && i >= end) {
            out.push(Value::from(printf(&seq.format, i)?));
            i += seq.stride;
        }
    }
    Ok(out)
}

fn set_field(seq: &mut Sequence, key: &str, value: &str) -> Result<(), Error> {
    let number = || {
        value.trim().parse::<i64>().map_err(|_| {
            failure(format!(
                "sequence: `{key}` must be an integer, got `{value}`"
            ))
        })
    };
    match key {
        "start" => seq.start = number()?,
        "end" => seq.end = Some(number()?),
        "count" => seq.count = Some(number()?),
        "stride" => seq.stride = number()?,
        "format" => seq.format = value.to_string(),
        other => {
            return Err(failure(format!(
                "unrecognized arguments to with_sequence: `{other}`"
            )))
        }
    }
    Ok(())
}

/// The short form `[start-]end[/stride][:format]`; false if `term` is not
/// in it.
fn short_sequence(term: &str, seq: &mut Sequence) -> Result<bool, Error> {
    let (numbers, format) = match term.split_once(':') {
        Some((numbers, format)) => (numbers, Some(format)),
        None => (term, None),
    };
    let (range, stride) = match numbers.split_once('/') {
        Some((range, stride)) => (range, Some(stride)),
        None => (numbers, None),
    };
    let (start, end) = match range.split_once('-') {
        Some((start, end)) => (Some(start), end),
        None => (None, range),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(end) || !start.is_none_or(digits) || !stride.is_none_or(digits) {
        return Ok(false);
    }
    if let Some(start) = start {
        set_field(seq, "start", start)?;
    }
    set_field(seq, "end", end)?;
    if let Some(stride) = stride {
        set_field(seq, "stride", stride)?;
    }
    if let Some(format) = format {
        seq.format = format.to_string();
    }
    Ok(true)
}

/// Python's `format % number` for one `%[0][width](d|i|u|x|X|o|s)`.
fn printf(format: &str, number: i64) -> Result<String, Error> {
    let bad = || failure(format!("problem formatting {number} with `{format}`"));
    let at = format.find('%').ok_or_else(bad)?;
    let rest = &format[at + 1..];
    let zero = rest.starts_with('0');
    let width_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let width: usize = rest[..width_len].parse().unwrap_or(0);
    let conversion = rest[width_len..].chars().next().ok_or_else(bad)?;
    let digits = match conversion {
        'd' | 'i' | 'u' | 's' => number.to_string(),
        'x' => format!("{number:x}"),
        'X' => format!("{number:X}"),
        'o' => format!("{number:o}"),
        _ => return Err(bad()),
    };
    let padded = if zero && matches!(conversion, 'd' | 'i' | 'u') {
        format!("{number:0width$}")
    } else if zero && conversion != 's' {
        format!("{digits:0>width$}")
    } else {
        format!("{digits:>width$}")
    };
    Ok(format!(
        "{}{padded}{}",
        &format[..at],
        &rest[width_len + conversion.len_utf8()..]
    ))
}

#[cfg(test)]
mod tests {
    use crate::{Engine, Layer, Scope, TemplateError};
    use serde_json::json;

    #[test]
    fn file_and_template_lookups_read_from_the_base_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "hello\n\n").unwrap();
        std::fs::write(dir.path().join("t.j2"), "name={{ who }}").unwrap();
        let mut scope = Scope::new();
        scope.push_lower(Layer::concrete(
            [("who".to_string(), json!("x"))].into_iter().collect(),
        ));
        let engine = Engine::new(dir.path());
        assert_eq!(
            engine
                .render(&json!("{{ lookup('file', 'a.txt') }}"), &scope)
                .unwrap(),
            json!("hello")
        );
        assert_eq!(
            engine
                .render(&json!("{{ lookup('template', 't.j2') }}"), &scope)
                .unwrap(),
            json!("name=x")
        );
        let err = engine
            .render(&json!("{{ lookup('file', 'nope.txt') }}"), &scope)
            .unwrap_err();
        let TemplateError::Render { message, .. } = err else {
            panic!("{err:?}")
        };
        assert!(message.contains("cannot read `nope.txt`"), "{message}");
    }

    #[test]
    fn query_returns_lists() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "A").unwrap();
        std::fs::write(dir.path().join("b.txt"), "B").unwrap();
        let engine = Engine::new(dir.path());
        let scope = Scope::new();
        assert_eq!(
            engine
                .render(&json!("{{ query('file', 'a.txt', 'b.txt') }}"), &scope)
                .unwrap(),
            json!(["A", "B"])
        );
        assert_eq!(
            engine
                .render(&json!("{{ lookup('file', 'a.txt', 'b.txt') }}"), &scope)
                .unwrap(),
            json!("A,B")
        );
        assert_eq!(
            engine
                .render(
                    &json!("{{ lookup('file', 'a.txt', wantlist=True) }}"),
                    &scope
                )
                .unwrap(),
            json!(["A"])
        );
    }

    #[test]
    fn env_lookup_and_unknown_plugin() {
        let engine = Engine::new(std::path::Path::new("."));
        let scope = Scope::new();
        assert_eq!(
            engine
                .render(
                    &json!("{{ lookup('env', 'RUNBOOK_SURELY_UNSET_VAR') }}"),
                    &scope
                )
                .unwrap(),
            json!("")
        );
        let err = engine
            .render(&json!("{{ lookup('pipe', 'ls') }}"), &scope)
            .unwrap_err();
        assert!(
            matches!(
                &err,
                TemplateError::Unknown {
                    kind: crate::Unknown::RefusedLookup,
                    name,
                    ..
                } if name == "pipe"
            ),
            "{err}"
        );
    }

    fn lookup_error(dir: &std::path::Path, source: &str) -> TemplateError {
        Engine::new(dir)
            .render(&json!(source), &Scope::new())
            .unwrap_err()
    }

    #[test]
    fn a_template_that_looks_itself_up_fails_naming_the_loop() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("self.j2"),
            "x{{ lookup('template', 'self.j2') }}",
        )
        .unwrap();
        std::fs::write(dir.path().join("a.j2"), "{{ lookup('template', 'b.j2') }}").unwrap();
        std::fs::write(
            dir.path().join("b.j2"),
            "{% if true %}{{ lookup('template', 'a.j2') }}{% endif %}",
        )
        .unwrap();
        let err = lookup_error(dir.path(), "{{ lookup('template', 'self.j2') }}");
        assert_eq!(
            err,
            TemplateError::TooDeep {
                nesting: crate::Nesting::TemplateLookups,
                limit: crate::TEMPLATE_LOOKUP_LIMIT,
                chain: vec!["self.j2".into(), "self.j2".into(), "...".into()],
            }
        );
        assert_eq!(
            err.to_string(),
            "template lookups nest more than 20 deep: self.j2 -> self.j2 -> ..."
        );
        let err = lookup_error(dir.path(), "text {{ lookup('template', 'a.j2') | upper }}");
        assert!(
            err.to_string().ends_with("a.j2 -> b.j2 -> a.j2 -> ..."),
            "{err}"
        );
        // Bounded, not forbidden: a template may look another up twice.
        std::fs::write(
            dir.path().join("twice.j2"),
            "{{ lookup('template', 't.j2') }}{{ lookup('template', 't.j2') }}",
        )
        .unwrap();
        std::fs::write(dir.path().join("t.j2"), "t").unwrap();
        // A looked-up template keeps its type, as any template does.
        std::fs::write(dir.path().join("n.j2"), "{{ 5 }}\n").unwrap();
        assert_eq!(
            Engine::new(dir.path())
                .render(
                    &json!("{{ lookup('template', 'n.j2') + 1 }}"),
                    &Scope::new()
                )
                .unwrap(),
            json!(6)
        );
        assert_eq!(
            Engine::new(dir.path())
                .render(
                    &json!("{{ lookup('template', 'twice.j2') }}"),
                    &Scope::new()
                )
                .unwrap(),
            json!("tt")
        );
    }

    #[test]
    fn an_error_in_a_looked_up_template_points_into_that_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.j2"), "line one\n{{ missing }}\n").unwrap();
        let err = lookup_error(dir.path(), "{{ lookup('template', 't.j2') }}");
        let span = err.span().expect("a place").clone();
        assert!(
            matches!(&err, TemplateError::Undefined { name, .. } if name == "missing"),
            "{err:?}"
        );
        assert_eq!(span.origin, crate::Origin::File("t.j2".into()));
        assert_eq!((span.line, span.column), (2, 4));
    }

    #[test]
    fn variable_lookups_and_list_lookups() {
        let mut scope = Scope::new();
        scope.push_lower(Layer::templated(
            [
                ("a".to_string(), json!("{{ b }}!")),
                ("b".to_string(), json!("B")),
                ("loop".to_string(), json!("{{ lookup('vars', 'loop') }}")),
            ]
            .into_iter()
            .collect(),
        ));
        let engine = Engine::new(std::path::Path::new("."));
        let render = |s: &str| engine.render(&json!(s), &scope);
        assert_eq!(render("{{ lookup('vars', 'a') }}").unwrap(), json!("B!"));
        assert_eq!(
            render("{{ query('vars', 'a', 'b') }}").unwrap(),
            json!(["B!", "B"])
        );
        assert!(matches!(
            render("{{ lookup('vars', 'loop') }}").unwrap_err(),
            TemplateError::Recursive { .. }
        ));
        assert_eq!(
            render("{{ lookup('pipe', 'x', errors='ignore') }}").ok(),
            None
        );
        assert_eq!(
            render("{{ lookup('file', 'surely/missing', errors='ignore') }}").unwrap(),
            json!(null)
        );
        assert_eq!(
            render("{{ query('file', 'surely/missing', errors='warn') }}").unwrap(),
            json!([])
        );
        // A guarded failure earlier in the render is not the lookup's.
        let mut scope = Scope::new();
        scope.push_lower(Layer::templated(
            [("y".to_string(), json!("{{ gone }}"))]
                .into_iter()
                .collect(),
        ));
        assert_eq!(
            engine
                .render(
                    &json!("{{ y | default(1) }}-{{ lookup('vars', 'z', default='d') }}"),
                    &scope
                )
                .unwrap(),
            json!("1-d")
        );
        assert_eq!(
            engine
                .render(
                    &json!("{{ lookup('template', 'surely/missing.j2', errors='ignore') }}"),
                    &scope
                )
                .unwrap(),
            json!(null)
        );
    }

    #[test]
    fn both_nesting_limits_at_once_fit_a_worker_thread_stack() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("self.j2"),
            "{{ lookup('template', 'self.j2') }}",
        )
        .unwrap();
        let mut vars = indexmap::IndexMap::new();
        for i in 0..crate::VARIABLE_NESTING_LIMIT - 1 {
            vars.insert(format!("v{i}"), json!(format!("{{{{ v{} }}}}", i + 1)));
        }
        vars.insert(
            format!("v{}", crate::VARIABLE_NESTING_LIMIT - 1),
            json!("{{ lookup('template', 'self.j2') }}"),
        );
        let mut scope = Scope::new();
        scope.push_lower(Layer::templated(vars));
        let engine = Engine::new(dir.path());
        // A Tokio worker thread's default stack.
        let err = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || engine.render(&json!("{{ v0 }}"), &scope).unwrap_err())
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert!(
            matches!(
                err,
                TemplateError::TooDeep {
                    nesting: crate::Nesting::TemplateLookups,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
