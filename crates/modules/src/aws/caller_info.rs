//! `amazon.aws.aws_caller_info`: who the credentials belong to.

use indexmap::IndexMap;
use runbook_aws::{AwsError, Target};
use runbook_module::{
    Analysis, BoxFuture, Call, Module, ModuleFailure, ModuleOutput, ModuleSpec, ResultReads,
    Services, StaticFacts,
};
use serde_json::{json, Value as Json};

use super::{AwsContext, CONNECTION, GROUP, UNSUPPORTED_CONNECTION};

pub struct CallerInfo;

static SPEC: ModuleSpec = ModuleSpec {
    fqcn: "amazon.aws.aws_caller_info",
    short: "aws_caller_info",
    options: &CONNECTION,
    unsupported: &UNSUPPORTED_CONNECTION,
    free_keys: false,
    free_form: None,
    groups: GROUP,
    result_fields: &["account", "account_alias", "arn", "user_id"],
};

impl Module for CallerInfo {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn analyse(&self, cx: &mut Analysis<'_>) -> StaticFacts {
        StaticFacts {
            placement: super::placement(cx),
            ..StaticFacts::default()
        }
    }

    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<ModuleOutput, ModuleFailure>> {
        Box::pin(async move {
            let aws = super::context(call.services)?;
            let target = super::target_of(&call.args);
            let result = run(&aws, &target, call.reads).await;
            aws.learn_account(&target).await;
            result
        })
    }

    fn target_label(&self, args: &IndexMap<String, Json>, services: &Services) -> Option<String> {
        super::target_label(args, services)
    }
}

/// `reads`: which result fields the playbook may read. The ARN and user id
/// cost a GetCallerIdentity when the credentials already name the account,
/// and the alias an IAM call: each is fetched only when it may be read.
async fn run(
    runner: &AwsContext,
    target: &Target,
    reads: &ResultReads,
) -> Result<ModuleOutput, ModuleFailure> {
    let fail = |err: AwsError| ModuleFailure::new(err.to_string());
    let want_alias = reads.may_read("account_alias");
    // One GetCallerIdentity per account at most, shared by every task.
    let identity = if reads.may_read("arn") || reads.may_read("user_id") {
        Some(runner.pool.identity(target).await.map_err(fail)?)
    } else {
        None
    };
    let account = match &identity {
        Some(identity) => identity.account.clone(),
        None => runner.pool.account(target).await.map_err(fail)?,
    };
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
    result.insert("account".into(), json!(account));
    let message = match &identity {
        Some(identity) => {
            result.insert("arn".into(), json!(identity.arn));
            result.insert("user_id".into(), json!(identity.user_id));
            format!("account {account} ({})", identity.arn)
        }
        None => format!("account {account}"),
    };
    if want_alias {
        result.insert("account_alias".into(), alias.unwrap_or(Json::Null));
    }
    Ok(ModuleOutput {
        changed: false,
        result,
        message: Some(message),
        ..Default::default()
    })
}
