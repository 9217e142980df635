//! The resource-level plan of a stack (runbook_cfn::plan) as a reviewer
//! reads it: lines, data for reports, the risks to repeat at the end, and
//! the outputs later tasks see in check mode.

use indexmap::IndexMap;
use runbook_cfn::plan::{
    self, Action, Cause, DeployedOutput, ExportChangeKind, OutputAction, OutputValue, ParamInput,
    Plan, PlanValue, Policy, Pseudo, Replacement,
};
use runbook_cfn::Template;
use serde_json::{json, Value as Json};

use super::diff::Deployed;
use super::spec::StackSpec;
use super::KNOWN_AFTER_APPLY;

/// The values the task gives, as the plan reads them: a value holding
/// `(known after apply)` is not known yet.
pub(crate) fn desired_inputs(spec: &StackSpec) -> IndexMap<String, ParamInput> {
    spec.parameters
        .iter()
        .map(|p| {
            let input = if p.use_previous {
                ParamInput::UsePrevious
            } else {
                match &p.value {
                    Some(v) if v.contains(KNOWN_AFTER_APPLY) => ParamInput::Unknown,
                    Some(v) => ParamInput::Known(v.clone()),
                    None => ParamInput::Unknown,
                }
            };
            (p.key.clone(), input)
        })
        .collect()
}

/// What the stack has now, as the plan reads it.
fn deployed_inputs(deployed: &Deployed) -> IndexMap<String, ParamInput> {
    deployed
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), ParamInput::Known(v.clone())))
        .collect()
}

fn deployed_outputs(deployed: &Deployed) -> Vec<DeployedOutput> {
    deployed
        .outputs
        .iter()
        .map(|(k, v)| DeployedOutput {
            key: k.clone(),
            value: v.clone(),
            export_name: None,
        })
        .collect()
}

/// Plans an update of a deployed stack.
pub(crate) fn update(
    spec: &StackSpec,
    desired: &Template,
    deployed: &Deployed,
    deployed_template: &Template,
    pseudo: &Pseudo,
) -> Result<Plan, String> {
    let desired_params = desired_inputs(spec);
    let deployed_params = deployed_inputs(deployed);
    let outputs = deployed_outputs(deployed);
    plan::plan(
        &plan::Deployed {
            template: deployed_template,
            parameters: &deployed_params,
            outputs: &outputs,
        },
        &plan::Desired {
            template: desired,
            parameters: &desired_params,
        },
        pseudo,
    )
    .map_err(|e| e.to_string())
}

/// Plans the creation of a stack: every resource is added.
pub(crate) fn create(
    spec: &StackSpec,
    desired: &Template,
    pseudo: &Pseudo,
) -> Result<Plan, String> {
    let empty = runbook_cfn::parse("Resources: {}\n").map_err(|e| e.message)?;
    let desired_params = desired_inputs(spec);
    let none = IndexMap::new();
    plan::plan(
        &plan::Deployed {
            template: &empty,
            parameters: &none,
            outputs: &[],
        },
        &plan::Desired {
            template: desired,
            parameters: &desired_params,
        },
        pseudo,
    )
    .map_err(|e| e.to_string())
}

fn value_text(value: &PlanValue) -> String {
    match value {
        PlanValue::Known(Json::String(s)) => s.clone(),
        PlanValue::Known(other) => other.to_string(),
        PlanValue::Unknown(_) => KNOWN_AFTER_APPLY.to_string(),
        PlanValue::Masked => "****".to_string(),
    }
}

fn output_text(value: &OutputValue, old: Option<&String>) -> String {
    match value {
        OutputValue::Known(s) => s.clone(),
        OutputValue::Unchanged(Some(s)) => s.clone(),
        OutputValue::Unchanged(None) => old.cloned().unwrap_or_else(|| KNOWN_AFTER_APPLY.into()),
        OutputValue::Unknown(_) => KNOWN_AFTER_APPLY.to_string(),
        OutputValue::Masked => "****".to_string(),
    }
}

fn replacement_text(r: Replacement) -> &'static str {
    match r {
        Replacement::True => "True",
        Replacement::Conditional => "Conditional",
        Replacement::False => "False",
        Replacement::Unknown => "unknown (a type runbook has no schema for)",
    }
}

