//! The AWS modules and what they share: the connection options every
//! amazon.aws module takes, the account a task targets, its label.

pub(crate) mod caller_info;
pub(crate) mod cloudformation;
pub(crate) mod cloudformation_info;
mod context;
pub(crate) mod preflight;
pub(crate) mod stack_set;

use std::sync::Arc;

use indexmap::IndexMap;
use runbook_aws::Target;
use runbook_module::{
    AccountKey, Analysis, ErrorKind, Json, Known, ModuleFailure, OptionKind, OptionSpec, Placement,
    PlaybookError, Services, StaticFacts,
};

pub use context::{AwsContext, RunnerSettings};

/// The `module_defaults` group of every AWS module (`group/aws`).
pub(crate) const GROUP: &[&str] = &["aws"];

/// `region`, `profile` and `endpoint_url`, with amazon.aws's aliases.
pub(crate) const CONNECTION: [OptionSpec; 3] = [
    OptionSpec::new("region", OptionKind::Str).aliases(&["aws_region", "ec2_region"]),
    OptionSpec::new("profile", OptionKind::Str).aliases(&["aws_profile"]),
    OptionSpec::new("endpoint_url", OptionKind::Str).aliases(&["aws_endpoint_url", "ec2_url"]),
];

/// amazon.aws connection options runbook does not take: credentials come
/// from profiles.
pub(crate) const UNSUPPORTED_CONNECTION: [&str; 8] = [
    "access_key",
    "secret_key",
    "session_token",
    "validate_certs",
    "aws_ca_bundle",
    "aws_config",
    "debug_botocore_endpoint_logs",
    "security_token",
];

/// The account a task's rendered options point at.
pub(crate) fn target_of(args: &IndexMap<String, Json>) -> Target {
    let text = |key: &str| args.get(key).and_then(Json::as_str).map(str::to_string);
    Target {
        profile: text("profile"),
        region: text("region"),
        endpoint_url: text("endpoint_url"),
    }
}

pub(crate) fn target_of_key(key: &AccountKey) -> Target {
    Target {
        profile: key.profile.clone(),
        region: key.region.clone(),
        endpoint_url: key.endpoint_url.clone(),
    }
}

/// Where an AWS task acts, from its options as far as they are known. A
/// region known now must be one AWS has.
pub(crate) fn placement(cx: &mut Analysis<'_>) -> Placement {
    let region = cx.text_now("region");
    if let (Known::Now(Some(name)), Some(arg)) = (&region, cx.args.get("region")) {
        if let Err(why) = runbook_aws::check_region(name) {
            let location = arg.location.clone();
            // A rendered value is not quoted: it may hold a secret.
            let message = match &arg.value {
                Json::String(written) if !written.contains("{{") && !written.contains("{%") => {
                    format!("option `region`: {why}")
                }
                _ => "option `region` rendered to a value (not shown) that is not an AWS region"
                    .to_string(),
            };
            cx.error(
                PlaybookError::new(ErrorKind::Schema, message)
                    .at(location)
                    .help("regions are named like us-east-1 or eu-west-3"),
            );
        }
    }
    match (cx.text_now("profile"), region, cx.text_now("endpoint_url")) {
        (Known::Now(profile), Known::Now(region), Known::Now(endpoint_url)) => {
            Placement::Account(AccountKey {
                profile,
                region,
                endpoint_url,
            })
        }
        _ => Placement::Later,
    }
}

/// The instant `wait` from now, or a day past the longest wait runbook
/// allows (`--wait-timeout` is at most 7 days) when the sum overflows:
/// `Instant + Duration` panics on overflow.
/// The calls of one thing an AWS module manages (a stack, a stack set),
/// sent with runbook's retries on top of the SDK's, each retry shown as
/// progress.
pub(crate) trait Retrying {
    fn sink(&self) -> &dyn runbook_module::Progress;

    /// `send` builds the call anew each time, so a mutation keeps its
    /// request token across retries.
    async fn retrying<T, E, R, F, Fut>(
        &self,
        operation: &str,
        send: F,
    ) -> Result<T, aws_sdk_cloudformation::error::SdkError<E, R>>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, aws_sdk_cloudformation::error::SdkError<E, R>>>,
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        runbook_aws::retry::with_retries(operation, send, |retry| {
            self.sink().progress(retry.to_string())
        })
        .await
    }
}

/// Where a role's CloudFormation templates may be, besides its directory.
pub(crate) const TEMPLATE_DIRS: &[&str] = &["files", "templates"];

/// Every option but the connection and `state`, when all are known before
/// running: two tasks on one stack or stack set that want it differently
/// would change it back and forth on every run (the graph says so).
pub(crate) fn settings(cx: &mut Analysis<'_>) -> Option<Json> {
    let mut out = serde_json::Map::new();
    let args: Vec<(String, runbook_module::Arg)> = cx
        .args
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "profile" | "region" | "endpoint_url" | "state"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, arg) in args {
        let value = cx.engine.render(&arg.value, cx.scope).ok()?;
        out.insert(key, value);
    }
    Some(Json::Object(out))
}

