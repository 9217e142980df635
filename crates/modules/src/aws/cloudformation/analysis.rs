//! What a cloudformation task targets (account, stack, template) and the
//! exports and imports of its template, worked out before running from
//! values that do not depend on other tasks' results.

use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_module::{
    find_file, Analysis, ErrorKind, Import, Json, Known, KnownKeys, Location, Owned, Placement,
    PlaybookDir, PlaybookError, StaticFacts, REGION_PLACEHOLDER,
};
use runbook_yaml::Span;

/// What the analysis keeps for the module's own later use.
#[derive(Debug, Clone, Default)]
pub(crate) struct StackFacts {
    pub stack_name: Option<String>,
    pub state_absent: bool,
    pub template: Option<Arc<runbook_cfn::Template>>,
    /// Template parameter values known before running, as CloudFormation
    /// will receive them.
    pub parameters: IndexMap<String, String>,
    /// Parameters given `use_previous_value: true`, and where.
    pub previous_values: Vec<String>,
    pub parameters_at: Option<Location>,
}

pub(crate) fn analyse(cx: &mut Analysis<'_>) -> StaticFacts {
    let placement = super::super::placement(cx);
    let mut stack = StackFacts {
        stack_name: cx.text_now("stack_name").now().flatten(),
        state_absent: cx.text_now("state").now().flatten().as_deref() == Some("absent"),
        ..StackFacts::default()
    };
    if let Some(arg) = cx.args.get("template_parameters").cloned() {
        stack.parameters_at = Some(arg.location.clone());
        if let Json::Object(raw) = &arg.value {
            stack.previous_values = raw
                .iter()
                .filter(|(_, v)| uses_previous_value(v))
                .map(|(k, _)| k.clone())
                .collect();
        }
        match cx.render_now(&arg) {
            Known::Now(Json::Object(params)) => {
                for (key, value) in params {
                    if let Some(value) = runbook_cfn::parameter_value(&value) {
                        stack.parameters.insert(key, value);
                    }
                }
            }
            _ => {
                // Some values depend on other tasks: keep the ones known now.
                if let Json::Object(raw) = &arg.value {
                    for (key, value) in raw {
                        if let Ok(value) = cx.engine.render(value, cx.scope) {
                            if let Some(value) = runbook_cfn::parameter_value(&value) {
                                stack.parameters.insert(key.clone(), value);
                            }
                        }
                    }
                }
            }
        }
    }
    let mut inputs = Vec::new();
    stack.template = read_template(cx, &mut inputs, "stack");
    if let Some(template) = &stack.template {
        if !stack.state_absent {
            check_parameters(cx, template, &stack.parameters);
        }
    }
    check_rendered(cx);

    let mut facts = StaticFacts {
        placement: placement.clone(),
        inputs,
        result_keys: outputs(cx, &stack).into_iter().collect(),
        ..StaticFacts::default()
    };
    let account = match &placement {
        Placement::Account(account) => account.clone(),
        _ => {
            cx.warn(
                PlaybookError::new(
                    ErrorKind::Unsupported,
                    "the profile, region or endpoint depends on another task's result, so the stack's account is not known before running: same-stack and export ordering are not checked for it",
                )
                .help("add `depends_on` if the order matters"),
            );
            facts.detail = Some(Arc::new(stack));
            return facts;
        }
    };
    if let Some(name) = &stack.stack_name {
        facts.owns.push(Owned {
            kind: "stack",
            name: name.clone(),
        });
    }
    if !stack.state_absent {
        facts.settings = crate::aws::settings(cx);
    }
    if let (Some(template), Some(stack_name)) = (&stack.template, &stack.stack_name) {
        let ctx = runbook_cfn::NameContext {
            stack_name: stack_name.clone(),
            region: account
                .region
                .clone()
                .unwrap_or_else(|| REGION_PLACEHOLDER.into()),
            account_id: account.account_placeholder(),
            partition: "aws".into(),
            parameters: stack.parameters.clone(),
        };
        for export in &template.exports {
            match runbook_cfn::resolve_name(&export.expr, &ctx, template) {
                Some(name) if !stack.state_absent => facts.exports.push(name),
                Some(_) => {}
                None if stack.state_absent => {}
                None => cx.warn(
                    PlaybookError::new(
                        ErrorKind::Unsupported,
                        format!(
                            "the export name of output `{}` (template line {}) cannot be worked out before running, so stacks importing it are not ordered after this one",
                            export.output.as_deref().unwrap_or("?"),
                            export.span.line
                        ),
                    )
                    .help("add `depends_on` to the importing tasks"),
                ),
            }
        }
        if !stack.state_absent {
            for import in &template.imports {
                match runbook_cfn::resolve_name(&import.expr, &ctx, template) {
                    Some(name) => facts.imports.push(Import {
                        name,
                        location: cx.location.clone(),
                    }),
                    None => cx.warn(
                        PlaybookError::new(
                            ErrorKind::Unsupported,
                            format!(
                                "the import at template line {} cannot be worked out before running, so this task is not ordered after its exporter",
                                import.span.line
                            ),
                        )
                        .help("add `depends_on` naming the exporting task"),
                    ),
                }
            }
        }
    }
    facts.detail = Some(Arc::new(stack));
    facts
}

