//! The AWS config and credentials files, read and parsed once per pool, and
//! narrowed for each target to the sections its profile needs.
//!
//! aws-config parses the whole of both files for every `SdkConfig` it loads
//! and keeps the result alive in that configuration's providers: with one
//! target per account and an SSO-generated config of hundreds of profiles,
//! that cost (accounts × profiles) dominated runbook's memory
//! (docs/benchmarks.md, finding 1). Each target's loader now gets only its
//! profile, the profiles it chains through (`source_profile`), their
//! `sso-session` sections, `default`, and every other kind of section.

#![allow(deprecated)] // aws-config's aliases of aws-runtime's types

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
use aws_config::profile::ProfileSet;
use aws_types::os_shim_internal::{Env, Fs};

/// Both files' text (empty when a file does not exist) and their parse.
pub(crate) struct ProfileTexts {
    config: String,
    credentials: String,
    /// The SDK's own parse of both, or why it failed.
    pub(crate) full: Result<ProfileSet, String>,
}

impl ProfileTexts {
    pub(crate) async fn read(config_path: PathBuf, credentials_path: PathBuf) -> Self {
        let read = |path: PathBuf| async move {
            match tokio::fs::read_to_string(&path).await {
                Ok(text) => Ok(text),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
                Err(err) => Err(format!("cannot read {}: {err}", path.display())),
            }
        };
        let (config, credentials) = match (read(config_path).await, read(credentials_path).await) {
            (Ok(config), Ok(credentials)) => (config, credentials),
            (Err(why), _) | (_, Err(why)) => {
                return ProfileTexts {
                    config: String::new(),
                    credentials: String::new(),
                    full: Err(why),
                }
            }
        };
        let full = parse(&config, &credentials).await;
        ProfileTexts {
            config,
            credentials,
            full,
        }
    }

    /// The files for a target whose selected profile is `profile`: only the
    /// sections it needs, provided the SDK reads every profile and SSO
    /// session of the chain exactly as from the whole files; otherwise the
    /// whole files. `None` when the files could not be read or parsed (the
    /// SDK then reads them itself and reports the problem).
    pub(crate) async fn files_for(&self, profile: &str) -> Option<ProfileFiles> {
        let full = self.full.as_ref().ok()?;
        let mut profiles = BTreeSet::from(["default".to_string()]);
        let mut sessions = BTreeSet::new();
        let mut queue = vec![profile.to_string()];
        let mut visited = BTreeSet::new();
        while let Some(name) = queue.pop() {
            if !visited.insert(name.clone()) {
                continue;
            }
            profiles.insert(name.clone());
            if let Some(section) = full.get_profile(&name) {
                if let Some(source) = section.get("source_profile") {
                    queue.push(source.to_string());
                }
                if let Some(session) = section.get("sso_session") {
                    sessions.insert(session.to_string());
                }
            }
        }
        let config = keep_sections(&self.config, true, &profiles, &sessions);
        let credentials = keep_sections(&self.credentials, false, &profiles, &sessions);
        let whole = || files(self.config.clone(), self.credentials.clone());
        let Ok(narrow) = parse(&config, &credentials).await else {
            return Some(whole());
        };
        let same = profiles
            .iter()
            .all(|p| narrow.get_profile(p) == full.get_profile(p))
            && sessions
                .iter()
                .all(|s| narrow.sso_session(s) == full.sso_session(s));
        Some(if same {
            files(config, credentials)
        } else {
            whole()
        })
    }
}

fn files(config: String, credentials: String) -> ProfileFiles {
    ProfileFiles::builder()
        .with_contents(ProfileFileKind::Config, config)
        .with_contents(ProfileFileKind::Credentials, credentials)
        .build()
}

async fn parse(config: &str, credentials: &str) -> Result<ProfileSet, String> {
    parse_files(&files(config.to_string(), credentials.to_string())).await
}