/// What a task that only reads a thing (a stack, a stack set) tells the
/// graph: where it acts, and the thing `option` names, so that it keeps its
/// file order with the tasks that change that thing.
pub(crate) fn reads_only(cx: &mut Analysis<'_>, option: &str, kind: &'static str) -> StaticFacts {
    let placement = placement(cx);
    let owns = match (&placement, cx.text_now(option).now().flatten()) {
        (Placement::Account(_), Some(name)) => vec![runbook_module::Owned { kind, name }],
        _ => Vec::new(),
    };
    StaticFacts {
        placement,
        owns,
        ..StaticFacts::default()
    }
}

/// The options of the task that undoes a present one: the options that
/// say which thing where (`which`), and `state: absent`. `None` when the
/// task already deletes.
pub(crate) fn absent_args(
    args: &IndexMap<String, Json>,
    which: &[&str],
) -> Option<IndexMap<String, Json>> {
    if args.get("state").is_some_and(|s| s == "absent") {
        return None;
    }
    let mut undo: IndexMap<String, Json> = which
        .iter()
        .filter_map(|k| Some((k.to_string(), args.get(*k)?.clone())))
        .collect();
    undo.insert("state".into(), Json::String("absent".into()));
    Some(undo)
}

/// Parses a template body: `runbook_cfn::parse`, or a module's cache of it
/// (a template is often shared by many tasks).
pub(crate) type ParseTemplate<'a> =
    &'a dyn Fn(&str) -> Result<Arc<runbook_cfn::Template>, runbook_cfn::TemplateError>;

/// The template a task gives when it runs, as text and parsed: the file
/// `template` names (looked for in `search`), or `template_body` (text, or
/// a mapping written as JSON). Neither given (`template_url`, a delete):
/// `(None, None)`.
#[allow(clippy::type_complexity)]
pub(crate) fn given_template(
    search: &[std::path::PathBuf],
    path: Option<&str>,
    body: Option<&Json>,
    parse: ParseTemplate<'_>,
) -> Result<(Option<String>, Option<Arc<runbook_cfn::Template>>), String> {
    let body = if let Some(path) = path {
        let full = runbook_module::find_file(
            search,
            path,
            TEMPLATE_DIRS,
            runbook_module::PlaybookDir::Only,
        )
        .map_err(|looked| {
            format!(
                "template file `{path}` cannot be read (looked at {})",
                looked
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        Some(std::fs::read_to_string(&full).map_err(|e| {
            format!(
                "template file `{path}` cannot be read (looked at {}): {e}",
                full.display()
            )
        })?)
    } else {
        match body {
            Some(Json::String(s)) => Some(s.clone()),
            Some(map @ Json::Object(_)) => Some(map.to_string()),
            Some(other) => {
                return Err(format!(
                    "option `template_body` must be a string or a mapping, found {}",
                    runbook_module::schema::json_kind(other)
                ))
            }
            None => None,
        }
    };
    let template = match &body {
        Some(body) => Some(parse(body).map_err(|e| match e.span {
            Some(span) => format!(
                "template error at line {}, column {}: {}",
                span.line,
                span.column,
                runbook_module::printable(&e.message)
            ),
            None => format!("template error: {}", runbook_module::printable(&e.message)),
        })?),
        None => None,
    };
    Ok((body, template))
}

pub(crate) fn deadline_after(wait: std::time::Duration) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_add(wait)
        .or_else(|| now.checked_add(std::time::Duration::from_secs(8 * 24 * 3600)))
        .unwrap_or(now)
}

/// The run's AWS context; a run without one is a bug in the caller.
pub(crate) fn context(services: &Services) -> Result<Arc<AwsContext>, ModuleFailure> {
    services.get::<AwsContext>().ok_or_else(|| {
        ModuleFailure::new(
            "internal error in runbook: this run has no AWS context (please report it)",
        )
    })
}

/// "cicd 111111111111 us-east-1": profile, account once known, region.
pub(crate) fn target_label(args: &IndexMap<String, Json>, services: &Services) -> Option<String> {
    let target = target_of(args);
    let mut label = target.profile.clone().unwrap_or_else(|| "default".into());
    if let Some(account) = services
        .get::<AwsContext>()
        .and_then(|aws| aws.account_of(&target))
    {
        label.push_str(&format!(" {account}"));
    }
    if let Some(region) = &target.region {
        label.push_str(&format!(" {region}"));
    }
    Some(label)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    #[test]
    fn a_deadline_never_overflows() {
        let before = Instant::now();
        assert!(super::deadline_after(Duration::from_secs(60)) >= before + Duration::from_secs(60));
        // `Instant + Duration::MAX` panics; the deadline is far away instead.
        let far = super::deadline_after(Duration::MAX);
        assert!(far >= before + Duration::from_secs(7 * 24 * 3600));
    }
}
