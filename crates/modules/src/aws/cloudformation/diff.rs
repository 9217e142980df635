//! Is a deployed stack what the task asks for? Decided from DescribeStacks
//! and GetTemplate alone, so an unchanged stack costs two read calls.

use indexmap::IndexMap;

use super::spec::StackSpec;

/// The parts of a deployed stack that the comparison needs.
#[derive(Debug, Clone, Default)]
pub struct Deployed {
    pub stack_id: String,
    pub status: String,
    pub parameters: IndexMap<String, String>,
    pub tags: IndexMap<String, String>,
    pub termination_protection: bool,
    pub role_arn: Option<String>,
    pub notification_arns: Vec<String>,
    pub outputs: IndexMap<String, String>,
    /// When the stack last changed (its last update, or its creation).
    pub last_changed: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParamChange {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub template_changed: bool,
    pub parameters: Vec<ParamChange>,
    pub tags: Option<(IndexMap<String, String>, IndexMap<String, String>)>,
    pub role_arn: bool,
    pub notification_arns: bool,
    /// Termination protection to set, when it differs.
    pub termination_protection: Option<bool>,
    /// The stack policy to set, when it differs (SetStackPolicy).
    pub stack_policy: Option<String>,
    /// Why the comparison cannot be sure (NoEcho or SSM parameters,
    /// transforms, a template at a URL): CloudFormation must be asked.
    pub uncertain: Vec<String>,
}

impl Plan {
    /// Whether UpdateStack (or a change set) is known to be needed.
    pub fn stack_changes(&self) -> bool {
        self.template_changed
            || !self.parameters.is_empty()
            || self.tags.is_some()
            || self.role_arn
            || self.notification_arns
    }

    pub fn is_noop(&self) -> bool {
        !self.stack_changes()
            && self.termination_protection.is_none()
            && self.stack_policy.is_none()
            && self.uncertain.is_empty()
    }

