//! The resource-level diff: both sides are evaluated resource by resource
//! in dependency order, so that whether a resource is replaced is known
//! before the resources that reference it are compared.

use std::collections::{BTreeSet, HashMap, HashSet};

use indexmap::IndexMap;
use serde_json::Map;

use super::create_only::{self, PathPattern};
use super::eval::{absent_vs, compare, concat, Cmp, Cond, Dep, Evaluator, ResourceValues, Val};
use super::{
    outputs, Action, AttributeChange, Cause, Deployed, Desired, ParamInput, ParameterChange,
    PathStep, Plan, PlanError, PlanValue, Policy, PropertyChange, PropertyPath, Pseudo,
    Replacement, ResourceChange, Side,
};
use crate::{Json, Template};

/// Whether a resource exists on one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exists {
    Yes,
    No,
    /// Its `Condition` depends on values known only after apply.
    Maybe,
}

impl Exists {
    fn at_all(&self) -> bool {
        *self != Exists::No
    }
}

/// How a parameter's value compares between the sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamStatus {
    Same,
    Changed,
    Maybe,
}

/// What one side's evaluation holds.
pub(crate) struct SideState<'a> {
    pub side: Side,
    pub ev: Evaluator<'a>,
    pub template: &'a Template,
    pub exists: HashMap<String, Exists>,
    pub props: HashMap<String, Val>,
}

/// Everything the outputs module needs after the resources are done.
pub(crate) struct Context<'a> {
    pub old: SideState<'a>,
    pub new: SideState<'a>,
    pub param_status: HashMap<String, ParamStatus>,
    pub changing: HashSet<String>,
    pub no_echo: BTreeSet<String>,
    pub deployed: &'a Deployed<'a>,
}

impl Context<'_> {
    pub fn is_changing(&self, dep: &Dep) -> bool {
        match dep {
            Dep::Resource(r) => self.changing.contains(r),
            Dep::Parameter(p) => self
                .param_status
                .get(p)
                .is_some_and(|s| *s != ParamStatus::Same),
        }
    }

    /// Causes and masking for an expression that appears at `old`/`new`.
    pub fn causes(&self, old: Option<&Json>, new: Option<&Json>) -> (BTreeSet<Cause>, bool) {
        let mut causes = BTreeSet::new();
        if old != new {
            causes.insert(Cause::Template);
        }
        let mut refs = Refs::default();
        if let Some(old) = old {
            refs.add(old, self.old.template);
        }
        if let Some(new) = new {
            refs.add(new, self.new.template);
        }
        let mut masked = false;
        for name in &refs.names {
            if self.param_status.contains_key(name) {
                masked |= self.no_echo.contains(name);
                if self.is_changing(&Dep::Parameter(name.clone())) {
                    causes.insert(Cause::Parameter(name.clone()));
                }
            } else if self.changing.contains(name) {
                causes.insert(Cause::Resource(name.clone()));
            }
        }
        let section =
            |t: &Template, s: &str, n: &str| t.body.get(s).and_then(|m| m.get(n)).cloned();
        for c in &refs.conditions {
            if section(self.old.template, "Conditions", c)
                != section(self.new.template, "Conditions", c)
            {
                causes.insert(Cause::Condition(c.clone()));
            }
        }
        for m in &refs.mappings {
            if section(self.old.template, "Mappings", m)
                != section(self.new.template, "Mappings", m)
            {
                causes.insert(Cause::Mapping(m.clone()));
            }
        }
        (causes, masked)
    }

    pub fn shown(&self, value: &Val, masked: bool) -> PlanValue {
        if masked {
            PlanValue::Masked
        } else if value.has_unknown() {
            PlanValue::Unknown(value.to_json())
        } else {
            PlanValue::Known(value.to_json())
        }
    }
}

/// Names an expression refers to: `Ref`/`Sub`/`GetAtt` targets, conditions
/// (and what they refer to) and mappings.
#[derive(Debug, Default)]
pub(crate) struct Refs {
    pub names: BTreeSet<String>,
    pub conditions: BTreeSet<String>,
    pub mappings: BTreeSet<String>,
}

impl Refs {
    pub fn add(&mut self, expr: &Json, template: &Template) {
        match expr {
            Json::Array(items) => items.iter().for_each(|i| self.add(i, template)),
            Json::Object(map) => {
                if map.len() == 1 {
                    if let Some((k, v)) = map.iter().next() {
                        if self.function(k, v, template) {
                            return;
                        }
                    }
                }
                map.values().for_each(|v| self.add(v, template));
            }
            _ => {}
        }
    }