/// The outputs a present stack will have: its template's `Outputs`, so
/// that a read of another one is refused before running. Not known when
/// a transform (a macro, SAM, `Fn::ForEach`) may add outputs.
fn outputs(cx: &Analysis<'_>, stack: &StackFacts) -> Option<KnownKeys> {
    let template = stack.template.as_ref()?;
    if stack.state_absent || template.has_transform {
        return None;
    }
    let keys = match template.body.get("Outputs") {
        None | Some(Json::Null) => Default::default(),
        Some(Json::Object(outputs)) => outputs.keys().cloned().collect(),
        Some(_) => return None,
    };
    let source = match cx.args.get("template").map(|a| &a.value) {
        Some(Json::String(path)) if !path.contains("{{") => format!("its template {path}"),
        _ => "its template".to_string(),
    };
    Some(KnownKeys {
        field: "stack_outputs".into(),
        keys,
        noun: "output",
        source,
    })
}

/// `{use_previous_value: true}` as written (also `yes`, `True`, ...).
fn uses_previous_value(value: &Json) -> bool {
    match value {
        Json::Object(map) => {
            runbook_module::schema::flag(map.get("use_previous_value")) == Some(true)
        }
        _ => false,
    }
}

/// The checked options that hold templates, when they render now (from
/// vars and -e): what CloudFormation would refuse, before running. Values
/// written without templates were checked when the playbook was loaded.
fn check_rendered(cx: &mut Analysis<'_>) {
    for option in super::validate::CHECKED {
        let Some(arg) = cx.args.get(option).cloned() else {
            continue;
        };
        if !super::validate::holds_template(&arg.value) {
            continue;
        }
        if let Known::Now(Some(value)) = cx.option_now(option) {
            if let Some(problem) = super::validate::option_problem(option, &value, false) {
                cx.error(
                    PlaybookError::new(ErrorKind::Schema, problem)
                        .at(arg.location.clone())
                        .help(super::validate::help(option)),
                );
            }
        }
    }
}

