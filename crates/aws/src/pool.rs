use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::Poll;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_types::os_shim_internal::Env;
use aws_types::region::Region;
use aws_types::SdkConfig;
use tokio::sync::OnceCell;

use crate::error::{error_chain, transient_credentials};
use crate::profiles::ProfileTexts;
use crate::retry;
use crate::{AwsError, Target};

/// Settings shared by every target of a pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Attempts per SDK call (standard retry mode), including the STS calls
    /// behind assume-role profiles.
    pub max_attempts: u32,
    /// When set, the complete environment the pool sees instead of the
    /// process one (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE,
    /// AWS_ENDPOINT_URL, AWS_PROFILE, AWS_REGION, ...): lets tests in one
    /// process each use their own emulator without `set_var`.
    pub env_overrides: Option<Vec<(String, String)>>,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for one attempt of a call, response included.
    pub operation_attempt_timeout: Duration,
    /// Time for a whole call, retries included.
    pub operation_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            env_overrides: None,
            connect_timeout: Duration::from_secs(10),
            operation_attempt_timeout: Duration::from_secs(60),
            operation_timeout: Duration::from_secs(180),
        }
    }
}

/// Who a target's credentials belong to (STS GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// AWS configuration and clients per [`Target`], each built once and shared;
/// cheap to clone.
#[derive(Clone)]
pub struct ClientPool {
    inner: Arc<Inner>,
}

struct Inner {
    settings: PoolSettings,
    entries: Mutex<HashMap<Target, Arc<Entry>>>,
    loads: AtomicUsize,
    /// One HTTPS client (TLS config, connection pool) for every target:
    /// building one per account cost more CPU than the calls themselves.
    http: aws_sdk_sts::config::SharedHttpClient,
    /// The profile files, read once for every target.
    profiles: OnceCell<ProfileTexts>,
}

/// A target's configuration, and its account when the credentials name it.
#[derive(Clone)]
struct Loaded {
    config: SdkConfig,
    /// Set only for temporary credentials AWS has just issued (AssumeRole,
    /// SSO, ...), which name their account: STS already vouched for them, so
    /// no GetCallerIdentity is needed to learn the account.
    issued_account: Option<String>,
}

/// One target's state; the cells make concurrent first callers share one
/// load instead of racing.
#[derive(Default)]
struct Entry {
    config: OnceCell<Result<Loaded, AwsError>>,
    identity: OnceCell<Identity>,
    cloudformation: OnceLock<aws_sdk_cloudformation::Client>,
    sts: OnceLock<aws_sdk_sts::Client>,
    iam: OnceLock<aws_sdk_iam::Client>,
}

impl fmt::Debug for ClientPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientPool")
            .field("settings", &self.inner.settings)
            .field("loads", &self.loads())
            .finish_non_exhaustive()
    }
}

/// The SDK's default HTTPS client (hyper 1, rustls, proxy from the
/// environment), built once, with ring as rustls' crypto rather than the
/// SDK's default aws-lc: the same cipher suites and the system's root
/// certificates, but no C library to build with cmake, which was the largest
/// single cost of a first build. The SDK crates are built without
/// `default-https-client`, so every client gets this one (through the
/// `SdkConfig`).
fn shared_https_client() -> aws_sdk_sts::config::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