    /// Handles a function; `false` when `key` is not one this looks into.
    fn function(&mut self, key: &str, args: &Json, template: &Template) -> bool {
        match (key, args) {
            ("Ref", Json::String(name)) => {
                self.names.insert(name.clone());
            }
            ("Fn::GetAtt", Json::String(s)) => {
                let resource = s.split_once('.').map_or(s.as_str(), |(r, _)| r);
                self.names.insert(resource.to_string());
            }
            ("Fn::GetAtt", Json::Array(items)) => {
                if let Some(r) = items.first().and_then(Json::as_str) {
                    self.names.insert(r.to_string());
                }
                items.iter().skip(1).for_each(|i| self.add(i, template));
            }
            ("Fn::Sub", _) => {
                let (text, vars) = match args {
                    Json::String(s) => (Some(s.as_str()), None),
                    Json::Array(items) => (
                        items.first().and_then(Json::as_str),
                        items.get(1).and_then(Json::as_object),
                    ),
                    _ => (None, None),
                };
                if let Some(pieces) = text.and_then(super::eval::parse_sub) {
                    for piece in pieces {
                        if let super::eval::Piece::Hole(name) = piece {
                            if vars.is_some_and(|v| v.contains_key(&name)) {
                                continue;
                            }
                            let target = match name.split_once('.') {
                                Some((r, _)) if !name.starts_with("AWS::") => r.to_string(),
                                _ => name,
                            };
                            self.names.insert(target);
                        }
                    }
                }
                if let Some(vars) = vars {
                    vars.values().for_each(|v| self.add(v, template));
                }
            }
            ("Fn::If", Json::Array(items)) => {
                if let Some(c) = items.first().and_then(Json::as_str) {
                    self.condition(c, template);
                }
                items.iter().skip(1).for_each(|i| self.add(i, template));
            }
            ("Condition", Json::String(c)) => self.condition(c, template),
            ("Fn::FindInMap", Json::Array(items)) => {
                if let Some(m) = items.first().and_then(Json::as_str) {
                    self.mappings.insert(m.to_string());
                }
                items.iter().for_each(|i| self.add(i, template));
            }
            _ => return false,
        }
        true
    }

    /// A condition and, through its definition, what it refers to.
    pub fn condition(&mut self, name: &str, template: &Template) {
        if !self.conditions.insert(name.to_string()) {
            return;
        }
        if let Some(def) = template.body.get("Conditions").and_then(|c| c.get(name)) {
            self.add(def, template);
        }
    }
}

fn section<'a>(
    template: &'a Template,
    name: &'static str,
    side: Side,
) -> Result<Option<&'a Map<String, Json>>, PlanError> {
    match template.body.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Object(map)) => Ok(Some(map)),
        Some(_) => Err(PlanError::Section {
            side,
            section: name,
        }),
    }
}

/// Resources in an order where each comes after those it references
/// (template order otherwise); members of a reference cycle, which
/// CloudFormation rejects, come last in template order.
fn dependency_order(template: &Template, resources: &Map<String, Json>) -> Vec<String> {
    let deps: IndexMap<&String, BTreeSet<String>> = resources
        .iter()
        .map(|(name, decl)| {
            let mut refs = Refs::default();
            refs.add(decl, template);
            if let Some(depends_on) = decl.get("DependsOn") {
                refs.names.extend(depends_on_names(depends_on));
            }
            let deps = refs
                .names
                .into_iter()
                .filter(|n| n != name && resources.contains_key(n))
                .collect();
            (name, deps)
        })
        .collect();
    let mut done: HashSet<&str> = HashSet::new();
    let mut order = Vec::new();
    loop {
        let before = order.len();
        for (name, needs) in &deps {
            if !done.contains(name.as_str()) && needs.iter().all(|n| done.contains(n.as_str())) {
                done.insert(name.as_str());
                order.push((*name).clone());
            }
        }
        if order.len() == before {
            break;
        }
    }
    for name in deps.keys() {
        if !done.contains(name.as_str()) {
            order.push((*name).clone());
        }
    }
    order
}

