//! Is a deployed stack set what the task asks for? Decided from
//! DescribeStackSet and ListStackInstances alone, so an unchanged stack set
//! costs those reads and no operation. The answer is a [`Plan`]: whether
//! the stack set itself is updated (one UpdateStackSet covering every
//! instance), which instances are created and deleted, grouped into as few
//! operations as their accounts and regions allow.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;

use super::spec::{AutoDeployment, PermissionModel, StackSetSpec};

/// What the comparison needs of a deployed stack set (DescribeStackSet).
#[derive(Debug, Clone, Default)]
pub struct Deployed {
    pub description: Option<String>,
    pub template_body: Option<String>,
    pub parameters: IndexMap<String, String>,
    pub tags: IndexMap<String, String>,
    pub administration_role_arn: Option<String>,
    pub execution_role_name: Option<String>,
    pub permission_model: Option<String>,
    pub auto_deployment: Option<AutoDeployment>,
    pub managed_execution: Option<bool>,
    /// SERVICE_MANAGED: the OUs (or root) the stack set targets, instances
    /// or not.
    pub organizational_unit_ids: Vec<String>,
    pub regions: Vec<String>,
}

/// One stack instance (ListStackInstances).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Instance {
    pub account: String,
    pub region: String,
    pub organizational_unit_id: Option<String>,
    /// CURRENT, OUTDATED or INOPERABLE.
    pub status: String,
    pub status_reason: Option<String>,
    pub detailed_status: Option<String>,
    pub stack_id: Option<String>,
    pub stack_set_id: Option<String>,
    pub drift_status: Option<String>,
}

/// The targets of one stack instance operation: accounts (SELF_MANAGED)
/// or organizational units with an account filter (SERVICE_MANAGED), in
/// every one of `regions`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    pub accounts: Vec<String>,
    pub organizational_units: Vec<String>,
    pub account_filter_type: Option<String>,
    pub regions: Vec<String>,
}

impl Targets {
    /// "222222222222, 777777777777 in us-east-1" / "OU ou-x in us-east-1".
    pub fn describe(&self) -> String {
        let mut what = Vec::new();
        if !self.organizational_units.is_empty() {
            what.push(format!("OU {}", self.organizational_units.join(", ")));
        }
        if !self.accounts.is_empty() {
            let accounts = self.accounts.join(", ");
            what.push(match self.account_filter_type.as_deref() {
                Some("INTERSECTION") => format!("only accounts {accounts}"),
                Some("DIFFERENCE") => format!("except accounts {accounts}"),
                Some("UNION") => format!("and accounts {accounts}"),
                _ => format!("accounts {accounts}"),
            });
        }
        format!("{} in {}", what.join(" "), self.regions.join(", "))
    }
}

/// A stack set setting that differs, for the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamChange {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// The stack set's own settings that differ (lines for the plan); any
    /// means one UpdateStackSet, which updates every instance.
    pub set_changes: Vec<String>,
    pub parameters: Vec<ParamChange>,
    /// What could not be compared, and why (never a change by itself).
    pub notes: Vec<String>,
    /// OUTDATED instances to bring up to date (UpdateStackInstances), when
    /// the stack set itself is not updated anyway.
    pub outdated: Vec<Targets>,
    pub creates: Vec<Targets>,
    pub deletes: Vec<Targets>,
    /// Per instance, what happens to it, for the plan.
    pub instance_lines: Vec<String>,
}

impl Plan {
    pub fn updates_set(&self) -> bool {
        !self.set_changes.is_empty() || !self.parameters.is_empty()
    }

    pub fn is_noop(&self) -> bool {
        !self.updates_set()
            && self.outdated.is_empty()
            && self.creates.is_empty()
            && self.deletes.is_empty()
    }

    /// Lines for the plan output; NoEcho values hidden.
    pub fn describe(&self, template: Option<&runbook_cfn::Template>) -> Vec<String> {
        let mut lines = self.set_changes.clone();
        for change in &self.parameters {
            let show = |v: &Option<String>| match v {
                Some(v) => shown(template, &change.key, v),
                None => "(none)".to_string(),
            };
            lines.push(format!(
                "parameter {}: {} -> {}",
                change.key,
                show(&change.old),
                show(&change.new)
            ));
        }
        lines.extend(self.instance_lines.iter().cloned());
        for note in &self.notes {
            lines.push(format!("not compared: {note}"));
        }
        lines
    }
}

