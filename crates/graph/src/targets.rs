//! What an AWS task targets (account, region, stack, template), worked out
//! before running from values that do not depend on other tasks' results.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_playbook::{Arg, ErrorKind, Json, Location, ModuleKind, PlaybookError, Task};
use runbook_template::{Engine, Scope, TemplateError};
use runbook_yaml::Span;

/// The account a task talks to, as far as names tell before running: the
/// profile, region and endpoint. Two keys that differ may still be one
/// account; `apply` learns the real account ids during preflight.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountKey {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

impl fmt::Display for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.profile {
            Some(p) => write!(f, "profile {p}")?,
            None => write!(f, "default credentials")?,
        }
        if let Some(r) = &self.region {
            write!(f, ", {r}")?;
        }
        if let Some(e) = &self.endpoint_url {
            write!(f, ", {e}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct StaticTarget {
    /// `None` when the profile, region or endpoint depends on another
    /// task's result.
    pub account: Option<AccountKey>,
    pub stack_name: Option<String>,
    pub state_absent: bool,
    pub template: Option<Arc<runbook_cfn::Template>>,
    /// Template parameter values known before running, as CloudFormation
    /// will receive them.
    pub parameters: IndexMap<String, String>,
}

/// Renders a value now if it does not depend on any task's result.
/// Errors other than "not known yet" are reported.
fn render_now(
    engine: &Engine,
    scope: &Scope,
    arg: &Arg,
    task: &Task,
    errors: &mut Vec<PlaybookError>,
) -> Option<Json> {
    match engine.render(&arg.value, scope) {
        Ok(value) => Some(value),
        // Unknown until another task has run, or undefined (reported by the
        // variable check with a better message).
        Err(TemplateError::Undefined { .. }) | Err(TemplateError::Recursive { .. }) => None,
        Err(TemplateError::Render { message }) if message.starts_with("undefined value") => None,
        Err(err) => {
            errors.push(
                PlaybookError::new(ErrorKind::Template, err.to_string())
                    .at(arg.location.clone())
                    .in_task(task.display_name()),
            );
            None
        }
    }
}

fn text(value: Option<Json>) -> Option<Option<String>> {
    match value {
        None => None,
        Some(Json::Null) => Some(None),
        Some(Json::String(s)) if s == runbook_template::OMIT => Some(None),
        Some(Json::String(s)) => Some(Some(s)),
        Some(other) => Some(Some(other.to_string())),
    }
}

pub fn analyse(
    engine: &Engine,
    scope: &Scope,
    task: &Task,
    errors: &mut Vec<PlaybookError>,
    warnings: &mut Vec<PlaybookError>,
) -> Option<StaticTarget> {
    if !task.module.aws {
        return None;
    }
    let mut field = |name: &str| -> Option<Option<String>> {
        match task.arg(name) {
            None => Some(None),
            Some(arg) => text(render_now(engine, scope, arg, task, errors)),
        }
    };
    let account = match (field("profile"), field("region"), field("endpoint_url")) {
        (Some(profile), Some(region), Some(endpoint_url)) => Some(AccountKey {
            profile,
            region,
            endpoint_url,
        }),
        _ => None,
    };
    let mut target = StaticTarget {
        account,
        ..StaticTarget::default()
    };
    if !matches!(
        task.module.kind,
        ModuleKind::CloudFormation | ModuleKind::CloudFormationInfo
    ) {
        return Some(target);
    }
    target.stack_name = field("stack_name").flatten();
    if task.module.kind == ModuleKind::CloudFormationInfo {
        return Some(target);
    }
    target.state_absent = field("state").flatten().as_deref() == Some("absent");
    if let Some(Json::Object(params)) = task
        .arg("template_parameters")
        .and_then(|arg| render_now(engine, scope, arg, task, errors))
    {
        for (key, value) in params {
            if let Some(value) = runbook_cfn::parameter_value(&value) {
                target.parameters.insert(key, value);
            }
        }
    } else if let Some(Json::Object(raw)) = task.arg("template_parameters").map(|a| &a.value) {
        // Some values depend on other tasks: keep the ones known now.
        for (key, value) in raw {
            let arg = Arg {
                value: value.clone(),
                location: task
                    .arg("template_parameters")
                    .map(|a| a.location.clone())?,
            };
            if let Ok(value) = engine.render(&arg.value, scope) {
                if let Some(value) = runbook_cfn::parameter_value(&value) {
                    target.parameters.insert(key.clone(), value);
                }
            }
        }
    }
    target.template = read_template(engine, scope, task, errors, warnings);
    Some(target)
}

fn read_template(
    engine: &Engine,
    scope: &Scope,
    task: &Task,
    errors: &mut Vec<PlaybookError>,
    warnings: &mut Vec<PlaybookError>,
) -> Option<Arc<runbook_cfn::Template>> {
    let label = task.display_name();
    if let Some(arg) = task.arg("template") {
        let Some(Json::String(path)) = render_now(engine, scope, arg, task, errors) else {
            return None;
        };
        let full = template_path(engine.base_dir(), &path);
        let source = match std::fs::read_to_string(&full) {
            Ok(s) => s,
            Err(e) => {
                errors.push(
                    PlaybookError::new(
                        ErrorKind::Io,
                        format!(
                            "template file `{path}` cannot be read (looked at {}): {e}",
                            full.display()
                        ),
                    )
                    .at(arg.location.clone())
                    .in_task(label)
                    .help("a relative `template` path is found from the playbook's directory"),
                );
                return None;
            }
        };
        return parse_template(&source, Some(&full), &arg.location, &label, errors);
    }
    if let Some(arg) = task.arg("template_body") {
        let body = match render_now(engine, scope, arg, task, errors)? {
            Json::String(s) => s,
            other @ Json::Object(_) => other.to_string(),
            _ => return None,
        };
        let file = file_lookup_path(&arg.value).map(|p| template_path(engine.base_dir(), &p));
        return parse_template(&body, file.as_deref(), &arg.location, &label, errors);
    }
    if task.arg("template_url").is_some() {
        warnings.push(
            PlaybookError::new(
                ErrorKind::Unsupported,
                "the template is at a URL, which is not read before running: its exports and imports do not order tasks",
            )
            .at(task.location.clone())
            .in_task(label)
            .help("add `depends_on` if this stack imports another task's exports"),
        );
    }
    None
}

fn template_path(base: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The file behind `{{ lookup('file', 'path') }}`, to point syntax errors in
/// a template body at the template file itself.
fn file_lookup_path(value: &Json) -> Option<String> {
    let text = value.as_str()?;
    let start = text.find("lookup(")? + "lookup(".len();
    let rest = text[start..].trim_start();
    let rest = rest
        .strip_prefix("'file'")
        .or_else(|| rest.strip_prefix("\"file\""))
        .or_else(|| rest.strip_prefix("'ansible.builtin.file'"))?;
    let rest = rest.trim_start().strip_prefix(',')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = &rest[1..];
    let end = body.find(quote)?;
    Some(body[..end].to_string())
}

fn parse_template(
    source: &str,
    file: Option<&Path>,
    location: &Location,
    label: &str,
    errors: &mut Vec<PlaybookError>,
) -> Option<Arc<runbook_cfn::Template>> {
    match runbook_cfn::parse(source) {
        Ok(template) => Some(Arc::new(template)),
        Err(err) => {
            let (message, at) = match (file, err.span) {
                (Some(file), Some(span)) => (
                    format!("CloudFormation template error: {}", err.message),
                    Location {
                        file: Arc::new(file.to_path_buf()),
                        span,
                    },
                ),
                (None, Some(Span { line, column })) => (
                    format!("CloudFormation template error at line {line}, column {column} of the template body: {}", err.message),
                    location.clone(),
                ),
                (_, None) => (format!("CloudFormation template error: {}", err.message), location.clone()),
            };
            errors.push(
                PlaybookError::new(ErrorKind::Syntax, message)
                    .at(at)
                    .in_task(label.to_string()),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_file_of_a_lookup() {
        let v = Json::String("{{ lookup('file', '../templates/x.template') }}".into());
        assert_eq!(
            file_lookup_path(&v).as_deref(),
            Some("../templates/x.template")
        );
        assert_eq!(file_lookup_path(&Json::String("{{ body }}".into())), None);
    }
}