fn depends_on_names(value: &Json) -> BTreeSet<String> {
    match value {
        Json::String(s) => BTreeSet::from([s.clone()]),
        Json::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// `Ref`/`GetAtt` values predicted from a resource's name property, for
/// common types whose identifiers are built from the name: so a replaced
/// bucket's new name and ARN are known, not just "changes".
fn predicted_values(resource_type: &str, props: &Val, ev: &Evaluator) -> ResourceValues {
    let mut out = ResourceValues::default();
    let Val::Map(props) = props else {
        return out;
    };
    let prop = |name: &str| -> Option<Val> {
        let v = props.get(name)?;
        matches!(v, Val::Str(_) | Val::Unknown(_)).then(|| v.clone())
    };
    let pseudo = |name: &str| ev.pseudo(name);
    let s = |text: &str| Some(Val::Str(text.to_string()));
    let arn = |parts: Vec<Option<Val>>| -> Option<Val> {
        concat(&parts.into_iter().collect::<Option<Vec<Val>>>()?)
    };
    let regional = |service: &str, rest: Vec<Option<Val>>| {
        let mut parts = vec![
            s("arn:"),
            pseudo("AWS::Partition"),
            s(&format!(":{service}:")),
            pseudo("AWS::Region"),
            s(":"),
            pseudo("AWS::AccountId"),
            s(":"),
        ];
        parts.extend(rest);
        arn(parts)
    };
    let iam = |kind: &str, name: Val| {
        let path = prop("Path").unwrap_or_else(|| Val::Str("/".into()));
        arn(vec![
            s("arn:"),
            pseudo("AWS::Partition"),
            s(":iam::"),
            pseudo("AWS::AccountId"),
            s(&format!(":{kind}")),
            Some(path),
            Some(name),
        ])
    };
    let mut attr = |name: &str, value: Option<Val>| {
        if let Some(v) = value {
            out.attributes.insert(name.to_string(), v);
        }
    };
    let mut reference = None;
    match resource_type {
        "AWS::S3::Bucket" => {
            if let Some(name) = prop("BucketName") {
                attr(
                    "Arn",
                    arn(vec![
                        s("arn:"),
                        pseudo("AWS::Partition"),
                        s(":s3:::"),
                        Some(name.clone()),
                    ]),
                );
                reference = Some(name);
            }
        }
        "AWS::IAM::Role" => {
            if let Some(name) = prop("RoleName") {
                attr("Arn", iam("role", name.clone()));
                reference = Some(name);
            }
        }
        "AWS::IAM::User" => {
            if let Some(name) = prop("UserName") {
                attr("Arn", iam("user", name.clone()));
                reference = Some(name);
            }
        }
        "AWS::IAM::ManagedPolicy" => {
            if let Some(name) = prop("ManagedPolicyName") {
                reference = iam("policy", name.clone());
                attr("PolicyArn", reference.clone());
            }
        }
        "AWS::DynamoDB::Table" => {
            if let Some(name) = prop("TableName") {
                attr(
                    "Arn",
                    regional("dynamodb", vec![s("table/"), Some(name.clone())]),
                );
                reference = Some(name);
            }
        }
        "AWS::Logs::LogGroup" => {
            if let Some(name) = prop("LogGroupName") {
                attr(
                    "Arn",
                    regional("logs", vec![s("log-group:"), Some(name.clone()), s(":*")]),
                );
                reference = Some(name);
            }
        }
        "AWS::Lambda::Function" => {
            if let Some(name) = prop("FunctionName") {
                attr(
                    "Arn",
                    regional("lambda", vec![s("function:"), Some(name.clone())]),
                );
                reference = Some(name);
            }
        }
        "AWS::SNS::Topic" => {
            if let Some(name) = prop("TopicName") {
                reference = regional("sns", vec![Some(name.clone())]);
                attr("TopicArn", reference.clone());
                attr("TopicName", Some(name));
            }
        }
        "AWS::ECR::Repository" => {
            if let Some(name) = prop("RepositoryName") {
                attr(
                    "Arn",
                    regional("ecr", vec![s("repository/"), Some(name.clone())]),
                );
                reference = Some(name);
            }
        }
        "AWS::SSM::Parameter" => reference = prop("Name"),
        "AWS::KMS::Alias" => reference = prop("AliasName"),
        "AWS::IAM::InstanceProfile" => reference = prop("InstanceProfileName"),
        "AWS::IAM::Group" => reference = prop("GroupName"),
        _ => {}
    }
    out.reference = reference;
    out
}

/// `Ref`/`GetAtt` values the deployed stack's outputs show: an output whose
/// value is exactly `!Ref R` or `!GetAtt R.A`.
fn values_from_outputs(deployed: &Deployed) -> HashMap<String, ResourceValues> {
    let mut out: HashMap<String, ResourceValues> = HashMap::new();
    let Some(outputs) = deployed
        .template
        .body
        .get("Outputs")
        .and_then(Json::as_object)
    else {
        return out;
    };
    for given in deployed.outputs {
        let Some(expr) = outputs.get(&given.key).and_then(|o| o.get("Value")) else {
            continue;
        };
        let value = Val::Str(given.value.clone());
        match expr.as_object().and_then(|m| m.iter().next()) {
            Some((k, Json::String(r))) if k == "Ref" => {
                out.entry(r.clone()).or_default().reference = Some(value);
            }
            Some((k, args)) if k == "Fn::GetAtt" => {
                let pair = match args {
                    Json::String(s) => s
                        .split_once('.')
                        .map(|(r, a)| (r.to_string(), a.to_string())),
                    Json::Array(items) => match (items.first(), items.get(1)) {
                        (Some(Json::String(r)), Some(Json::String(a))) => {
                            Some((r.clone(), a.clone()))
                        }
                        _ => None,
                    },
                    _ => None,
                };
                if let Some((r, a)) = pair {
                    out.entry(r).or_default().attributes.insert(a, value);
                }
            }
            _ => {}
        }
    }
    out
}

fn param_values(
    template: &Template,
    given: &IndexMap<String, ParamInput>,
    previous: Option<&IndexMap<String, Option<String>>>,
) -> IndexMap<String, Option<String>> {
    let mut out = IndexMap::new();
    for (name, decl) in &template.parameters {
        let value = match given.get(name) {
            Some(ParamInput::Known(v)) if previous.is_none() && decl.no_echo && v == "****" => None,
            Some(ParamInput::Known(v)) => Some(v.clone()),
            Some(ParamInput::Unknown) => None,
            Some(ParamInput::UsePrevious) => previous.and_then(|p| p.get(name).cloned().flatten()),
            None => decl.default.clone(),
        };
        out.insert(name.clone(), value);
    }
    out
}

fn param_changes(
    old: &Template,
    new: &Template,
    old_values: &IndexMap<String, Option<String>>,
    new_values: &IndexMap<String, Option<String>>,
    desired: &IndexMap<String, ParamInput>,
    no_echo: &BTreeSet<String>,
) -> (HashMap<String, ParamStatus>, Vec<ParameterChange>) {
    let mut status = HashMap::new();
    let mut changes = Vec::new();
    let names: Vec<&String> = new
        .parameters
        .keys()
        .chain(
            old.parameters
                .keys()
                .filter(|k| !new.parameters.contains_key(*k)),
        )
        .collect();
    for name in names {
        let ssm = |t: &Template| {
            t.parameters
                .get(name)
                .is_some_and(|p| p.resolves_at_deploy())
        };
        let old_v = old_values.get(name);
        let new_v = new_values.get(name);
        let st = match (old_v, new_v) {
            _ if ssm(old) || ssm(new) => ParamStatus::Maybe,
            (Some(Some(a)), Some(Some(b))) if a == b => ParamStatus::Same,
            (Some(Some(_)), Some(Some(_))) => ParamStatus::Changed,
            // Both unknown: the same only when the task keeps the previous
            // value.
            (Some(None), Some(None))
                if desired.get(name.as_str()) == Some(&ParamInput::UsePrevious) =>
            {
                ParamStatus::Same
            }
            (Some(_), Some(_)) => ParamStatus::Maybe,
            _ => ParamStatus::Changed,
        };
        status.insert(name.clone(), st);
        if st != ParamStatus::Same {
            let shown = |v: Option<&Option<String>>| {
                v.map(|v| match v {
                    _ if no_echo.contains(name) => PlanValue::Masked,
                    Some(s) => PlanValue::Known(Json::String(s.clone())),
                    None => PlanValue::Unknown(serde_json::json!({ "Ref": name })),
                })
            };
            changes.push(ParameterChange {
                name: name.clone(),
                old: shown(old_v),
                new: shown(new_v),
                certain: st == ParamStatus::Changed,
            });
        }
    }
    (status, changes)
}

fn eval_at(
    state: &SideState,
    expr: Option<&Json>,
    location: impl FnOnce() -> String,
) -> Result<Option<Val>, PlanError> {
    match expr {
        None => Ok(None),
        Some(e) => state.ev.eval(e).map_err(|source| PlanError::Eval {
            side: state.side,
            location: location(),
            source,
        }),
    }
}

fn existence(state: &SideState, name: &str, decl: &Json) -> Result<Exists, PlanError> {
    let Some(cond) = decl.get("Condition").and_then(Json::as_str) else {
        return Ok(Exists::Yes);
    };
    match state.ev.condition(cond) {
        Ok(Cond::Known(true)) => Ok(Exists::Yes),
        Ok(Cond::Known(false)) => Ok(Exists::No),
        Ok(Cond::Unknown(_)) => Ok(Exists::Maybe),
        Err(source) => Err(PlanError::Eval {
            side: state.side,
            location: format!("Resources.{name}.Condition"),
            source,
        }),
    }
}

fn resource_type(decl: &Json, name: &str, side: Side) -> Result<String, PlanError> {
    decl.get("Type")
        .and_then(Json::as_str)
        .map(str::to_string)
        .ok_or_else(|| PlanError::MissingType {
            side,
            logical_id: name.to_string(),
        })
}

/// Evaluates one side's resources (properties and existence) in
/// dependency order, telling the evaluator each resource's values.
fn evaluate_old(state: &mut SideState, deployed: &Deployed) -> Result<(), PlanError> {
    let Some(resources) = section(state.template, "Resources", state.side)? else {
        return Ok(());
    };
    let from_outputs = values_from_outputs(deployed);
    for name in dependency_order(state.template, resources) {
        let Some(decl) = resources.get(&name) else {
            continue;
        };
        let kind = resource_type(decl, &name, state.side)?;
        let exists = existence(state, &name, decl)?;
        let props = if exists.at_all() {
            eval_at(state, decl.get("Properties"), || {
                format!("Resources.{name}.Properties")
            })?
        } else {
            None
        }
        .unwrap_or(Val::Map(IndexMap::new()));
        let mut values = predicted_values(&kind, &props, &state.ev);
        if let Some(real) = from_outputs.get(&name) {
            if real.reference.is_some() {
                values.reference = real.reference.clone();
            }
            values.attributes.extend(real.attributes.clone());
        }
        state.ev.set_resource(&name, values);
        state.exists.insert(name.clone(), exists);
        state.props.insert(name, props);
    }
    Ok(())
}

fn policy(value: Option<Val>) -> Option<Policy> {
    Some(match value?.as_str() {
        Some("Delete") => Policy::Delete,
        Some("Retain") => Policy::Retain,
        Some("RetainExceptOnCreate") => Policy::RetainExceptOnCreate,
        Some("Snapshot") => Policy::Snapshot,
        _ => Policy::Unknown,
    })
}

/// Leaves of the difference between two property values.
fn diff_values(
    path: &mut Vec<PathStep>,
    old: Option<&Val>,
    new: Option<&Val>,
    changing: &dyn Fn(&Dep) -> bool,
    out: &mut Vec<(PropertyPath, Option<Val>, Option<Val>, Cmp)>,
) {
    let cmp = match (old, new) {
        (None, None) => return,
        (Some(Val::Map(a)), Some(Val::Map(b))) => {
            for (k, v) in a {
                path.push(PathStep::Key(k.clone()));
                diff_values(path, Some(v), b.get(k), changing, out);
                path.pop();
            }
            for (k, w) in b {
                if !a.contains_key(k) {
                    path.push(PathStep::Key(k.clone()));
                    diff_values(path, None, Some(w), changing, out);
                    path.pop();
                }
            }
            return;
        }
        (Some(Val::List(a)), Some(Val::List(b))) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                path.push(PathStep::Index(i));
                diff_values(path, Some(v), Some(w), changing, out);
                path.pop();
            }
            return;
        }
        (Some(a), Some(b)) => compare(a, b, changing),
        (Some(v), None) | (None, Some(v)) => absent_vs(v),
    };
    if cmp != Cmp::Same {
        out.push((PropertyPath(path.clone()), old.cloned(), new.cloned(), cmp));
    }
}