impl ClientPool {
    pub fn new(settings: PoolSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                entries: Mutex::new(HashMap::new()),
                loads: AtomicUsize::new(0),
                http: shared_https_client(),
                profiles: OnceCell::new(),
            }),
        }
    }

    pub fn settings(&self) -> &PoolSettings {
        &self.inner.settings
    }

    /// How many times a target's configuration was loaded (for tests: each
    /// target should load once).
    pub fn loads(&self) -> usize {
        self.inner.loads.load(Ordering::Relaxed)
    }

    /// The target's configuration with credentials already resolved.
    pub async fn config(&self, target: &Target) -> Result<SdkConfig, AwsError> {
        Ok(self.entry(target).await?.1)
    }

    pub async fn cloudformation(
        &self,
        target: &Target,
    ) -> Result<aws_sdk_cloudformation::Client, AwsError> {
        let (entry, config) = self.entry(target).await?;
        Ok(entry
            .cloudformation
            .get_or_init(|| aws_sdk_cloudformation::Client::new(&config))
            .clone())
    }

    pub async fn sts(&self, target: &Target) -> Result<aws_sdk_sts::Client, AwsError> {
        let (entry, config) = self.entry(target).await?;
        Ok(sts_client(&entry, &config))
    }

    pub async fn iam(&self, target: &Target) -> Result<aws_sdk_iam::Client, AwsError> {
        let (entry, config) = self.entry(target).await?;
        Ok(entry
            .iam
            .get_or_init(|| aws_sdk_iam::Client::new(&config))
            .clone())
    }

    /// STS GetCallerIdentity, cached per target.
    pub async fn identity(&self, target: &Target) -> Result<Identity, AwsError> {
        let (entry, config) = self.entry(target).await?;
        let identity = entry
            .identity
            .get_or_try_init(|| async {
                let sts = sts_client(&entry, &config);
                let out = retry::with_retries(
                    "GetCallerIdentity",
                    || sts.get_caller_identity().send(),
                    |_| {},
                )
                .await
                .map_err(|e| AwsError::from_sdk(target, "GetCallerIdentity", &e))?;
                let missing = |field: &str| AwsError::Service {
                    target: target.clone(),
                    operation: "GetCallerIdentity".into(),
                    code: None,
                    message: format!("the answer has no {field}"),
                };
                Ok::<_, AwsError>(Identity {
                    account: out.account().ok_or_else(|| missing("Account"))?.into(),
                    arn: out.arn().ok_or_else(|| missing("Arn"))?.into(),
                    user_id: out.user_id().unwrap_or_default().into(),
                })
            })
            .await?;
        Ok(identity.clone())
    }

    /// The target's account id: named by credentials AWS has just issued
    /// (an assume-role profile), otherwise asked of STS GetCallerIdentity.
    pub async fn account(&self, target: &Target) -> Result<String, AwsError> {
        let (_, loaded) = self.loaded(target).await?;
        match loaded.issued_account {
            Some(account) => Ok(account),
            None => Ok(self.identity(target).await?.account),
        }
    }

    /// Resolves every target (credentials and account) concurrently; the
    /// results are in input order.
    pub async fn preflight(&self, targets: &[Target]) -> Vec<(Target, Result<String, AwsError>)> {
        let results = join_all(targets.iter().map(|t| self.account(t)).collect()).await;
        targets.iter().cloned().zip(results).collect()
    }

    async fn entry(&self, target: &Target) -> Result<(Arc<Entry>, SdkConfig), AwsError> {
        let (entry, loaded) = self.loaded(target).await?;
        Ok((entry, loaded.config))
    }

    async fn loaded(&self, target: &Target) -> Result<(Arc<Entry>, Loaded), AwsError> {
        let entry = {
            let mut entries = self
                .inner
                .entries
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            entries.entry(target.clone()).or_default().clone()
        };
        match entry.config.get_or_init(|| self.load(target)).await {
            Ok(loaded) => Ok((entry.clone(), loaded.clone())),
            Err(err) => {
                // Keep only errors that a reload would repeat; otherwise let
                // the next caller try again.
                if !err.is_permanent() {
                    let mut entries = self
                        .inner
                        .entries
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    if entries.get(target).is_some_and(|e| Arc::ptr_eq(e, &entry)) {
                        entries.remove(target);
                    }
                }
                Err(err.clone())
            }
        }
    }

    async fn load(&self, target: &Target) -> Result<Loaded, AwsError> {
        self.inner.loads.fetch_add(1, Ordering::Relaxed);
        let settings = &self.inner.settings;
        let vars = self.environment(target);
        let profile = target
            .profile
            .clone()
            .or_else(|| vars.get("AWS_PROFILE").filter(|p| !p.is_empty()).cloned());
        let env = Env::from(vars.clone());
        let texts = self
            .inner
            .profiles
            .get_or_init(|| {
                ProfileTexts::read(
                    profile_file_path(&vars, "AWS_CONFIG_FILE", "config"),
                    profile_file_path(&vars, "AWS_SHARED_CREDENTIALS_FILE", "credentials"),
                )
            })
            .await;
        if let Some(profile) = &profile {
            check_profile(target, profile, &vars, texts)?;
        }

        // The environment given here reaches every provider aws-config
        // builds, including the STS client of an assume-role profile, which
        // ignores `.endpoint_url()`; hence the per-target AWS_ENDPOINT_URL in
        // `environment`.
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(self.inner.http.clone())
            .env(env)
            .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts.max(1)))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(settings.connect_timeout)
                    .operation_attempt_timeout(settings.operation_attempt_timeout)
                    .operation_timeout(settings.operation_timeout)
                    .build(),
            );
        if let Some(profile) = &target.profile {
            loader = loader.profile_name(profile);
        }
        // Only the sections this target's profile needs (profiles.rs).
        if let Some(files) = texts
            .files_for(profile.as_deref().unwrap_or("default"))
            .await
        {
            loader = loader.profile_files(files);
        }
        if let Some(region) = &target.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(endpoint) = &target.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        let config = loader.load().await;

        if config.region().is_none() {
            return Err(AwsError::Config {
                target: target.clone(),
                message:
                    "no region: set `region` on the task, AWS_REGION, or `region` in the profile"
                        .into(),
            });
        }
        // A region from the environment or the profile, which the playbook
        // does not show: checked here, before any call goes to an endpoint
        // that does not exist.
        if let Some(region) = config.region() {
            crate::regions::check_region(region.as_ref()).map_err(|why| AwsError::Config {
                target: target.clone(),
                message: format!(
                    "{why}: set `region` on the task, AWS_REGION, or `region` in the profile to a region of your account"
                ),
            })?;
        }
        let Some(provider) = config.credentials_provider() else {
            return Err(AwsError::Credentials {
                target: target.clone(),
                message: "no credentials provider was configured".into(),
            });
        };
        // STS throttling or failing on its side is retried as the
        // CloudFormation calls are; a denied role or missing keys are not.
        let mut retries = 0;
        let credentials = loop {
            match provider.provide_credentials().await {
                Ok(credentials) => break credentials,
                Err(err) if retries < retry::RETRIES && transient_credentials(&err) => {
                    retries += 1;
                    tokio::time::sleep(retry::pause(retries)).await;
                }
                Err(err) => return Err(credentials_error(target, profile.as_deref(), &err)),
            }
        };
        let issued_account = credentials
            .expiry()
            .and(credentials.account_id())
            .map(|account| account.as_str().to_string());
        let primed = Primed {
            first: Mutex::new(Some(credentials)),
            inner: provider,
        };
        Ok(Loaded {
            config: config
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(primed))
                .build(),
            issued_account,
        })
    }

    /// The environment a target is loaded from: the overrides or the
    /// process environment, adjusted so the target's own settings win.
    fn environment(&self, target: &Target) -> HashMap<String, String> {
        let mut vars: HashMap<String, String> = match &self.inner.settings.env_overrides {
            Some(overrides) => overrides.iter().cloned().collect(),
            None => std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        };
        if let Some(profile) = &target.profile {
            vars.insert("AWS_PROFILE".into(), profile.clone());
            // The chain tries environment keys before the profile; a named
            // profile must win over them, as with boto3's profile_name.
            for key in [
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
            ] {
                vars.remove(key);
            }
        }
        if let Some(region) = &target.region {
            vars.insert("AWS_REGION".into(), region.clone());
        }
        if let Some(endpoint) = &target.endpoint_url {
            // Service-specific variables and the ignore flag would beat the
            // global one; the task's endpoint is meant for every service.
            vars.retain(|k, _| {
                !k.starts_with("AWS_ENDPOINT_URL_") && k != "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
            });
            vars.insert("AWS_ENDPOINT_URL".into(), endpoint.clone());
        }
        vars
    }
}