/// A parameter value fit to print.
pub fn shown(template: Option<&runbook_cfn::Template>, key: &str, value: &str) -> String {
    if StackSetSpec::is_secret(template, key) {
        "****".to_string()
    } else {
        value.to_string()
    }
}

pub fn tags_text(tags: &IndexMap<String, String>) -> String {
    let parts: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// The template the parameters are read against: the task's, else the
/// deployed one (`UsePreviousTemplate`).
pub fn effective_template(
    spec: &StackSetSpec,
    deployed: Option<&Deployed>,
) -> Option<std::sync::Arc<runbook_cfn::Template>> {
    spec.template.clone().or_else(|| {
        deployed
            .and_then(|d| d.template_body.as_deref())
            .and_then(|body| runbook_cfn::parse(body).ok())
            .map(std::sync::Arc::new)
    })
}

/// Compares the task with the deployed stack set and its instances.
pub fn compare(spec: &StackSetSpec, deployed: &Deployed, instances: &[Instance]) -> Plan {
    let mut plan = Plan::default();
    compare_settings(spec, deployed, &mut plan);
    match spec.permission_model {
        PermissionModel::SelfManaged => self_managed_instances(spec, instances, &mut plan),
        PermissionModel::ServiceManaged => {
            service_managed_instances(spec, deployed, instances, &mut plan)
        }
    }
    plan
}

/// The plan of a stack set that does not exist yet.
pub fn create_plan(spec: &StackSetSpec) -> Plan {
    let mut plan = Plan::default();
    let deployed = Deployed::default();
    match spec.permission_model {
        PermissionModel::SelfManaged => self_managed_instances(spec, &[], &mut plan),
        PermissionModel::ServiceManaged => {
            service_managed_instances(spec, &deployed, &[], &mut plan)
        }
    }
    plan
}

fn compare_settings(spec: &StackSetSpec, deployed: &Deployed, plan: &mut Plan) {
    match (&spec.body, &spec.url) {
        (Some(wanted), _) => {
            let same = match deployed.template_body.as_deref() {
                Some(current) if current == wanted => true,
                Some(current) => {
                    match (runbook_cfn::parse(wanted), runbook_cfn::parse(current)) {
                        (Ok(a), Ok(b)) => a.body == b.body,
                        _ => false,
                    }
                }
                None => false,
            };
            if !same {
                plan.set_changes.push("template changed".into());
            }
        }
        (None, Some(_)) => plan.notes.push(
            "the template is given by URL, which runbook does not download; the stack set is updated with it when anything else changes".into(),
        ),
        (None, None) => {}
    }

    let template = effective_template(spec, Some(deployed));
    let given: IndexMap<&str, &super::spec::ParamSpec> = spec
        .parameters
        .iter()
        .map(|p| (p.key.as_str(), p))
        .collect();
    let declared: Vec<(String, Option<String>, bool)> = match &template {
        Some(t) => t
            .parameters
            .iter()
            .map(|(k, p)| (k.clone(), p.default.clone(), p.no_echo))
            .collect(),
        None => spec
            .parameters
            .iter()
            .map(|p| {
                let masked = deployed.parameters.get(&p.key).is_some_and(|v| v == "****");
                (p.key.clone(), None, masked)
            })
            .collect(),
    };
    for (key, default, no_echo) in &declared {
        let current = deployed.parameters.get(key).cloned();
        let wanted = match given.get(key.as_str()) {
            Some(p) if p.use_previous => current.clone(),
            Some(p) => p.value.clone(),
            None => default.clone(),
        };
        // AWS masks NoEcho values; moto does not.
        if *no_echo && current.as_deref() == Some("****") {
            if given.get(key.as_str()).is_some_and(|p| !p.use_previous) {
                plan.notes.push(format!(
                    "parameter {key} is NoEcho: AWS shows its deployed value as ****, so a change to it alone is not seen; it is sent whenever the stack set is updated"
                ));
            }
            continue;
        }
        // A parameter left to its default that the stack set does not list
        // (it lists what was given) keeps that default.
        let defaulted = current.is_none() && !given.contains_key(key.as_str()) && default.is_some();
        if wanted != current && !defaulted {
            plan.parameters.push(ParamChange {
                key: key.clone(),
                old: current,
                new: wanted,
            });
        }
    }
    // Parameters the template does not declare: CloudFormation rejects
    // them, so try the update and let it say so.
    if template.is_some() {
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
            plan.set_changes.push(format!(
                "tags: {} -> {}",
                tags_text(&deployed.tags),
                tags_text(tags)
            ));
        }
    }
    let mut setting = |name: &str, wanted: &Option<String>, current: &Option<String>| {
        if let Some(wanted) = wanted {
            if current.as_ref() != Some(wanted) {
                plan.set_changes.push(format!(
                    "{name}: {} -> {wanted}",
                    current.as_deref().unwrap_or("(none)")
                ));
            }
        }
    };
    setting("description", &spec.description, &deployed.description);
    setting(
        "administration_role_arn",
        &spec.administration_role_arn,
        &deployed.administration_role_arn,
    );
    setting(
        "execution_role_name",
        &spec.execution_role_name,
        &deployed.execution_role_name,
    );
    if let Some(wanted) = spec.managed_execution {
        let current = deployed.managed_execution.unwrap_or(false);
        if wanted != current {
            plan.set_changes
                .push(format!("managed_execution.active: {current} -> {wanted}"));
        }
    }
    if let Some(wanted) = spec.auto_deployment {
        let current = deployed.auto_deployment;
        let differs = match current {
            None => true,
            Some(current) => {
                current.enabled != wanted.enabled
                    || wanted
                        .retain_stacks_on_account_removal
                        .is_some_and(|r| Some(r) != current.retain_stacks_on_account_removal)
            }
        };
        if differs {
            let text = |a: Option<AutoDeployment>| match a {
                None => "(none)".to_string(),
                Some(a) => format!(
                    "enabled={}{}",
                    a.enabled,
                    a.retain_stacks_on_account_removal
                        .map(|r| format!(", retain_stacks_on_account_removal={r}"))
                        .unwrap_or_default()
                ),
            };
            plan.set_changes.push(format!(
                "auto_deployment: {} -> {}",
                text(current),
                text(Some(wanted))
            ));
        }
    }
}