fn cause_text(cause: &Cause) -> String {
    match cause {
        Cause::Template => "the template".into(),
        Cause::Parameter(p) => format!("parameter {p}"),
        Cause::Resource(r) => format!("resource {r}"),
        Cause::Condition(c) => format!("condition {c}"),
        Cause::Mapping(m) => format!("mapping {m}"),
    }
}

fn causes_text<'a>(causes: impl IntoIterator<Item = &'a Cause>) -> String {
    let all: Vec<String> = causes.into_iter().map(cause_text).collect();
    if all.is_empty() {
        String::new()
    } else {
        format!(" (because of {})", all.join(", "))
    }
}

/// The plan's lines: resources, then outputs and exports.
pub(crate) fn describe(plan: &Plan, deployed: Option<&Deployed>) -> Vec<String> {
    let mut lines = Vec::new();
    if plan.has_transform {
        lines.push(
            "the template uses a transform: resources are compared as written, before CloudFormation expands them"
                .to_string(),
        );
    }
    for r in &plan.resources {
        let action = match r.action {
            Action::Add => "Add".to_string(),
            Action::Remove => "Remove".to_string(),
            Action::Modify { replacement } => {
                format!("Modify, Replacement: {}", replacement_text(replacement))
            }
        };
        let maybe = if r.existence_uncertain {
            " (may not happen: a condition known after apply)"
        } else {
            ""
        };
        lines.push(format!(
            "{} {} ({}): {action}{}{maybe}",
            "resource",
            r.logical_id,
            r.resource_type,
            if matches!(r.action, Action::Modify { .. }) {
                causes_text(&r.causes)
            } else {
                String::new()
            }
        ));
        if let Some(previous) = &r.previous_type {
            lines.push(format!("    type: {previous} -> {}", r.resource_type));
        }
        for change in &r.changes {
            let old = change
                .old
                .as_ref()
                .map(value_text)
                .unwrap_or_else(|| "(none)".into());
            let new = change
                .new
                .as_ref()
                .map(value_text)
                .unwrap_or_else(|| "(none)".into());
            let certainty = if change.certain { "" } else { " (may change)" };
            let replaces = match change.replacement {
                Replacement::True => ", replaces it",
                Replacement::Conditional => ", may replace it",
                _ => "",
            };
            lines.push(format!(
                "    {}: {old} -> {new}{certainty}{replaces}",
                change.path
            ));
        }
        for attribute in &r.attributes {
            lines.push(format!("    {attribute:?} changed"));
        }
    }
    for change in &plan.output_changes {
        let old = change.old.as_ref().map(value_text);
        let deployed_value = deployed.and_then(|d| d.outputs.get(&change.name));
        let new = change.new.as_ref().map(|v| output_text(v, deployed_value));
        let line = match change.action {
            OutputAction::Add => format!(
                "output {}: added = {}",
                change.name,
                new.unwrap_or_default()
            ),
            OutputAction::Remove => format!("output {}: removed", change.name),
            OutputAction::Modify => format!(
                "output {}: {} -> {}{}",
                change.name,
                old.unwrap_or_else(|| "(none)".into()),
                new.unwrap_or_else(|| "(none)".into()),
                if change.certain { "" } else { " (may change)" }
            ),
        };
        lines.push(line);
    }
    for export in &plan.export_changes {
        let name = export
            .name
            .clone()
            .unwrap_or_else(|| format!("of output {}", export.output));
        let what = match export.kind {
            ExportChangeKind::Added => "added".to_string(),
            ExportChangeKind::Removed => "removed".to_string(),
            ExportChangeKind::ValueChanges { certain: true } => "value changes".to_string(),
            ExportChangeKind::ValueChanges { certain: false } => "value may change".to_string(),
        };
        lines.push(format!("export {name}: {what}"));
    }
    lines
}

/// Whether the plan certainly changes the stack (not only "may").
pub(crate) fn certain(plan: &Plan) -> bool {
    plan.resources.iter().any(|r| {
        !r.existence_uncertain
            && match r.action {
                Action::Add | Action::Remove => true,
                Action::Modify { .. } => {
                    r.changes.iter().any(|c| c.certain) || !r.attributes.is_empty()
                }
            }
    }) || plan.output_changes.iter().any(|c| c.certain)
}

