//! `amazon.aws.aws_caller_info`: who the credentials belong to.

use runbook_aws::{AwsError, Target};
use runbook_executor::{ModuleFailure, ModuleOutput};
use serde_json::{json, Value as Json};

use crate::runner::AwsRunner;

/// `want_alias`: whether the playbook may read `account_alias`, which
/// costs an IAM call.
pub(crate) async fn run(
    runner: &AwsRunner,
    target: &Target,
    want_alias: bool,
) -> Result<ModuleOutput, ModuleFailure> {
    let fail = |err: AwsError| ModuleFailure::new(err.to_string());
    // Preflight has usually fetched the identity already: no extra call.
    let identity = runner.pool.identity(target).await.map_err(fail)?;
    // amazon.aws reports no alias when listing aliases is not allowed.
    let alias = if want_alias {
        let iam = runner.pool.iam(target).await.map_err(fail)?;
        match iam.list_account_aliases().send().await {
            Ok(out) => out
                .account_aliases()
                .first()
                .map(|a| Json::String(a.clone())),
            Err(_) => None,
        }
    } else {
        None
    };
    let mut result = serde_json::Map::new();
    result.insert("account".into(), json!(identity.account));
    result.insert("arn".into(), json!(identity.arn));
    result.insert("user_id".into(), json!(identity.user_id));
    if want_alias {
        result.insert("account_alias".into(), alias.unwrap_or(Json::Null));
    }
    Ok(ModuleOutput {
        changed: false,
        result,
        message: Some(format!("account {} ({})", identity.account, identity.arn)),
        ..Default::default()
    })
}