/// The template of a stack or stack set (`what`), read and parsed when its
/// path or body is known before running; a template that does not parse
/// is an error with its place.
pub(crate) fn read_template(
    cx: &mut Analysis<'_>,
    inputs: &mut Vec<std::path::PathBuf>,
    what: &str,
) -> Option<Arc<runbook_cfn::Template>> {
    if let Some(arg) = cx.args.get("template").cloned() {
        let Known::Now(Json::String(path)) = cx.render_now(&arg) else {
            return None;
        };
        let found = find_file(
            cx.search,
            &path,
            crate::aws::TEMPLATE_DIRS,
            PlaybookDir::Only,
        );
        let (full, read) = match &found {
            Ok(full) => (full.clone(), std::fs::read_to_string(full)),
            Err(looked) => (
                looked.last().cloned().unwrap_or_default(),
                std::fs::read_to_string(looked.last().cloned().unwrap_or_default()),
            ),
        };
        let source = match read {
            Ok(s) => {
                inputs.push(full.clone());
                s
            }
            Err(e) => {
                let looked = match &found {
                    Ok(full) => full.display().to_string(),
                    Err(looked) => looked
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                cx.error(
                    PlaybookError::new(
                        ErrorKind::Io,
                        format!("template file `{path}` cannot be read (looked at {looked}): {e}"),
                    )
                    .at(arg.location.clone())
                    .help("a relative `template` path is found from the playbook's directory (in a role: its files/, templates/ and directory first)"),
                );
                return None;
            }
        };
        return parse_template(cx, &source, Some(&full), &arg.location);
    }
    if let Some(arg) = cx.args.get("template_body").cloned() {
        let body = match cx.render_now(&arg).now()? {
            Json::String(s) => s,
            other @ Json::Object(_) => other.to_string(),
            _ => return None,
        };
        let file = file_lookup_path(&arg.value).and_then(|p| {
            runbook_template::lookup_candidates(cx.search, "files", &p)
                .into_iter()
                .find(|c| c.is_file())
        });
        return parse_template(cx, &body, file.as_deref(), &arg.location);
    }
    if cx.args.contains_key("template_url") {
        cx.warn(
            PlaybookError::new(
                ErrorKind::Unsupported,
                "the template is at a URL, which is not read before running: its exports and imports do not order tasks",
            )
            .help(format!("add `depends_on` if this {what} imports another task's exports")),
        );
    }
    None
}

/// The task's template parameters against the template's declarations:
/// names, required ones, allowed values and patterns, lengths, numbers.
/// Values known only at run time are checked when the task runs (by
/// CloudFormation). Values are never quoted: they may come from `-e`.
fn check_parameters(
    cx: &mut Analysis<'_>,
    template: &runbook_cfn::Template,
    known: &IndexMap<String, String>,
) {
    use runbook_cfn::plan::ParamInput;
    let Some(arg) = cx.args.get("template_parameters").cloned() else {
        // No parameters given: only the required ones can be missing.
        let report = runbook_cfn::plan::check_parameters(template, &IndexMap::new());
        report_problems(cx, &report.problems, None);
        return;
    };
    let Json::Object(raw) = &arg.value else {
        return;
    };
    let given: IndexMap<String, ParamInput> = raw
        .iter()
        .map(|(key, value)| {
            let previous = matches!(value, Json::Object(m) if m.contains_key("use_previous_value"));
            let input = if previous {
                ParamInput::UsePrevious
            } else {
                match known.get(key) {
                    Some(v) => ParamInput::Known(v.clone()),
                    None => ParamInput::Unknown,
                }
            };
            (key.clone(), input)
        })
        .collect();
    let report = runbook_cfn::plan::check_parameters(template, &given);
    report_problems(cx, &report.problems, Some(&arg.location));
}

fn report_problems(
    cx: &mut Analysis<'_>,
    problems: &[runbook_cfn::plan::ParamProblem],
    at: Option<&Location>,
) {
    use runbook_cfn::plan::ParamProblemKind as K;
    for problem in problems {
        let name = &problem.parameter;
        let item = problem
            .item
            .map(|i| format!(" (item {})", i + 1))
            .unwrap_or_default();
        let (message, help) = match &problem.kind {
            K::UnknownParameter { suggestion } => (
                format!("template parameter `{name}` is not declared by the template"),
                match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "remove it, or declare it in the template's Parameters".to_string(),
                },
            ),
            K::Missing => (
                format!("template parameter `{name}` has no Default and the task does not give it"),
                format!("add `{name}` to template_parameters"),
            ),
            K::NotAllowedValue { allowed } => (
                format!("template parameter `{name}`{item} is not one of its AllowedValues"),
                format!("allowed: {}", allowed.join(", ")),
            ),
            K::PatternMismatch { pattern } => (
                format!("template parameter `{name}`{item} does not match its AllowedPattern"),
                format!("AllowedPattern: {pattern}"),
            ),
            K::TooShort { min, length } => (
                format!("template parameter `{name}`{item} is {length} characters long, below its MinLength {min}"),
                "give a longer value".to_string(),
            ),
            K::TooLong { max, length } => (
                format!("template parameter `{name}`{item} is {length} characters long, above its MaxLength {max}"),
                "give a shorter value".to_string(),
            ),
            K::NotANumber => (
                format!("template parameter `{name}`{item} must be a number"),
                "its Type is Number or List<Number>".to_string(),
            ),
            K::TooSmall { min } => (
                format!("template parameter `{name}`{item} is below its MinValue {min}"),
                "give a larger number".to_string(),
            ),
            K::TooLarge { max } => (
                format!("template parameter `{name}`{item} is above its MaxValue {max}"),
                "give a smaller number".to_string(),
            ),
        };
        let help = match &problem.constraint_description {
            Some(description) => format!("{help} ({description})"),
            None => help,
        };
        let mut err = PlaybookError::new(ErrorKind::Schema, message).help(help);
        if let Some(at) = at {
            err = err.at(at.clone());
        }
        cx.error(err);
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
    cx: &mut Analysis<'_>,
    source: &str,
    file: Option<&Path>,
    location: &Location,
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
            cx.error(PlaybookError::new(ErrorKind::Syntax, message).at(at));
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