/// The part of a value a create-only path selects.
fn project(value: Option<&Val>, pattern: &[PathPattern]) -> Option<Val> {
    let Some((step, rest)) = pattern.split_first() else {
        return value.cloned();
    };
    match (value?, step) {
        (unknown @ Val::Unknown(_), _) => Some(unknown.clone()),
        (Val::Map(map), PathPattern::Key(k)) => project(map.get(k), rest),
        (Val::List(items), PathPattern::AnyItem) => Some(Val::List(
            items
                .iter()
                .map(|i| project(Some(i), rest).unwrap_or(Val::Null))
                .collect(),
        )),
        _ => None,
    }
}

fn compare_opt(a: Option<&Val>, b: Option<&Val>, changing: &dyn Fn(&Dep) -> bool) -> Cmp {
    match (a, b) {
        (None, None) => Cmp::Same,
        (Some(v), None) | (None, Some(v)) => absent_vs(v),
        (Some(x), Some(y)) => compare(x, y, changing),
    }
}

/// Whether a change at `path` is at, inside or around a create-only path.
fn touches(path: &[PathStep], pattern: &[PathPattern]) -> bool {
    path.iter()
        .zip(pattern)
        .all(|(step, pat)| match (step, pat) {
            (PathStep::Key(k), PathPattern::Key(p)) => k == p,
            (PathStep::Index(_), PathPattern::AnyItem) => true,
            _ => false,
        })
}

