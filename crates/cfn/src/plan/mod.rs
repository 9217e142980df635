//! Plans a reviewer can trust: what an update of a stack would do, worked
//! out from the deployed and the desired template without calling AWS.
//!
//! - [`create_only`]: which property changes replace a resource (from the
//!   resource provider schemas cfn-lint ships), and which types hold data.
//! - [`params`]: parameter values checked as CloudFormation would.
//! - [`eval`]: static evaluation of intrinsic functions.
//! - [`plan`]: per-resource Add/Modify/Remove with replacement, outputs and
//!   exports that change.
//! - [`textdiff`]: a unified diff of the two templates, normalised to YAML.

use std::collections::BTreeSet;
use std::fmt;

use indexmap::IndexMap;

use crate::{Json, Template};

pub mod create_only;
pub mod eval;
pub mod outputs;
pub mod params;
mod resources;
pub mod textdiff;

pub use eval::{EvalError, Pseudo};
pub use outputs::{
    ExportChange, ExportChangeKind, OutputAction, OutputChange, OutputPlan, OutputValue,
};
pub use params::{check_parameters, ParamProblem, ParamProblemKind, ParamReport};
pub use textdiff::{template_diff, TextDiffOptions};

/// A parameter value as a task gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamInput {
    Known(String),
    /// Known only after earlier tasks are applied (e.g. another stack's
    /// output in check mode).
    Unknown,
    /// `use_previous_value: true`: the value the stack has now.
    UsePrevious,
}

/// The stack as it is.
#[derive(Debug, Clone, Copy)]
pub struct Deployed<'a> {
    pub template: &'a Template,
    /// The stack's parameter values (DescribeStacks). A `NoEcho` value of
    /// `****` (as CloudFormation reports it) counts as unknown, and so do
    /// `Unknown` and `UsePrevious`.
    pub parameters: &'a IndexMap<String, ParamInput>,
    /// The stack's outputs, when known: they give real values to `Ref`s and
    /// `GetAtt`s that outputs show, and are what output changes are
    /// measured against.
    pub outputs: &'a [DeployedOutput],
}

/// The stack as the task wants it.
#[derive(Debug, Clone, Copy)]
pub struct Desired<'a> {
    pub template: &'a Template,
    /// Values the task gives; a parameter missing here takes its default.
    pub parameters: &'a IndexMap<String, ParamInput>,
}

/// An output of the deployed stack (DescribeStacks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedOutput {
    pub key: String,
    pub value: String,
    pub export_name: Option<String>,
}

/// A value shown in a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanValue {
    Known(Json),
    /// Known only after apply; the expression with what is known filled in
    /// (e.g. `{"Fn::Sub": "${Bucket.Arn}/*"}`).
    Unknown(Json),
    /// Derived from a `NoEcho` parameter: never shown.
    Masked,
}

/// Why something changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cause {
    /// The template text of the property (or attribute) changed.
    Template,
    /// A parameter it uses has a different (or not yet known) value.
    Parameter(String),
    /// A resource it references is replaced, added or may be replaced, so
    /// its `Ref`/`GetAtt` values change.
    Resource(String),
    /// A condition it uses is defined differently.
    Condition(String),
    /// A mapping it reads changed.
    Mapping(String),
}

/// Whether an update replaces a resource (CloudFormation's own terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Replacement {
    False,
    /// Depends on values known only while applying, or on a property the
    /// schema marks conditionally create-only.
    Conditional,
    True,
    /// The type is not in the create-only table (custom resources,
    /// third-party or newer types): replacement cannot be predicted.
    Unknown,
}

impl Replacement {
    fn rank(self) -> u8 {
        match self {
            Replacement::False => 0,
            Replacement::Conditional => 1,
            Replacement::Unknown => 2,
            Replacement::True => 3,
        }
    }

    /// The more severe of two.
    pub fn max(self, other: Replacement) -> Replacement {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Add,
    Modify { replacement: Replacement },
    Remove,
}

/// One step of a property path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

/// A path below a resource's `Properties`, shown as
/// `BucketEncryption.ServerSideEncryptionConfiguration[0].BucketKeyEnabled`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PropertyPath(pub Vec<PathStep>);

impl fmt::Display for PropertyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Key(k) if i == 0 => write!(f, "{k}")?,
                PathStep::Key(k) => write!(f, ".{k}")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A property that changes.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyChange {
    pub path: PropertyPath,
    /// `None`: the property is added.
    pub old: Option<PlanValue>,
    /// `None`: the property is removed.
    pub new: Option<PlanValue>,
    /// `false` when it only may change (it depends on values known after
    /// apply).
    pub certain: bool,
    /// What this change alone does to the resource.
    pub replacement: Replacement,
    pub causes: BTreeSet<Cause>,
}

/// A resource attribute (outside `Properties`) that changes; these update
/// the stack without touching the resource's properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttributeChange {
    Metadata,
    DependsOn,
    DeletionPolicy,
    UpdateReplacePolicy,
    UpdatePolicy,
    CreationPolicy,
}

