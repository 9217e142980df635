//! `lookup('env' | 'file' | 'template', ...)`: the only ways a template may
//! reach outside itself.

use std::path::{Path, PathBuf};

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error, ErrorKind};

use crate::engine::active_context;

pub(crate) fn register(env: &mut Environment<'static>, base_dir: PathBuf) {
    let dir = base_dir.clone();
    env.add_function(
        "lookup",
        move |name: String, terms: Rest<String>, kwargs: Kwargs| -> Result<Value, Error> {
            let wantlist: Option<bool> = kwargs.get("wantlist")?;
            let values = lookup(&dir, &name, &terms, kwargs)?;
            Ok(if wantlist.unwrap_or(false) {
                Value::from(values)
            } else {
                // Ansible joins several results with commas.
                Value::from(values.join(","))
            })
        },
    );
    // `query` (and `q`) is `lookup` that always returns a list.
    for name in ["query", "q"] {
        let dir = base_dir.clone();
        env.add_function(
            name,
            move |name: String, terms: Rest<String>, kwargs: Kwargs| -> Result<Value, Error> {
                Ok(Value::from(lookup(&dir, &name, &terms, kwargs)?))
            },
        );
    }
}

fn failure(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

fn lookup(
    base_dir: &Path,
    name: &str,
    terms: &[String],
    kwargs: Kwargs,
) -> Result<Vec<String>, Error> {
    let values = match name {
        "env" | "ansible.builtin.env" => {
            let default: Option<String> = kwargs.get("default")?;
            kwargs.assert_all_used()?;
            terms
                .iter()
                .map(|var| {
                    std::env::var(var)
                        .ok()
                        .or_else(|| default.clone())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
        }
        "file" | "ansible.builtin.file" => {
            let rstrip: Option<bool> = kwargs.get("rstrip")?;
            let lstrip: Option<bool> = kwargs.get("lstrip")?;
            kwargs.assert_all_used()?;
            let mut out = Vec::new();
            for term in terms {
                let mut text = read(base_dir, term, "file")?;
                if rstrip.unwrap_or(true) {
                    text.truncate(text.trim_end().len());
                }
                if lstrip.unwrap_or(false) {
                    text = text.trim_start().to_string();
                }
                out.push(text);
            }
            out
        }
        "template" | "ansible.builtin.template" => {
            kwargs.assert_all_used()?;
            let ctx = active_context()
                .ok_or_else(|| failure("lookup('template') used outside a render".into()))?;
            let mut out = Vec::new();
            for term in terms {
                let source = read(base_dir, term, "template")?;
                let rendered = ctx
                    .engine
                    .env()
                    .render_str(&source, Value::from_dyn_object(ctx.clone()))
                    .map_err(|e| failure(format!("lookup('template', '{term}'): {e}")))?;
                out.push(rendered);
            }
            out
        }
        other => {
            return Err(failure(format!(
                "lookup plugin `{other}` is not supported (runbook has env, file and template)"
            )))
        }
    };
    Ok(values)
}

fn read(base_dir: &Path, term: &str, plugin: &str) -> Result<String, Error> {
    let path = resolve(base_dir, term);
    std::fs::read_to_string(&path).map_err(|e| {
        failure(format!(
            "lookup('{plugin}'): cannot read `{term}` (looked at {}): {e}",
            path.display()
        ))
    })
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
        let TemplateError::Render { message } = err else {
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
            err.to_string()
                .contains("lookup plugin `pipe` is not supported"),
            "{err}"
        );
    }
}