/// Compares one resource present on both sides.
fn compare_resource(
    ctx: &Context,
    name: &str,
    old_decl: &Json,
    new_decl: &Json,
    new_props: &Val,
) -> Result<Option<ResourceChange>, PlanError> {
    let changing = |d: &Dep| ctx.is_changing(d);
    let old_type = resource_type(old_decl, name, Side::Deployed)?;
    let new_type = resource_type(new_decl, name, Side::Desired)?;
    let empty = Val::Map(IndexMap::new());
    let old_props = ctx.old.props.get(name).unwrap_or(&empty);

    let mut leaves = Vec::new();
    diff_values(
        &mut Vec::new(),
        Some(old_props),
        Some(new_props),
        &changing,
        &mut leaves,
    );

    // Create-only paths: compare what each selects on both sides.
    let info = create_only::type_info(&new_type);
    let mut hits: Vec<(&[PathPattern], Replacement)> = Vec::new();
    if let Some(info) = info {
        let sides = |p: &[PathPattern]| {
            compare_opt(
                project(Some(old_props), p).as_ref(),
                project(Some(new_props), p).as_ref(),
                &changing,
            )
        };
        for p in &info.create_only {
            match sides(p) {
                Cmp::Same => {}
                Cmp::Differs => hits.push((p, Replacement::True)),
                Cmp::Maybe => hits.push((p, Replacement::Conditional)),
            }
        }
        for p in &info.conditional {
            if sides(p) != Cmp::Same {
                hits.push((p, Replacement::Conditional));
            }
        }
    }

    let raw_prop = |decl: &Json, k: &str| decl.get("Properties").and_then(|p| p.get(k)).cloned();
    let mut prop_causes: HashMap<String, (BTreeSet<Cause>, bool)> = HashMap::new();
    let mut changes = Vec::new();
    let mut replacement = Replacement::False;
    for (path, old, new, cmp) in leaves {
        let top = match path.0.first() {
            Some(PathStep::Key(k)) => k.clone(),
            _ => String::new(),
        };
        let (causes, masked) = prop_causes
            .entry(top.clone())
            .or_insert_with(|| {
                ctx.causes(
                    raw_prop(old_decl, &top).as_ref(),
                    raw_prop(new_decl, &top).as_ref(),
                )
            })
            .clone();
        let this = match info {
            None => Replacement::Unknown,
            Some(_) => hits
                .iter()
                .filter(|(p, _)| touches(&path.0, p))
                .fold(Replacement::False, |acc, (_, r)| acc.max(*r)),
        };
        replacement = replacement.max(this);
        changes.push(PropertyChange {
            path,
            old: old.map(|v| ctx.shown(&v, masked)),
            new: new.map(|v| ctx.shown(&v, masked)),
            certain: cmp == Cmp::Differs,
            replacement: this,
            causes,
        });
    }
    // A create-only path whose change shows under no leaf (it cannot
    // happen for a leaf-wise diff, but keep the resource's verdict right).
    for (_, r) in &hits {
        replacement = replacement.max(*r);
    }

    let mut attributes = Vec::new();
    let mut attr_causes = BTreeSet::new();
    let attr_list = [
        ("Metadata", AttributeChange::Metadata),
        ("UpdatePolicy", AttributeChange::UpdatePolicy),
        ("CreationPolicy", AttributeChange::CreationPolicy),
        ("DeletionPolicy", AttributeChange::DeletionPolicy),
        ("UpdateReplacePolicy", AttributeChange::UpdateReplacePolicy),
    ];
    for (key, kind) in attr_list {
        let loc = || format!("Resources.{name}.{key}");
        let old = eval_at(&ctx.old, old_decl.get(key), loc)?;
        let new = eval_at(&ctx.new, new_decl.get(key), loc)?;
        if compare_opt(old.as_ref(), new.as_ref(), &changing) != Cmp::Same {
            attributes.push(kind);
            attr_causes.extend(ctx.causes(old_decl.get(key), new_decl.get(key)).0);
        }
    }
    let deps_of = |d: &Json| d.get("DependsOn").map(depends_on_names).unwrap_or_default();
    if deps_of(old_decl) != deps_of(new_decl) {
        attributes.push(AttributeChange::DependsOn);
        attr_causes.insert(Cause::Template);
    }

    let previous_type = (old_type != new_type).then(|| old_type.clone());
    if previous_type.is_some() {
        replacement = Replacement::True;
    }
    if changes.is_empty() && attributes.is_empty() && previous_type.is_none() {
        return Ok(None);
    }
    let mut causes: BTreeSet<Cause> = changes.iter().flat_map(|c| c.causes.clone()).collect();
    causes.extend(attr_causes);
    if previous_type.is_some() {
        causes.insert(Cause::Template);
    }
    let policies = |key: &str| -> Result<Option<Policy>, PlanError> {
        Ok(policy(eval_at(&ctx.new, new_decl.get(key), || {
            format!("Resources.{name}.{key}")
        })?))
    };
    Ok(Some(ResourceChange {
        logical_id: name.to_string(),
        resource_type: new_type.clone(),
        action: Action::Modify { replacement },
        previous_type,
        changes,
        attributes,
        causes,
        existence_uncertain: false,
        stateful: create_only::is_stateful(&new_type),
        deletion_policy: policies("DeletionPolicy")?,
        update_replace_policy: policies("UpdateReplacePolicy")?,
    }))
}