/// Groups (account, region) pairs into as few account × region products
/// as the pairs allow: by region, then regions with the same accounts
/// together. One product is one operation.
pub fn group_pairs(pairs: &BTreeSet<(String, String)>) -> Vec<Targets> {
    let mut by_region: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (account, region) in pairs {
        by_region.entry(region).or_default().insert(account);
    }
    let mut by_accounts: BTreeMap<BTreeSet<&str>, Vec<String>> = BTreeMap::new();
    for (region, accounts) in by_region {
        by_accounts
            .entry(accounts)
            .or_default()
            .push(region.to_string());
    }
    by_accounts
        .into_iter()
        .map(|(accounts, regions)| Targets {
            accounts: accounts.into_iter().map(str::to_string).collect(),
            regions,
            ..Targets::default()
        })
        .collect()
}

/// The operations on instances grouped by OU: each OU's account × region
/// products, limited to those accounts of the OU (INTERSECTION).
fn within_ous(
    by_ou: BTreeMap<String, BTreeSet<(String, String)>>,
) -> impl Iterator<Item = Targets> {
    by_ou.into_iter().flat_map(|(ou, pairs)| {
        group_pairs(&pairs).into_iter().map(move |t| Targets {
            organizational_units: vec![ou.clone()],
            account_filter_type: Some("INTERSECTION".into()),
            ..t
        })
    })
}

/// `regions` in the order the task gives them.
fn ordered(regions: &BTreeSet<String>, order: &[String]) -> Vec<String> {
    let mut out: Vec<String> = order
        .iter()
        .filter(|r| regions.contains(*r))
        .cloned()
        .collect();
    out.extend(regions.iter().filter(|r| !order.contains(r)).cloned());
    out
}

