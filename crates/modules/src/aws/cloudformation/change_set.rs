//! CloudFormation's own plan: a change set, created, waited on, read in
//! full (every page, nested stacks included), and shown as a reviewer
//! reads it. In check mode it is deleted afterwards, unless a saved plan
//! will execute it.

use crate::aws::Retrying;
use aws_sdk_cloudformation::types::{Change, ChangeSetType};
use serde_json::{json, Value as Json};

use super::spec::StackSpec;
use super::{aws_error, capabilities_of, parameters_of, request_token, tags_of, wait, Api};

/// A change set ready to review or execute.
pub(crate) enum Prepared {
    /// CloudFormation found nothing to change (and the set was deleted).
    Nothing,
    Ready {
        name: String,
        lines: Vec<String>,
        plan: Json,
        count: usize,
    },
}

/// A name for a change set of this run: letters, digits and hyphens.
pub(crate) fn name_for(spec: &StackSpec) -> String {
    spec.changeset_name
        .clone()
        .unwrap_or_else(|| request_token("plan"))
}

/// Creates a change set and reads it once CloudFormation has computed it.
pub(crate) async fn prepare(
    api: &Api<'_>,
    spec: &StackSpec,
    name: &str,
) -> Result<Prepared, String> {
    let call = stack_arguments!(api.client.create_change_set(), spec)
        .change_set_name(name)
        .change_set_type(ChangeSetType::Update)
        .include_nested_stacks(true);
    if let Err(err) = api
        .retrying("CreateChangeSet", || call.clone().send())
        .await
    {
        let failure = runbook_aws::describe(&err);
        // moto answers an unchanged stack here rather than with a FAILED
        // change set, as CloudFormation does.
        if failure.message.contains("No updates are to be performed") {
            return Ok(Prepared::Nothing);
        }
        return Err(aws_error(api, "CreateChangeSet", &err));
    }
    let deadline = crate::aws::deadline_after(api.settings.wait_timeout);
    let mut polls = 0;
    loop {
        let out = api
            .retrying("DescribeChangeSet", || {
                api.client
                    .describe_change_set()
                    .stack_name(&spec.name)
                    .change_set_name(name)
                    .send()
            })
            .await
            .map_err(|err| aws_error(api, "DescribeChangeSet", &err))?;
        let status = out
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if !matches!(status.as_str(), "CREATE_PENDING" | "CREATE_IN_PROGRESS") {
            let reason = out.status_reason().unwrap_or_default().to_string();
            if status == "FAILED" {
                let nothing = reason.contains("didn't contain changes")
                    || reason.contains("No updates are to be performed");
                delete(api, spec, name).await;
                return if nothing {
                    Ok(Prepared::Nothing)
                } else {
                    Err(format!(
                        "change set {name} of stack {} failed: {reason}",
                        spec.name
                    ))
                };
            }
            // Every page of changes.
            let mut changes: Vec<Change> = out.changes().to_vec();
            let mut token = out.next_token().map(str::to_string);
            while let Some(next) = token {
                let page = api
                    .retrying("DescribeChangeSet", || {
                        api.client
                            .describe_change_set()
                            .stack_name(&spec.name)
                            .change_set_name(name)
                            .next_token(&next)
                            .send()
                    })
                    .await
                    .map_err(|err| aws_error(api, "DescribeChangeSet", &err))?;
                changes.extend(page.changes().iter().cloned());
                token = page.next_token().map(str::to_string);
            }
            let (lines, plan) = describe(spec, &changes);
            return Ok(Prepared::Ready {
                name: name.to_string(),
                count: changes.len(),
                lines,
                plan: json!({"change_set": name, "changes": plan}),
            });
        }
        if std::time::Instant::now() >= deadline {
            return Err(format!(
                "timed out waiting for change set {name} of stack {}",
                spec.name
            ));
        }
        tokio::time::sleep(wait::pause(
            api.settings.first_poll,
            api.settings.max_poll,
            polls,
        ))
        .await;
        polls += 1;
    }
}

/// Deletes a change set; a failure only leaves a change set behind.
pub(crate) async fn delete(api: &Api<'_>, spec: &StackSpec, name: &str) {
    let _ = api
        .client
        .delete_change_set()
        .stack_name(&spec.name)
        .change_set_name(name)
        .send()
        .await;
}

/// The changes as lines and as data. Parameter values shown by
/// CloudFormation are not included (they may be NoEcho).
fn describe(spec: &StackSpec, changes: &[Change]) -> (Vec<String>, Json) {
    let mut lines = Vec::new();
    let mut data = Vec::new();
    for change in changes {
        let Some(rc) = change.resource_change() else {
            continue;
        };
        let action = rc.action().map(|a| a.as_str()).unwrap_or("?");
        let logical = rc.logical_resource_id().unwrap_or("?");
        let kind = rc.resource_type().unwrap_or("?");
        let replacement = rc.replacement().map(|r| r.as_str());
        let scope: Vec<&str> = rc.scope().iter().map(|s| s.as_str()).collect();
        let mut line = format!("resource {logical} ({kind}): {action}");
        if let Some(replacement) = replacement {
            line.push_str(&format!(", Replacement: {replacement}"));
        }
        if !scope.is_empty() {
            line.push_str(&format!(", Scope: {}", scope.join(", ")));
        }
        line.push_str(" [CloudFormation]");
        lines.push(line);
        let mut details = Vec::new();
        for detail in rc.details() {
            let target = detail.target();
            let attribute = target
                .and_then(|t| t.attribute())
                .map(|a| a.as_str())
                .unwrap_or("?");
            let property = target.and_then(|t| t.name()).unwrap_or("");
            let recreation = target
                .and_then(|t| t.requires_recreation())
                .map(|r| r.as_str());
            let evaluation = detail.evaluation().map(|e| e.as_str()).unwrap_or("");
            let source = detail.change_source().map(|s| s.as_str()).unwrap_or("");
            let causing = detail.causing_entity();
            let mut text = format!("    {attribute}");
            if !property.is_empty() {
                text.push_str(&format!(".{property}"));
            }
            text.push_str(&format!(": {evaluation} {source}"));
            if let Some(causing) = causing {
                let shown = if spec.is_secret(causing) {
                    "****"
                } else {
                    causing
                };
                text.push_str(&format!(" (caused by {shown})"));
            }
            if let Some(recreation) = recreation {
                text.push_str(&format!(", requires recreation: {recreation}"));
            }
            lines.push(text);
            details.push(json!({
                "attribute": attribute,
                "name": property,
                "evaluation": evaluation,
                "change_source": source,
                "causing_entity": causing,
                "requires_recreation": recreation,
            }));
        }
        data.push(json!({
            "logical_id": logical,
            "type": kind,
            "action": action,
            "replacement": replacement,
            "scope": scope,
            "details": details,
        }));
    }
    (lines, Json::Array(data))
}