/// Causes of a resource appearing or disappearing.
fn existence_causes(
    ctx: &Context,
    old_decl: Option<&Json>,
    new_decl: Option<&Json>,
) -> BTreeSet<Cause> {
    let (Some(old), Some(new)) = (old_decl, new_decl) else {
        return BTreeSet::from([Cause::Template]);
    };
    let cond = |d: &Json| d.get("Condition").cloned();
    let wrap = |c: Option<Json>| c.map(|c| serde_json::json!({ "Condition": c }));
    ctx.causes(wrap(cond(old)).as_ref(), wrap(cond(new)).as_ref())
        .0
}

fn added_or_removed(
    ctx: &Context,
    name: &str,
    decl: &Json,
    side: Side,
    action: Action,
    causes: BTreeSet<Cause>,
    uncertain: bool,
) -> Result<ResourceChange, PlanError> {
    let kind = resource_type(decl, name, side)?;
    let state = if side == Side::Deployed {
        &ctx.old
    } else {
        &ctx.new
    };
    let pol = |key: &str| -> Result<Option<Policy>, PlanError> {
        Ok(policy(eval_at(state, decl.get(key), || {
            format!("Resources.{name}.{key}")
        })?))
    };
    Ok(ResourceChange {
        logical_id: name.to_string(),
        resource_type: kind.clone(),
        action,
        previous_type: None,
        changes: Vec::new(),
        attributes: Vec::new(),
        causes,
        existence_uncertain: uncertain,
        stateful: create_only::is_stateful(&kind),
        deletion_policy: pol("DeletionPolicy")?,
        update_replace_policy: pol("UpdateReplacePolicy")?,
    })
}