fn self_managed_instances(spec: &StackSetSpec, instances: &[Instance], plan: &mut Plan) {
    let wanted: BTreeSet<(String, String)> = spec
        .accounts
        .iter()
        .flat_map(|a| spec.regions.iter().map(move |r| (a.clone(), r.clone())))
        .collect();
    let existing: BTreeSet<(String, String)> = instances
        .iter()
        .map(|i| (i.account.clone(), i.region.clone()))
        .collect();
    let create: BTreeSet<_> = wanted.difference(&existing).cloned().collect();
    let delete: BTreeSet<_> = existing.difference(&wanted).cloned().collect();
    for (account, region) in &create {
        plan.instance_lines
            .push(format!("create instance {account} {region}"));
    }
    for (account, region) in &delete {
        plan.instance_lines.push(format!(
            "delete instance {account} {region} ({})",
            if spec.purge_stacks {
                "its stack is deleted"
            } else {
                "its stack is kept: purge_stacks is false"
            }
        ));
    }
    plan.creates = group_pairs(&create)
        .into_iter()
        .map(|mut t| {
            t.regions = ordered(&t.regions.into_iter().collect(), &spec.regions);
            t
        })
        .collect();
    plan.deletes = group_pairs(&delete);
    if !plan.updates_set() {
        let outdated: BTreeSet<(String, String)> = instances
            .iter()
            .filter(|i| i.status == "OUTDATED")
            .map(|i| (i.account.clone(), i.region.clone()))
            .filter(|pair| !delete.contains(pair))
            .collect();
        for (account, region) in &outdated {
            plan.instance_lines
                .push(format!("update OUTDATED instance {account} {region}"));
        }
        plan.outdated = group_pairs(&outdated);
    }
    for i in instances.iter().filter(|i| i.status == "INOPERABLE") {
        plan.notes.push(format!(
            "instance {} {} is INOPERABLE (a delete failed){}",
            i.account,
            i.region,
            i.status_reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ));
    }
}