/// What a reviewer must not miss, one line each: a stateful resource
/// (bucket, table, key, log group, ...) replaced, or removed without
/// `DeletionPolicy: Retain`.
pub(crate) fn warnings(plan: &Plan, stack: &str) -> Vec<String> {
    let retained =
        |p: &Option<Policy>| matches!(p, Some(Policy::Retain | Policy::RetainExceptOnCreate));
    plan.resources
        .iter()
        .filter(|r| r.stateful)
        .filter_map(|r| match r.action {
            Action::Remove if !retained(&r.deletion_policy) => Some(format!(
                "stack {stack}: {} ({}) is removed and its data deleted (no DeletionPolicy: Retain)",
                r.logical_id, r.resource_type
            )),
            Action::Modify { replacement } if !r.changes.is_empty() => {
                let how = match replacement {
                    Replacement::True => "is replaced",
                    Replacement::Conditional => "may be replaced",
                    Replacement::Unknown => "may be replaced (its type has no schema here)",
                    Replacement::False => return None,
                };
                let fate = if retained(&r.update_replace_policy) {
                    "the new one starts empty; the old one and its data are retained, no longer managed by the stack"
                } else {
                    "the old one and its data are deleted (no UpdateReplacePolicy: Retain)"
                };
                Some(format!(
                    "stack {stack}: {} ({}) {how}{}; {fate}",
                    r.logical_id,
                    r.resource_type,
                    causes_text(&r.causes)
                ))
            }
            _ => None,
        })
        .collect()
}

/// The outputs later tasks see in check mode: computed where the template
/// says how, the current value where nothing changes it, `(known after
/// apply)` where only applying tells.
pub(crate) fn outputs(plan: &Plan, deployed: Option<&Deployed>) -> IndexMap<String, String> {
    plan.outputs
        .iter()
        .map(|o| {
            let old = deployed.and_then(|d| d.outputs.get(&o.name));
            (o.name.clone(), output_text(&o.value, old))
        })
        .collect()
}

/// Exports the update removes or certainly changes: if another stack
/// imports one, CloudFormation fails the update half way.
pub(crate) fn broken_exports(plan: &Plan) -> Vec<String> {
    plan.export_changes
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                ExportChangeKind::Removed | ExportChangeKind::ValueChanges { certain: true }
            )
        })
        .filter_map(|e| e.name.clone())
        .collect()
}

/// The plan as data, for reports.
pub(crate) fn to_json(plan: &Plan, deployed: Option<&Deployed>) -> Json {
    let value = |v: &Option<PlanValue>| v.as_ref().map(value_text);
    let resources: Vec<Json> = plan
        .resources
        .iter()
        .map(|r| {
            let (action, replacement) = match r.action {
                Action::Add => ("Add", None),
                Action::Remove => ("Remove", None),
                Action::Modify { replacement } => ("Modify", Some(replacement_text(replacement))),
            };
            json!({
                "logical_id": r.logical_id,
                "type": r.resource_type,
                "action": action,
                "replacement": replacement,
                "causes": r.causes.iter().map(cause_text).collect::<Vec<_>>(),
                "existence_uncertain": r.existence_uncertain,
                "data_at_risk": r.data_at_risk().map(|d| format!("{d:?}").to_lowercase()),
                "changes": r.changes.iter().map(|c| json!({
                    "path": c.path.to_string(),
                    "old": value(&c.old),
                    "new": value(&c.new),
                    "certain": c.certain,
                    "replacement": replacement_text(c.replacement),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "resources": resources,
        "outputs": outputs(plan, deployed),
        "exports": plan.export_changes.iter().map(|e| json!({
            "name": e.name,
            "output": e.output,
            "change": match e.kind {
                ExportChangeKind::Added => "added",
                ExportChangeKind::Removed => "removed",
                ExportChangeKind::ValueChanges { certain: true } => "value changes",
                ExportChangeKind::ValueChanges { certain: false } => "value may change",
            },
        })).collect::<Vec<_>>(),
    })
}
