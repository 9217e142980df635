//! What a stack set task tells the graph before running: where it acts
//! (the administrator account), what it manages (the stack set) and the
//! exports of its template, as far as they can be known then.
//!
//! Exports are per account and region: each stack instance publishes the
//! template's exports in its own account and region. The graph matches an
//! export with an import in the account a task acts in, and before running
//! it knows accounts by profile, not by id, so it cannot tell which
//! profile's account a target account id is. What is given: when the
//! accounts and regions are known before running, the export names each
//! instance would publish (account ids and regions filled in), listed in
//! the administrator account. A task of the administrator account that
//! imports one of them waits for the stack set (right when that account is
//! one of the targets, an extra wait otherwise); stacks in the target
//! accounts are not ordered by them (see docs/playbooks.md).

use indexmap::IndexMap;
use runbook_module::{
    Analysis, ErrorKind, Json, Known, Owned, Placement, PlaybookError, StaticFacts,
};

use super::spec::{accounts_of, string_list};
use crate::aws::cloudformation::read_template;

/// The stand-in for an instance's stack name, which CloudFormation
/// chooses (`StackSet-<name>-<id>`): names that use it are not known.
const STACK_NAME_PLACEHOLDER: &str = "<stack of a stack set instance>";

pub(crate) fn analyse(cx: &mut Analysis<'_>) -> StaticFacts {
    let placement = super::super::placement(cx);
    let name = cx.text_now("name").now().flatten();
    let absent = cx.text_now("state").now().flatten().as_deref() == Some("absent");
    let mut facts = StaticFacts {
        placement: placement.clone(),
        ..StaticFacts::default()
    };
    let template = read_template(cx, &mut facts.inputs, "stack set");
    if !absent {
        facts.settings = crate::aws::settings(cx);
    }
    match (&placement, &name) {
        (Placement::Account(_), Some(name)) => facts.owns.push(Owned {
            kind: "stack set",
            name: name.clone(),
        }),
        (Placement::Later, _) => {
            cx.warn(
                PlaybookError::new(
                    ErrorKind::Unsupported,
                    "the profile, region or endpoint depends on another task's result, so the stack set's administrator account is not known before running: tasks on the same stack set are not ordered by it",
                )
                .help("add `depends_on` if the order matters"),
            );
            return facts;
        }
        _ => {}
    }
    let (Some(template), false) = (template, absent) else {
        return facts;
    };
    if !template.imports.is_empty() {
        cx.warn(
            PlaybookError::new(
                ErrorKind::Unsupported,
                "the stack set's template imports exports (Fn::ImportValue): each instance imports in its own account and region, which runbook does not check before running nor order by",
            )
            .help("deploy the exporters before this task (`depends_on`)"),
        );
    }
    let service =
        cx.text_now("permission_model").now().flatten().as_deref() == Some("SERVICE_MANAGED");
    if service || template.exports.is_empty() {
        return facts;
    }
    let (Known::Now(Some(accounts)), Known::Now(Some(regions))) =
        (cx.option_now("accounts"), cx.option_now("regions"))
    else {
        return facts;
    };
    // Problems with them are reported by `check` and when the task runs.
    let accounts = accounts_of(&accounts, "accounts").unwrap_or_default();
    let regions = string_list(&regions, "regions").unwrap_or_default();
    let mut parameters = IndexMap::new();
    if let Known::Now(Some(Json::Object(given))) = cx.option_now("parameters") {
        for (key, value) in given {
            if let Some(value) = runbook_cfn::parameter_value(&value) {
                parameters.insert(key, value);
            }
        }
    }
    let mut unresolved = Vec::new();
    for account in &accounts {
        for region in &regions {
            let ctx = runbook_cfn::NameContext {
                stack_name: STACK_NAME_PLACEHOLDER.into(),
                region: region.clone(),
                account_id: account.clone(),
                partition: "aws".into(),
                parameters: parameters.clone(),
            };
            for export in &template.exports {
                match runbook_cfn::resolve_name(&export.expr, &ctx, &template) {
                    Some(name) if !name.contains(STACK_NAME_PLACEHOLDER) => {
                        if !facts.exports.contains(&name) {
                            facts.exports.push(name);
                        }
                    }
                    _ => {
                        let output = export.output.clone().unwrap_or_else(|| "?".into());
                        if !unresolved.contains(&output) {
                            unresolved.push(output);
                        }
                    }
                }
            }
        }
    }
    for output in unresolved {
        cx.warn(
            PlaybookError::new(
                ErrorKind::Unsupported,
                format!(
                    "the export name of output `{output}` cannot be worked out before running, so tasks importing it are not ordered after this stack set"
                ),
            )
            .help("add `depends_on` to the importing tasks"),
        );
    }
    facts
}