fn service_managed_instances(
    spec: &StackSetSpec,
    deployed: &Deployed,
    instances: &[Instance],
    plan: &mut Plan,
) {
    let Some(targets) = &spec.deployment_targets else {
        return;
    };
    let filter = targets.account_filter_type.clone();
    let filter_accounts: BTreeSet<&str> = targets.accounts.iter().map(String::as_str).collect();
    let wanted_ous: BTreeSet<String> = targets.organizational_units.iter().cloned().collect();
    let wanted_regions: BTreeSet<String> = spec.regions.iter().cloned().collect();
    let targeted_ous: BTreeSet<String> = deployed
        .organizational_unit_ids
        .iter()
        .cloned()
        .chain(
            instances
                .iter()
                .filter_map(|i| i.organizational_unit_id.clone()),
        )
        .collect();
    let targeted_regions: BTreeSet<String> = deployed
        .regions
        .iter()
        .cloned()
        .chain(instances.iter().map(|i| i.region.clone()))
        .collect();
    let union = filter.as_deref() == Some("UNION");
    // A UNION account's instance belongs to its own OU, which need not be
    // one of the targets: it stays.
    let kept_by_union = |i: &Instance| union && filter_accounts.contains(i.account.as_str());
    let with_filter = |ous: Vec<String>, regions: Vec<String>| Targets {
        organizational_units: ous,
        accounts: if filter_accounts.is_empty() {
            Vec::new()
        } else {
            targets.accounts.clone()
        },
        account_filter_type: filter.clone(),
        regions,
    };

    // Creates: OUs not targeted yet, in every region; targeted OUs in new
    // regions; UNION accounts missing in a region.
    let missing_ous: Vec<String> = wanted_ous.difference(&targeted_ous).cloned().collect();
    let kept_ous: Vec<String> = wanted_ous.intersection(&targeted_ous).cloned().collect();
    let new_regions: BTreeSet<String> = wanted_regions
        .difference(&targeted_regions)
        .cloned()
        .collect();
    if !missing_ous.is_empty() {
        let t = with_filter(missing_ous, spec.regions.clone());
        plan.instance_lines
            .push(format!("deploy to {}", t.describe()));
        plan.creates.push(t);
    }
    if !kept_ous.is_empty() && !new_regions.is_empty() {
        let t = with_filter(kept_ous.clone(), ordered(&new_regions, &spec.regions));
        plan.instance_lines
            .push(format!("deploy to {}", t.describe()));
        plan.creates.push(t);
    }
    // A create for missing OUs carries the UNION accounts to every region.
    if union && plan.creates.iter().all(|t| t.regions != spec.regions) {
        let regions: BTreeSet<String> = wanted_regions
            .iter()
            .filter(|r| !new_regions.contains(*r))
            .filter(|r| {
                filter_accounts
                    .iter()
                    .any(|a| !instances.iter().any(|i| i.account == *a && &i.region == *r))
            })
            .cloned()
            .collect();
        if !regions.is_empty() {
            let t = with_filter(
                wanted_ous.iter().cloned().collect(),
                ordered(&regions, &spec.regions),
            );
            plan.instance_lines
                .push(format!("deploy to {}", t.describe()));
            plan.creates.push(t);
        }
    }

    // Deletes: OUs no longer targeted; regions no longer targeted; accounts
    // the filter now leaves out.
    let removed_ous: Vec<String> = targeted_ous.difference(&wanted_ous).cloned().collect();
    let removed_regions: BTreeSet<String> = targeted_regions
        .difference(&wanted_regions)
        .cloned()
        .collect();
    let keep_suffix = if spec.purge_stacks {
        "its stack is deleted"
    } else {
        "its stack is kept: purge_stacks is false"
    };
    let mut gone: BTreeSet<(String, String)> = BTreeSet::new();
    if !removed_ous.is_empty() {
        let regions: BTreeSet<String> = targeted_regions.clone();
        let mut t = Targets {
            organizational_units: removed_ous.clone(),
            regions: ordered(&regions, &spec.regions),
            ..Targets::default()
        };
        if union && !filter_accounts.is_empty() {
            t.accounts = targets.accounts.clone();
            t.account_filter_type = Some("DIFFERENCE".into());
        }
        for i in instances.iter().filter(|i| {
            i.organizational_unit_id
                .as_ref()
                .is_some_and(|ou| removed_ous.contains(ou))
                && !kept_by_union(i)
        }) {
            gone.insert((i.account.clone(), i.region.clone()));
        }
        plan.instance_lines
            .push(format!("remove {} ({keep_suffix})", t.describe()));
        plan.deletes.push(t);
    }
    if !removed_regions.is_empty() {
        let leaving: Vec<&Instance> = instances
            .iter()
            .filter(|i| removed_regions.contains(&i.region))
            .filter(|i| !gone.contains(&(i.account.clone(), i.region.clone())))
            .collect();
        let ous: BTreeSet<String> = leaving
            .iter()
            .filter_map(|i| i.organizational_unit_id.clone())
            .collect();
        if !ous.is_empty() {
            let regions: BTreeSet<String> = leaving.iter().map(|i| i.region.clone()).collect();
            let t = Targets {
                organizational_units: ous.into_iter().collect(),
                regions: regions.into_iter().collect(),
                ..Targets::default()
            };
            for i in &leaving {
                gone.insert((i.account.clone(), i.region.clone()));
            }
            plan.instance_lines
                .push(format!("remove {} ({keep_suffix})", t.describe()));
            plan.deletes.push(t);
        }
    }
    let excluded = |i: &Instance| match filter.as_deref() {
        Some("INTERSECTION") => !filter_accounts.contains(i.account.as_str()),
        Some("DIFFERENCE") => filter_accounts.contains(i.account.as_str()),
        _ => false,
    };
    let mut by_ou: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    let left_out: Vec<&Instance> = instances
        .iter()
        .filter(|i| !gone.contains(&(i.account.clone(), i.region.clone())))
        .filter(|i| excluded(i))
        .collect();
    for i in left_out {
        if let Some(ou) = &i.organizational_unit_id {
            by_ou
                .entry(ou.clone())
                .or_default()
                .insert((i.account.clone(), i.region.clone()));
            gone.insert((i.account.clone(), i.region.clone()));
            plan.instance_lines.push(format!(
                "delete instance {} {} (the account filter leaves it out; {keep_suffix})",
                i.account, i.region
            ));
        }
    }
    plan.deletes.extend(within_ous(by_ou));

    if !plan.updates_set() {
        let mut by_ou: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
        for i in instances.iter().filter(|i| i.status == "OUTDATED") {
            if gone.contains(&(i.account.clone(), i.region.clone())) {
                continue;
            }
            if let Some(ou) = &i.organizational_unit_id {
                by_ou
                    .entry(ou.clone())
                    .or_default()
                    .insert((i.account.clone(), i.region.clone()));
                plan.instance_lines.push(format!(
                    "update OUTDATED instance {} {}",
                    i.account, i.region
                ));
            }
        }
        plan.outdated.extend(within_ous(by_ou));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    const TEMPLATE: &str = "Parameters:\n  A:\n    Type: String\n  B:\n    Type: String\n    Default: b\n  Secret:\n    Type: String\n    NoEcho: true\n    Default: x\nResources: {}\n";

    fn spec(extra: serde_json::Value) -> StackSetSpec {
        let mut base = json!({"name": "s", "template_body": TEMPLATE,
            "accounts": ["222222222222", "777777777777"], "regions": ["us-east-1"],
            "parameters": {"A": "a"}});
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let args: IndexMap<String, serde_json::Value> = base
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        StackSetSpec::from_args(&args, &[], &|b| runbook_cfn::parse(b).map(Arc::new)).unwrap()
    }

    fn deployed(params: &[(&str, &str)]) -> Deployed {
        Deployed {
            template_body: Some(TEMPLATE.into()),
            parameters: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Deployed::default()
        }
    }

    fn instance(account: &str, region: &str) -> Instance {
        Instance {
            account: account.into(),
            region: region.into(),
            status: "CURRENT".into(),
            ..Instance::default()
        }
    }

    #[test]
    fn a_default_the_stack_set_does_not_list_is_unchanged() {
        let s = spec(json!({}));
        let d = deployed(&[("A", "a")]);
        assert!(compare(&s, &d, &[]).parameters.is_empty());
        // Given now, with a value other than the default: a change.
        let s = spec(json!({"parameters": {"A": "a", "B": "c"}}));
        assert_eq!(compare(&s, &d, &[]).parameters.len(), 1);
    }

    #[test]
    fn in_sync_costs_nothing() {
        let s = spec(json!({}));
        let d = deployed(&[("A", "a"), ("B", "b"), ("Secret", "****")]);
        let plan = compare(
            &s,
            &d,
            &[
                instance("222222222222", "us-east-1"),
                instance("777777777777", "us-east-1"),
            ],
        );
        assert!(plan.is_noop(), "{plan:?}");
    }

    #[test]
    fn a_parameter_change_is_one_update_and_secrets_stay_hidden() {
        let s = spec(json!({"parameters": {"A": "new", "Secret": "hunter2"}, "tags": {"T": "1"}}));
        let d = deployed(&[("A", "a"), ("B", "b"), ("Secret", "****")]);
        let plan = compare(
            &s,
            &d,
            &[
                instance("222222222222", "us-east-1"),
                instance("777777777777", "us-east-1"),
            ],
        );
        assert!(plan.updates_set());
        assert!(plan.creates.is_empty() && plan.deletes.is_empty());
        let lines = plan.describe(s.template.as_deref());
        assert!(
            lines.contains(&"parameter A: a -> new".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"tags: {} -> {T=1}".to_string()),
            "{lines:?}"
        );
        assert!(!format!("{lines:?}").contains("hunter2"));
        // moto shows NoEcho values in clear: compared, but never printed.
        let d = deployed(&[("A", "a"), ("B", "b"), ("Secret", "old")]);
        let plan = compare(&s, &d, &[]);
        let lines = plan.describe(s.template.as_deref());
        assert!(lines.contains(&"parameter Secret: **** -> ****".to_string()));
        assert!(!format!("{lines:?}").contains("hunter2"));
    }

    #[test]
    fn a_new_region_is_one_create_and_a_dropped_account_one_delete() {
        let s = spec(json!({"regions": ["us-east-1", "us-west-2"], "accounts": ["222222222222"]}));
        let d = deployed(&[("A", "a"), ("B", "b"), ("Secret", "x")]);
        let plan = compare(
            &s,
            &d,
            &[
                instance("222222222222", "us-east-1"),
                instance("777777777777", "us-east-1"),
            ],
        );
        assert!(!plan.updates_set());
        assert_eq!(
            plan.creates,
            [Targets {
                accounts: vec!["222222222222".into()],
                regions: vec!["us-west-2".into()],
                ..Targets::default()
            }]
        );
        assert_eq!(
            plan.deletes,
            [Targets {
                accounts: vec!["777777777777".into()],
                regions: vec!["us-east-1".into()],
                ..Targets::default()
            }]
        );
        assert_eq!(
            plan.instance_lines,
            [
                "create instance 222222222222 us-west-2",
                "delete instance 777777777777 us-east-1 (its stack is deleted)"
            ]
        );
    }

    #[test]
    fn pairs_group_into_products() {
        let pairs: BTreeSet<(String, String)> = [
            ("a", "r1"),
            ("b", "r1"),
            ("a", "r2"),
            ("b", "r2"),
            ("c", "r3"),
        ]
        .iter()
        .map(|(a, r)| (a.to_string(), r.to_string()))
        .collect();
        let groups = group_pairs(&pairs);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].accounts, ["a", "b"]);
        assert_eq!(groups[0].regions, ["r1", "r2"]);
        assert_eq!(groups[1].accounts, ["c"]);
    }

    #[test]
    fn outdated_instances_are_updated_when_nothing_else_is() {
        let s = spec(json!({}));
        let d = deployed(&[("A", "a"), ("B", "b"), ("Secret", "x")]);
        let mut stale = instance("777777777777", "us-east-1");
        stale.status = "OUTDATED".into();
        let plan = compare(&s, &d, &[instance("222222222222", "us-east-1"), stale]);
        assert_eq!(plan.outdated.len(), 1);
        assert_eq!(plan.outdated[0].accounts, ["777777777777"]);
        // An update of the stack set reaches it anyway.
        let s = spec(json!({"parameters": {"A": "z"}}));
        let mut stale = instance("777777777777", "us-east-1");
        stale.status = "OUTDATED".into();
        let plan = compare(&s, &d, &[instance("222222222222", "us-east-1"), stale]);
        assert!(plan.outdated.is_empty() && plan.updates_set());
    }

    #[test]
    fn service_managed_targets_compare_by_ou_and_region() {
        let s = spec(
            json!({"accounts": null, "permission_model": "SERVICE_MANAGED",
            "regions": ["us-east-1", "eu-west-1"],
            "deployment_targets": {"organizational_units": ["ou-a", "ou-b"]}}),
        );
        let d = Deployed {
            organizational_unit_ids: vec!["ou-a".into(), "ou-old".into()],
            ..deployed(&[("A", "a"), ("B", "b"), ("Secret", "x")])
        };
        let mut old = instance("333333333333", "us-east-1");
        old.organizational_unit_id = Some("ou-old".into());
        let mut kept = instance("444444444444", "us-east-1");
        kept.organizational_unit_id = Some("ou-a".into());
        let plan = compare(&s, &d, &[old, kept]);
        assert_eq!(
            plan.creates,
            [
                Targets {
                    organizational_units: vec!["ou-b".into()],
                    regions: vec!["us-east-1".into(), "eu-west-1".into()],
                    ..Targets::default()
                },
                Targets {
                    organizational_units: vec!["ou-a".into()],
                    regions: vec!["eu-west-1".into()],
                    ..Targets::default()
                }
            ]
        );
        assert_eq!(
            plan.deletes,
            [Targets {
                organizational_units: vec!["ou-old".into()],
                regions: vec!["us-east-1".into()],
                ..Targets::default()
            }]
        );
        // An empty OU already targeted is not "missing" on the next run.
        let d = Deployed {
            organizational_unit_ids: vec!["ou-a".into(), "ou-b".into()],
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            ..deployed(&[("A", "a"), ("B", "b"), ("Secret", "x")])
        };
        assert!(compare(&s, &d, &[]).is_noop());
    }

    #[test]
    fn an_account_filter_deletes_what_it_leaves_out() {
        let s = spec(
            json!({"accounts": null, "permission_model": "SERVICE_MANAGED",
            "deployment_targets": {"organizational_units": ["ou-a"], "accounts": ["444444444444"], "account_filter_type": "DIFFERENCE"}}),
        );
        let d = Deployed {
            organizational_unit_ids: vec!["ou-a".into()],
            regions: vec!["us-east-1".into()],
            ..deployed(&[("A", "a"), ("B", "b"), ("Secret", "x")])
        };
        let mut excluded = instance("444444444444", "us-east-1");
        excluded.organizational_unit_id = Some("ou-a".into());
        let mut kept = instance("555555555555", "us-east-1");
        kept.organizational_unit_id = Some("ou-a".into());
        let plan = compare(&s, &d, &[excluded, kept]);
        assert!(plan.creates.is_empty());
        assert_eq!(
            plan.deletes,
            [Targets {
                organizational_units: vec!["ou-a".into()],
                accounts: vec!["444444444444".into()],
                account_filter_type: Some("INTERSECTION".into()),
                regions: vec!["us-east-1".into()],
            }]
        );
    }
}