pub(crate) fn plan(
    deployed: &Deployed,
    desired: &Desired,
    pseudo: &Pseudo,
) -> Result<Plan, PlanError> {
    let old_values = param_values(deployed.template, deployed.parameters, None);
    let new_values = param_values(desired.template, desired.parameters, Some(&old_values));
    let no_echo: BTreeSet<String> = deployed
        .template
        .parameters
        .iter()
        .chain(&desired.template.parameters)
        .filter(|(_, p)| p.no_echo)
        .map(|(n, _)| n.clone())
        .collect();
    let (param_status, parameters) = param_changes(
        deployed.template,
        desired.template,
        &old_values,
        &new_values,
        desired.parameters,
        &no_echo,
    );
    let mut old = SideState {
        side: Side::Deployed,
        ev: Evaluator::new(deployed.template, old_values, pseudo),
        template: deployed.template,
        exists: HashMap::new(),
        props: HashMap::new(),
    };
    evaluate_old(&mut old, deployed)?;
    let new = SideState {
        side: Side::Desired,
        ev: Evaluator::new(desired.template, new_values, pseudo),
        template: desired.template,
        exists: HashMap::new(),
        props: HashMap::new(),
    };
    let mut ctx = Context {
        old,
        new,
        param_status,
        changing: HashSet::new(),
        no_echo,
        deployed,
    };

    let old_resources = section(deployed.template, "Resources", Side::Deployed)?;
    let new_resources = section(desired.template, "Resources", Side::Desired)?;
    let mut found: HashMap<String, ResourceChange> = HashMap::new();
    if let Some(resources) = new_resources {
        for name in dependency_order(desired.template, resources) {
            let Some(decl) = resources.get(&name) else {
                continue;
            };
            let kind = resource_type(decl, &name, Side::Desired)?;
            let exists = existence(&ctx.new, &name, decl)?;
            let props = if exists.at_all() {
                eval_at(&ctx.new, decl.get("Properties"), || {
                    format!("Resources.{name}.Properties")
                })?
            } else {
                None
            }
            .unwrap_or(Val::Map(IndexMap::new()));
            let old_decl = old_resources.and_then(|r| r.get(&name));
            let old_exists = old_decl
                .and_then(|_| ctx.old.exists.get(&name).cloned())
                .unwrap_or(Exists::No);
            let uncertain = exists == Exists::Maybe || old_exists == Exists::Maybe;
            let change = match (old_exists.at_all(), exists.at_all()) {
                (false, false) => None,
                (false, true) => Some(added_or_removed(
                    &ctx,
                    &name,
                    decl,
                    Side::Desired,
                    Action::Add,
                    existence_causes(&ctx, old_decl, Some(decl)),
                    uncertain,
                )?),
                (true, false) => old_decl
                    .map(|od| {
                        added_or_removed(
                            &ctx,
                            &name,
                            od,
                            Side::Deployed,
                            Action::Remove,
                            existence_causes(&ctx, Some(od), Some(decl)),
                            uncertain,
                        )
                    })
                    .transpose()?,
                (true, true) => match old_decl {
                    Some(od) => compare_resource(&ctx, &name, od, decl, &props)?.map(|mut c| {
                        c.existence_uncertain = uncertain;
                        c
                    }),
                    None => None,
                },
            };
            let replaced = match change.as_ref().map(|c| c.action) {
                Some(Action::Add) => true,
                Some(Action::Modify { replacement }) => replacement != Replacement::False,
                _ => false,
            };
            // A resource kept in place keeps its identifiers; a new or
            // replaced one gets those its new name predicts, or unknowns.
            let values = match ctx.old.ev.resource(&name) {
                Some(v) if !replaced && old_exists.at_all() => v.clone(),
                _ => predicted_values(&kind, &props, &ctx.new.ev),
            };
            if replaced {
                ctx.changing.insert(name.clone());
            }
            ctx.new.ev.set_resource(&name, values);
            ctx.new.exists.insert(name.clone(), exists);
            ctx.new.props.insert(name.clone(), props);
            if let Some(change) = change {
                found.insert(name, change);
            }
        }
    }
    let mut resources = Vec::new();
    if let Some(new_resources) = new_resources {
        for name in new_resources.keys() {
            resources.extend(found.remove(name));
        }
    }
    if let Some(old_resources) = old_resources {
        for (name, decl) in old_resources {
            let in_new = new_resources.is_some_and(|r| r.contains_key(name));
            let old_exists = ctx.old.exists.get(name).cloned().unwrap_or(Exists::No);
            if !in_new && old_exists.at_all() {
                resources.push(added_or_removed(
                    &ctx,
                    name,
                    decl,
                    Side::Deployed,
                    Action::Remove,
                    BTreeSet::from([Cause::Template]),
                    old_exists == Exists::Maybe,
                )?);
            }
        }
    }
    let outputs = outputs::plan_outputs(&ctx)?;
    Ok(Plan {
        parameters,
        resources,
        outputs: outputs.outputs,
        output_changes: outputs.changes,
        export_changes: outputs.exports,
        has_transform: deployed.template.has_transform || desired.template.has_transform,
    })
}
