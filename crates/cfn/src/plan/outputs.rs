//! Outputs and exports of the desired side: their predicted values, and
//! which change or disappear (an export another stack imports cannot).

use std::collections::BTreeSet;

use serde_json::Map;

use super::eval::{compare, Cmp, Cond, Val};
use super::resources::{Context, SideState};
use super::{Cause, PlanError, PlanValue};
use crate::Json;

/// The predicted value of an output of the desired side.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputValue {
    /// Computed from parameters, pseudo parameters, mappings and resource
    /// names (e.g. a replaced bucket's new name).
    Known(String),
    /// The same as the deployed output; its value when the caller gave the
    /// stack's outputs.
    Unchanged(Option<String>),
    /// Known only after apply: it depends on a changed parameter or a
    /// replaced or added resource. The expression, as far as known.
    Unknown(Json),
    /// Derived from a `NoEcho` parameter: never shown.
    Masked,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputPlan {
    pub name: String,
    pub value: OutputValue,
    /// The export name, when the output is exported and the name is known.
    pub export_name: Option<String>,
    /// What makes the value differ from the deployed one (empty when
    /// unchanged).
    pub causes: BTreeSet<Cause>,
    /// The output's `Condition` depends on values known only after apply.
    pub existence_uncertain: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputAction {
    Add,
    Modify,
    Remove,
}

/// An output that is added, removed or changes (or may).
#[derive(Debug, Clone, PartialEq)]
pub struct OutputChange {
    pub name: String,
    pub action: OutputAction,
    /// The deployed value (`None` for an added output).
    pub old: Option<PlanValue>,
    /// `None` for a removed output.
    pub new: Option<OutputValue>,
    /// `false` when it only may change.
    pub certain: bool,
    pub causes: BTreeSet<Cause>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportChangeKind {
    Added,
    /// The export goes away (output removed, no longer exported, renamed).
    Removed,
    /// The exported value changes; `certain: false` when it only may.
    ValueChanges {
        certain: bool,
    },
}

/// A change of an export. `Removed` and `ValueChanges` of an export that
/// another stack imports make CloudFormation fail the update.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportChange {
    /// `None` when the name is known only after apply.
    pub name: Option<String>,
    pub output: String,
    pub kind: ExportChangeKind,
}

pub(crate) struct OutputsPlan {
    pub outputs: Vec<OutputPlan>,
    pub changes: Vec<OutputChange>,
    pub exports: Vec<ExportChange>,
}

fn outputs_of(state: &SideState) -> Map<String, Json> {
    state
        .template
        .body
        .get("Outputs")
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default()
}

/// An output's existence: `Some(true)` exists, `None` unknown.
fn exists(state: &SideState, name: &str, decl: &Json) -> Result<Option<bool>, PlanError> {
    let Some(cond) = decl.get("Condition").and_then(Json::as_str) else {
        return Ok(Some(true));
    };
    match state.ev.condition(cond) {
        Ok(Cond::Known(b)) => Ok(Some(b)),
        Ok(Cond::Unknown(_)) => Ok(None),
        Err(source) => Err(PlanError::Eval {
            side: state.side,
            location: format!("Outputs.{name}.Condition"),
            source,
        }),
    }
}

fn eval(
    state: &SideState,
    expr: Option<&Json>,
    location: String,
) -> Result<Option<Val>, PlanError> {
    match expr {
        None => Ok(None),
        Some(e) => state.ev.eval(e).map_err(|source| PlanError::Eval {
            side: state.side,
            location,
            source,
        }),
    }
}

fn text(value: &Val) -> String {
    value
        .scalar_text()
        .unwrap_or_else(|| value.to_json().to_string())
}

fn export_name(state: &SideState, name: &str, decl: &Json) -> Result<Option<String>, PlanError> {
    let expr = decl.get("Export").and_then(|e| e.get("Name"));
    let value = eval(state, expr, format!("Outputs.{name}.Export.Name"))?;
    Ok(value
        .filter(|v| !v.has_unknown())
        .and_then(|v| v.scalar_text()))
}

pub(crate) fn plan_outputs(ctx: &Context) -> Result<OutputsPlan, PlanError> {
    let changing = |d: &_| ctx.is_changing(d);
    let old_outputs = outputs_of(&ctx.old);
    let new_outputs = outputs_of(&ctx.new);
    let deployed_value = |name: &str| ctx.deployed.outputs.iter().find(|o| o.key == name);
    let mut plan = OutputsPlan {
        outputs: Vec::new(),
        changes: Vec::new(),
        exports: Vec::new(),
    };

    // The deployed side: value and export name of each existing output.
    let mut old_side = Vec::new();
    for (name, decl) in &old_outputs {
        let given = deployed_value(name);
        if exists(&ctx.old, name, decl)? == Some(false) && given.is_none() {
            continue;
        }
        let value = match given {
            Some(o) => Some(Val::Str(o.value.clone())),
            None => eval(&ctx.old, decl.get("Value"), format!("Outputs.{name}.Value"))?,
        };
        let export = match given.and_then(|o| o.export_name.clone()) {
            Some(n) => Some(n),
            None => export_name(&ctx.old, name, decl)?,
        };
        let exported = decl.get("Export").is_some() || export.is_some();
        old_side.push((name.clone(), value, export, exported));
    }

    for (name, decl) in &new_outputs {
        let present = exists(&ctx.new, name, decl)?;
        if present == Some(false) {
            continue;
        }
        let value = eval(&ctx.new, decl.get("Value"), format!("Outputs.{name}.Value"))?
            .unwrap_or(Val::Null);
        let old = old_side.iter().find(|(n, ..)| n == name);
        let old_value = old.and_then(|(_, v, ..)| v.as_ref());
        let (mut causes, masked) = ctx.causes(
            old_outputs.get(name).and_then(|d| d.get("Value")),
            decl.get("Value"),
        );
        let cmp = match old_value {
            Some(o) => compare(o, &value, &changing),
            None => Cmp::Differs,
        };
        if cmp == Cmp::Same {
            causes.clear();
        }
        let shown = if masked {
            OutputValue::Masked
        } else if !value.has_unknown() {
            OutputValue::Known(text(&value))
        } else if cmp == Cmp::Same {
            OutputValue::Unchanged(deployed_value(name).map(|o| o.value.clone()))
        } else {
            OutputValue::Unknown(value.to_json())
        };
        let export = export_name(&ctx.new, name, decl)?;
        plan.outputs.push(OutputPlan {
            name: name.clone(),
            value: shown.clone(),
            export_name: export.clone(),
            causes: causes.clone(),
            existence_uncertain: present.is_none(),
        });
        let old_shown = |v: &Val| ctx.shown(v, masked);
        match old {
            None => plan.changes.push(OutputChange {
                name: name.clone(),
                action: OutputAction::Add,
                old: None,
                new: Some(shown),
                certain: present.is_some(),
                causes,
            }),
            Some(_) if cmp != Cmp::Same => plan.changes.push(OutputChange {
                name: name.clone(),
                action: OutputAction::Modify,
                old: old_value.map(old_shown),
                new: Some(shown),
                certain: cmp == Cmp::Differs,
                causes,
            }),
            Some(_) => {}
        }
        // Exports: a new name is an added export (and the old name goes).
        let old_export = old.and_then(|(_, _, e, exported)| exported.then(|| e.clone()));
        let exported_now = decl.get("Export").is_some();
        // The same export when still exported under the same name (or a
        // name not known yet, which cannot be told apart).
        let kept = old_export
            .as_ref()
            .is_some_and(|o| exported_now && (*o == export || export.is_none()));
        if kept {
            if cmp != Cmp::Same {
                plan.exports.push(ExportChange {
                    name: old_export.flatten(),
                    output: name.clone(),
                    kind: ExportChangeKind::ValueChanges {
                        certain: cmp == Cmp::Differs && present.is_some(),
                    },
                });
            }
        } else {
            if let Some(old_name) = old_export {
                plan.exports.push(ExportChange {
                    name: old_name,
                    output: name.clone(),
                    kind: ExportChangeKind::Removed,
                });
            }
            if exported_now {
                plan.exports.push(ExportChange {
                    name: export,
                    output: name.clone(),
                    kind: ExportChangeKind::Added,
                });
            }
        }
    }

    for (name, value, export, exported) in &old_side {
        let decl = new_outputs.get(name);
        let gone = match decl {
            None => true,
            Some(d) => exists(&ctx.new, name, d)? == Some(false),
        };
        if !gone {
            continue;
        }
        let (_, masked) = ctx.causes(old_outputs.get(name).and_then(|d| d.get("Value")), None);
        plan.changes.push(OutputChange {
            name: name.clone(),
            action: OutputAction::Remove,
            old: value.as_ref().map(|v| ctx.shown(v, masked)),
            new: None,
            certain: true,
            causes: ctx
                .causes(
                    old_outputs
                        .get(name)
                        .map(|d| d.get("Condition").cloned().unwrap_or(Json::Null))
                        .as_ref(),
                    decl.map(|d| d.get("Condition").cloned().unwrap_or(Json::Null))
                        .as_ref(),
                )
                .0,
        });
        if *exported {
            plan.exports.push(ExportChange {
                name: export.clone(),
                output: name.clone(),
                kind: ExportChangeKind::Removed,
            });
        }
    }
    Ok(plan)
}