/// The SDK's parse of files given as contents: no file is read.
async fn parse_files(files: &ProfileFiles) -> Result<ProfileSet, String> {
    aws_config::profile::load(
        &Fs::from_map(HashMap::<String, Vec<u8>>::new()),
        &Env::from_slice(&[]),
        files,
        None,
    )
    .await
    .map_err(|e| crate::error::error_chain(&e))
}

/// The lines of a profile file without the `[profile X]` / `[X]` and
/// `[sso-session X]` sections that are not wanted. Text before the first
/// section and sections of any other kind are kept.
fn keep_sections(
    text: &str,
    config: bool,
    profiles: &BTreeSet<String>,
    sessions: &BTreeSet<String>,
) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut keep = true;
    for line in text.split_inclusive('\n') {
        // As the SDK's parser: a section header starts in the first column.
        if let Some(header) = line.strip_prefix('[') {
            let inner = header.split(']').next().unwrap_or_default();
            let words: Vec<&str> = inner.split_whitespace().collect();
            keep = match (config, words.as_slice()) {
                (true, ["default"]) | (true, ["profile", "default"]) => true,
                (true, ["profile", name]) => profiles.contains(*name),
                (true, ["sso-session", name]) => sessions.contains(*name),
                (false, [name]) => profiles.contains(*name),
                _ => true,
            };
        }
        if keep {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "# org config\n[default]\nregion = us-east-1\n\n[profile base]\nregion = eu-west-1\n\n[profile unused]\nrole_arn = arn:aws:iam::999999999999:role/x\nsource_profile = base\n\n[profile sso]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\n\n[sso-session corp]\nsso_start_url = https://corp.example/start\nsso_region = us-east-1\n\n[sso-session other]\nsso_start_url = https://other.example/start\n\n[profile prod]\nrole_arn = arn:aws:iam::777777777777:role/deploy\nsource_profile = base\ns3 =\n  max_concurrent_requests = 4\n\n[services local]\ncloudformation =\n  endpoint_url = http://127.0.0.1:1\n";
    const CREDENTIALS: &str = "[base]\naws_access_key_id = AKID\naws_secret_access_key = secret\n\n[unused]\naws_access_key_id = OTHER\naws_secret_access_key = other\n";

    async fn texts() -> ProfileTexts {
        ProfileTexts {
            config: CONFIG.into(),
            credentials: CREDENTIALS.into(),
            full: parse(CONFIG, CREDENTIALS).await,
        }
    }

    async fn narrowed(profile: &str) -> ProfileSet {
        let texts = texts().await;
        let files = texts.files_for(profile).await.expect("files");
        parse_files(&files).await.expect("parse")
    }

    #[tokio::test]
    async fn a_chain_keeps_its_source_profile_and_drops_the_rest() {
        let set = narrowed("prod").await;
        let mut names: Vec<&str> = set.profiles().collect();
        names.sort_unstable();
        assert_eq!(names, ["base", "default", "prod"]);
        let full = texts().await.full.expect("full parse");
        for name in ["base", "default", "prod"] {
            assert_eq!(set.get_profile(name), full.get_profile(name), "{name}");
        }
        // The credentials of `base` come from the credentials file.
        assert_eq!(
            set.get_profile("base")
                .and_then(|p| p.get("aws_access_key_id")),
            Some("AKID")
        );
        assert!(set.sso_session("corp").is_none());
        // Other kinds of sections ([services local]) stay.
        assert_eq!(set.other_sections(), full.other_sections());
        assert_ne!(
            full.other_sections(),
            &aws_config::profile::ProfileSet::default()
                .other_sections()
                .clone()
        );
    }

    #[tokio::test]
    async fn an_sso_profile_keeps_its_session() {
        let set = narrowed("sso").await;
        assert!(set.get_profile("sso").is_some());
        assert!(set.sso_session("corp").is_some());
        assert!(set.sso_session("other").is_none());
        assert!(set.get_profile("unused").is_none());
    }

    #[tokio::test]
    async fn an_unknown_profile_still_gets_default() {
        let set = narrowed("nope").await;
        let names: Vec<&str> = set.profiles().collect();
        assert_eq!(names, ["default"]);
    }
}