fn sts_client(entry: &Entry, config: &SdkConfig) -> aws_sdk_sts::Client {
    entry
        .sts
        .get_or_init(|| aws_sdk_sts::Client::new(config))
        .clone()
}

/// Fails with a message naming the profile and the files searched when the
/// profile is not defined.
// Called once per target load; the error's size does not matter there.
#[allow(clippy::result_large_err)]
fn check_profile(
    target: &Target,
    profile: &str,
    vars: &HashMap<String, String>,
    texts: &ProfileTexts,
) -> Result<(), AwsError> {
    let error = |message: String| AwsError::Profile {
        target: target.clone(),
        profile: profile.to_string(),
        message,
    };
    let set = texts.full.as_ref().map_err(|why| {
        error(format!(
            "cannot read the AWS config files for profile `{profile}`: {why}"
        ))
    })?;
    if set.get_profile(profile).is_some() {
        return Ok(());
    }
    let describe = |var: &str, default: &str| {
        let path = profile_file_path(vars, var, default);
        if path.exists() {
            path.display().to_string()
        } else {
            format!("{} (missing)", path.display())
        }
    };
    let config = describe("AWS_CONFIG_FILE", "config");
    let credentials = describe("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    let mut names: Vec<&str> = set.profiles().collect();
    names.sort_unstable();
    let known = if names.is_empty() {
        "no profiles are defined there".to_string()
    } else {
        format!("defined: {}", names.join(", "))
    };
    Err(error(format!(
        "profile `{profile}` is not in {config} nor {credentials}; define it there or \
         choose another profile ({known})"
    )))
}

/// Where aws-config looks for a profile file: `$VAR`, else `~/.aws/NAME`.
fn profile_file_path(vars: &HashMap<String, String>, var: &str, name: &str) -> PathBuf {
    if let Some(path) = vars.get(var).filter(|p| !p.is_empty()) {
        if let (Some(rest), Some(home)) = (path.strip_prefix("~/"), vars.get("HOME")) {
            return PathBuf::from(home).join(rest);
        }
        return PathBuf::from(path);
    }
    let home = vars.get("HOME").map(String::as_str).unwrap_or("~");
    PathBuf::from(home).join(".aws").join(name)
}

fn credentials_error(target: &Target, profile: Option<&str>, err: &CredentialsError) -> AwsError {
    let detail = error_chain(err);
    let who = match profile {
        Some(profile) => format!("profile `{profile}`"),
        None => "the default credential chain".to_string(),
    };
    let message = match err {
        CredentialsError::CredentialsNotLoaded(_) => match profile {
            Some(_) => format!(
                "no credentials for {who} (give it keys, a role_arn with source_profile, SSO \
                 settings or a credential_process): {detail}"
            ),
            None => format!(
                "no credentials found by {who} (choose a profile or set AWS_PROFILE): {detail}"
            ),
        },
        CredentialsError::ProviderTimedOut(_) => {
            return AwsError::Network {
                target: target.clone(),
                operation: "LoadCredentials".into(),
                message: format!("loading credentials for {who} timed out: {detail}"),
            }
        }
        _ => format!("could not load credentials for {who}: {detail}"),
    };
    AwsError::Credentials {
        target: target.clone(),
        message,
    }
}

/// Hands out the credentials fetched during the load first, so checking
/// them up front costs no second AssumeRole; later refreshes (expiry) go to
/// the real provider. The SDK's identity cache sits in front of this.
#[derive(Debug)]
struct Primed {
    first: Mutex<Option<Credentials>>,
    inner: SharedCredentialsProvider,
}

impl ProvideCredentials for Primed {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let first = self
            .first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match first {
            Some(credentials) => future::ProvideCredentials::ready(Ok(credentials)),
            None => self.inner.provide_credentials(),
        }
    }
}