/// `DeletionPolicy` / `UpdateReplacePolicy` values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    Delete,
    Retain,
    RetainExceptOnCreate,
    Snapshot,
    /// Not known statically, or not a value CloudFormation knows.
    Unknown,
}

/// A stateful resource (see [`create_only::STATEFUL_TYPES`]) whose data
/// the plan would delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataRisk {
    /// Removed without `DeletionPolicy: Retain`.
    Removed,
    /// Replaced (or maybe replaced) without `UpdateReplacePolicy: Retain`:
    /// the old resource is deleted.
    Replaced,
}

/// What the update does to one resource; unchanged resources are omitted.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    pub logical_id: String,
    pub resource_type: String,
    pub action: Action,
    /// The type in the deployed template, when it differs (CloudFormation
    /// refuses to change a resource's type in place).
    pub previous_type: Option<String>,
    pub changes: Vec<PropertyChange>,
    pub attributes: Vec<AttributeChange>,
    /// Why, over all changes.
    pub causes: BTreeSet<Cause>,
    /// Whether the resource exists depends on a condition known only after
    /// apply (so an Add/Remove may not happen, a Modify may add or remove).
    pub existence_uncertain: bool,
    pub stateful: bool,
    /// For a removal, the deployed template's policy; else the desired one.
    pub deletion_policy: Option<Policy>,
    pub update_replace_policy: Option<Policy>,
}

impl ResourceChange {
    /// Whether the plan deletes a stateful resource's data: callers turn
    /// this into a warning. Only `Retain` keeps the resource; `Snapshot`
    /// keeps a snapshot but still deletes the live resource.
    pub fn data_at_risk(&self) -> Option<DataRisk> {
        if !self.stateful {
            return None;
        }
        let retained =
            |p: &Option<Policy>| matches!(p, Some(Policy::Retain | Policy::RetainExceptOnCreate));
        match self.action {
            Action::Remove if !retained(&self.deletion_policy) => Some(DataRisk::Removed),
            Action::Modify {
                replacement: Replacement::True | Replacement::Conditional | Replacement::Unknown,
            } if !self.changes.is_empty() && !retained(&self.update_replace_policy) => {
                Some(DataRisk::Replaced)
            }
            _ => None,
        }
    }
}

/// How a parameter's value changes between the deployed and desired side.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterChange {
    pub name: String,
    /// `None`: not a parameter of that side's template.
    pub old: Option<PlanValue>,
    pub new: Option<PlanValue>,
    /// `false` when one side's value is not known here.
    pub certain: bool,
}

/// Which template an error is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Deployed,
    Desired,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Deployed => "deployed",
            Side::Desired => "desired",
        })
    }
}

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{side} template, {location}: {source}")]
    Eval {
        side: Side,
        /// e.g. `Resources.Bucket.Properties`.
        location: String,
        #[source]
        source: EvalError,
    },
    #[error("{side} template: `{section}` must be a mapping")]
    Section { side: Side, section: &'static str },
    #[error("{side} template: resource `{logical_id}` has no `Type`")]
    MissingType { side: Side, logical_id: String },
}

/// The whole plan of a stack update.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Parameters whose value changes (or may).
    pub parameters: Vec<ParameterChange>,
    /// Changed resources, in the desired template's order, then removed ones.
    pub resources: Vec<ResourceChange>,
    /// Every output of the desired side with its predicted value.
    pub outputs: Vec<OutputPlan>,
    /// Outputs that are added, removed or change (or may).
    pub output_changes: Vec<OutputChange>,
    /// Exports that are added, removed or whose value changes (or may):
    /// removing or changing an export another stack imports fails the
    /// update.
    pub export_changes: Vec<ExportChange>,
    /// One of the templates uses `Transform` (macros, SAM): resources are
    /// compared as written, before CloudFormation expands them, so the
    /// plan may miss or misname changes.
    pub has_transform: bool,
}

impl Plan {
    /// Whether the update changes anything.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.output_changes.is_empty()
    }
}

/// Works out what updating the deployed stack to the desired template and
/// parameters would do. A stack that does not exist yet can be planned
/// with an empty deployed template (`parse("{}")`).
///
/// ```
/// use indexmap::IndexMap;
/// use runbook_cfn::parse;
/// use runbook_cfn::plan::{plan, Action, Deployed, Desired, ParamInput, Pseudo, Replacement};
///
/// let t = parse("Parameters:\n  Name: {Type: String}\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Ref Name\n").unwrap();
/// let old = IndexMap::from([("Name".to_string(), ParamInput::Known("a".into()))]);
/// let new = IndexMap::from([("Name".to_string(), ParamInput::Known("b".into()))]);
/// let deployed = Deployed { template: &t, parameters: &old, outputs: &[] };
/// let desired = Desired { template: &t, parameters: &new };
/// let p = plan(&deployed, &desired, &Pseudo::default()).unwrap();
/// assert_eq!(p.resources[0].action, Action::Modify { replacement: Replacement::True });
/// ```
pub fn plan(deployed: &Deployed, desired: &Desired, pseudo: &Pseudo) -> Result<Plan, PlanError> {
    resources::plan(deployed, desired, pseudo)
}

#[cfg(test)]
mod tests;