    /// Lines for the plan output, secrets hidden.
    pub fn describe(&self, spec: &StackSpec) -> Vec<String> {
        let mut lines = Vec::new();
        if self.template_changed {
            lines.push("template changed".to_string());
        }
        for change in &self.parameters {
            let show = |v: &Option<String>| match v {
                Some(v) => spec.shown(&change.key, v),
                None => "(none)".to_string(),
            };
            lines.push(format!(
                "parameter {}: {} -> {}",
                change.key,
                show(&change.old),
                show(&change.new)
            ));
        }
        if let Some((old, new)) = &self.tags {
            lines.push(format!("tags: {} -> {}", tags_text(old), tags_text(new)));
        }
        if self.role_arn {
            lines.push("role_arn changed".to_string());
        }
        if self.notification_arns {
            lines.push("notification_arns changed".to_string());
        }
        if self.stack_policy.is_some() {
            lines.push("stack policy changed".to_string());
        }
        if let Some(on) = self.termination_protection {
            lines.push(format!(
                "termination protection -> {}",
                if on { "on" } else { "off" }
            ));
        }
        for reason in &self.uncertain {
            lines.push(format!("may change: {reason}"));
        }
        lines
    }
}

fn tags_text(tags: &IndexMap<String, String>) -> String {
    let parts: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// Compares what the task asks for with what is deployed.
/// `deployed_template` is GetTemplate's original body, `None` if unknown.
pub fn compare(spec: &StackSpec, deployed: &Deployed, deployed_template: Option<&str>) -> Plan {
    let mut plan = Plan::default();
    match (&spec.body, deployed_template) {
        (Some(wanted), Some(current)) => {
            if wanted != current {
                // Text differs; the same template written differently
                // (whitespace, JSON vs YAML) is still the same template.
                let same = match (runbook_cfn::parse(wanted), runbook_cfn::parse(current)) {
                    (Ok(a), Ok(b)) => a.body == b.body,
                    _ => false,
                };
                plan.template_changed = !same;
            }
        }
        (Some(_), None) => plan.template_changed = true,
        (None, _) => plan.uncertain.push(
            "the template is given by URL, which runbook does not download to compare".into(),
        ),
    }
    if spec.template.as_ref().is_some_and(|t| t.has_transform) {
        plan.uncertain
            .push("the template uses a transform, whose output only CloudFormation knows".into());
    }

    // Desired value of every parameter: given, previous, or the default.
    let given: IndexMap<&str, &super::spec::ParamSpec> = spec
        .parameters
        .iter()
        .map(|p| (p.key.as_str(), p))
        .collect();
    let declared: Vec<(String, Option<String>, bool, bool)> = match &spec.template {
        Some(t) => t
            .parameters
            .iter()
            .map(|(k, p)| {
                (
                    k.clone(),
                    p.default.clone(),
                    p.no_echo,
                    p.resolves_at_deploy(),
                )
            })
            .collect(),
        // A template at a URL is not read: a deployed value of `****` is
        // the only sign of a NoEcho parameter.
        None => spec
            .parameters
            .iter()
            .map(|p| {
                let masked = deployed.parameters.get(&p.key).is_some_and(|v| v == "****");
                (p.key.clone(), None, masked, false)
            })
            .collect(),
    };
    for (key, default, no_echo, ssm) in &declared {
        let current = deployed.parameters.get(key).cloned();
        let wanted = match given.get(key.as_str()) {
            Some(p) if p.use_previous => current.clone(),
            Some(p) => p.value.clone(),
            None => default.clone(),
        };
        if *no_echo {
            if given.get(key.as_str()).is_some_and(|p| !p.use_previous) {
                plan.uncertain.push(format!(
                    "parameter {key} is NoEcho, so its deployed value cannot be read"
                ));
            }
            continue;
        }
        if wanted != current {
            plan.parameters.push(ParamChange {
                key: key.clone(),
                old: current,
                new: wanted,
            });
        } else if *ssm {
            plan.uncertain.push(format!(
                "parameter {key} is read from SSM when the stack is deployed"
            ));
        }
    }
    // Parameters the template does not declare: CloudFormation rejects
    // them, so try the update and let it say so.
    if spec.template.is_some() {
        for p in &spec.parameters {
            if !declared.iter().any(|(k, ..)| k == &p.key) {
                plan.parameters.push(ParamChange {
                    key: p.key.clone(),
                    old: None,
                    new: p.value.clone(),
                });
            }
        }
    }

    if let Some(tags) = &spec.tags {
        let same = tags.len() == deployed.tags.len()
            && tags.iter().all(|(k, v)| deployed.tags.get(k) == Some(v));
        if !same {
            plan.tags = Some((deployed.tags.clone(), tags.clone()));
        }
    }
    if let Some(role) = &spec.role_arn {
        plan.role_arn = deployed.role_arn.as_ref() != Some(role);
    }
    if let Some(arns) = &spec.notification_arns {
        let mut a = arns.clone();
        let mut b = deployed.notification_arns.clone();
        a.sort();
        b.sort();
        plan.notification_arns = a != b;
    }
    if let Some(on) = spec.termination_protection {
        if on != deployed.termination_protection {
            plan.termination_protection = Some(on);
        }
    }
    plan
}

/// Whether two stack policies say the same, whitespace and key order aside.
pub fn same_policy(wanted: &str, current: Option<&str>) -> bool {
    let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
    match current {
        None => false,
        Some(current) => match (parse(wanted), parse(current)) {
            (Some(a), Some(b)) => a == b,
            _ => wanted.trim() == current.trim(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    const TEMPLATE: &str = "Parameters:\n  A:\n    Type: String\n  B:\n    Type: String\n    Default: b\n  Secret:\n    Type: String\n    NoEcho: true\n    Default: x\nResources: {}\n";

    fn spec(args: serde_json::Value) -> StackSpec {
        let mut base = json!({"stack_name": "s", "template_body": TEMPLATE});
        base.as_object_mut()
            .unwrap()
            .extend(args.as_object().unwrap().clone());
        let args: IndexMap<String, serde_json::Value> = base
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        StackSpec::from_args(&args, Path::new(".")).unwrap()
    }

    fn deployed(params: &[(&str, &str)], tags: &[(&str, &str)]) -> Deployed {
        Deployed {
            parameters: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn in_sync_with_defaults_applied() {
        let s = spec(json!({"template_parameters": {"A": "a"}, "tags": {"T": "1"}}));
        let d = deployed(&[("A", "a"), ("B", "b"), ("Secret", "****")], &[("T", "1")]);
        let plan = compare(&s, &d, Some(TEMPLATE));
        assert!(plan.is_noop(), "{plan:?}");
    }

    #[test]
    fn parameter_tag_and_template_changes() {
        let s = spec(
            json!({"template_parameters": {"A": "new", "B": {"use_previous_value": true}}, "tags": {"T": "2"}}),
        );
        let d = deployed(
            &[("A", "old"), ("B", "kept"), ("Secret", "****")],
            &[("T", "1")],
        );
        let plan = compare(&s, &d, Some("Resources: {}\n"));
        assert!(plan.template_changed);
        assert_eq!(
            plan.parameters,
            [ParamChange {
                key: "A".into(),
                old: Some("old".into()),
                new: Some("new".into())
            }]
        );
        assert!(plan.tags.is_some());
        assert_eq!(
            plan.describe(&s),
            [
                "template changed",
                "parameter A: old -> new",
                "tags: {T=1} -> {T=2}"
            ]
        );
    }

    #[test]
    fn same_template_written_differently_is_unchanged() {
        let s = spec(json!({"template_parameters": {"A": "a"}}));
        let d = deployed(&[("A", "a"), ("B", "b")], &[]);
        let reformatted = TEMPLATE.replace("Resources: {}", "Resources:   {}   # comment");
        assert!(!compare(&s, &d, Some(&reformatted)).template_changed);
    }

    #[test]
    fn noecho_given_means_uncertain_and_is_never_shown() {
        let s = spec(json!({"template_parameters": {"A": "a", "Secret": "hunter2"}}));
        let d = deployed(&[("A", "a"), ("B", "b"), ("Secret", "****")], &[]);
        let plan = compare(&s, &d, Some(TEMPLATE));
        assert!(!plan.stack_changes());
        assert_eq!(plan.uncertain.len(), 1);
        assert_eq!(s.shown("Secret", "hunter2"), "****");
        assert!(!format!("{:?}", plan.describe(&s)).contains("hunter2"));
    }

    #[test]
    fn a_masked_value_behind_a_template_url_is_uncertain_and_hidden() {
        let args: IndexMap<String, serde_json::Value> = json!({"stack_name": "s", "template_url": "https://example.invalid/t.yml", "template_parameters": {"Pw": "hunter2"}})
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let s = StackSpec::from_args(&args, Path::new(".")).unwrap();
        let d = deployed(&[("Pw", "****")], &[]);
        let plan = compare(&s, &d, None);
        assert!(!plan.stack_changes(), "{plan:?}");
        assert!(!format!("{:?}", plan.describe(&s)).contains("hunter2"));
    }

    #[test]
    fn stack_policies_compare_as_json() {
        assert!(same_policy(
            "{\"a\": [1, 2], \"b\": 1}",
            Some("{\"b\":1,\"a\":[1,2]}")
        ));
        assert!(!same_policy("{\"a\": 1}", Some("{\"a\": 2}")));
        assert!(!same_policy("{\"a\": 1}", None));
    }

    #[test]
    fn termination_protection_is_its_own_change() {
        let s = spec(json!({"template_parameters": {"A": "a"}, "termination_protection": true}));
        let d = deployed(&[("A", "a"), ("B", "b")], &[]);
        let plan = compare(&s, &d, Some(TEMPLATE));
        assert!(!plan.stack_changes());
        assert_eq!(plan.termination_protection, Some(true));
    }
}