/// Polls all futures on the caller's task and returns their outputs in
/// order (no spawning, so borrowed futures are fine).
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(vars: &[(&str, &str)]) -> ClientPool {
        ClientPool::new(PoolSettings {
            env_overrides: Some(
                vars.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..PoolSettings::default()
        })
    }

    #[test]
    fn target_settings_win_over_the_environment() {
        let pool = pool(&[
            ("AWS_PROFILE", "other"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_ENDPOINT_URL", "http://a"),
            ("AWS_ENDPOINT_URL_STS", "http://b"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]);
        let target = Target::profile("cicd")
            .with_region("eu-west-1")
            .with_endpoint_url("http://c");
        let vars = pool.environment(&target);
        assert_eq!(vars.get("AWS_PROFILE").map(String::as_str), Some("cicd"));
        assert_eq!(
            vars.get("AWS_REGION").map(String::as_str),
            Some("eu-west-1")
        );
        assert_eq!(
            vars.get("AWS_ENDPOINT_URL").map(String::as_str),
            Some("http://c")
        );
        for gone in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ENDPOINT_URL_STS",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        ] {
            assert!(!vars.contains_key(gone), "{gone}");
        }
    }

    #[test]
    fn ambient_target_keeps_the_environment() {
        let pool = pool(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_ENDPOINT_URL", "http://a"),
        ]);
        let vars = pool.environment(&Target::ambient());
        assert_eq!(vars.len(), 2);
    }

    #[test]
    fn profile_file_paths() {
        let vars: HashMap<String, String> = [("HOME", "/home/u"), ("AWS_CONFIG_FILE", "~/cfg")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            profile_file_path(&vars, "AWS_CONFIG_FILE", "config"),
            PathBuf::from("/home/u/cfg")
        );
        assert_eq!(
            profile_file_path(&vars, "AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            PathBuf::from("/home/u/.aws/credentials")
        );
    }

    #[tokio::test]
    async fn unknown_profile_names_files_and_known_profiles() {
        let dir = std::env::temp_dir().join(format!("runbook-aws-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let config = dir.join("config");
        std::fs::write(&config, "[profile known]\nregion = us-east-1\n").expect("write config");
        let pool = pool(&[
            ("AWS_CONFIG_FILE", config.to_str().expect("utf-8 path")),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]);
        let err = pool
            .config(&Target::profile("nope"))
            .await
            .expect_err("unknown profile");
        let text = err.to_string();
        assert!(matches!(&err, AwsError::Profile { profile, .. } if profile == "nope"));
        assert!(text.contains("profile `nope`"), "{text}");
        assert!(text.contains(config.to_str().unwrap_or_default()), "{text}");
        assert!(
            text.contains("/nonexistent/credentials (missing)"),
            "{text}"
        );
        assert!(text.contains("defined: known"), "{text}");
        // Permanent: cached, not reloaded.
        let again = pool
            .config(&Target::profile("nope"))
            .await
            .expect_err("cached");
        assert_eq!(again, err);
        assert_eq!(pool.loads(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn missing_region_is_reported() {
        let pool = pool(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_CONFIG_FILE", "/nonexistent/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]);
        let err = pool
            .config(&Target::ambient())
            .await
            .expect_err("no region");
        assert!(err.to_string().contains("no region"), "{err}");
    }

    #[tokio::test]
    async fn an_unknown_region_from_the_environment_is_named() {
        let pool = pool(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_REGION", "us-east-99"),
            ("AWS_CONFIG_FILE", "/nonexistent/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]);
        let err = pool
            .config(&Target::ambient())
            .await
            .expect_err("no such region");
        let text = err.to_string();
        assert!(matches!(err, AwsError::Config { .. }), "{err:?}");
        assert!(
            text.contains("`us-east-99` is not an AWS region (did you mean `us-east-1`?)"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn join_all_keeps_order() {
        let out = join_all(vec![
            Box::pin(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                1
            }) as Pin<Box<dyn Future<Output = i32>>>,
            Box::pin(async { 2 }),
        ])
        .await;
        assert_eq!(out, [1, 2]);
    }
}
