use std::fmt;

/// Which account, region and endpoint a task talks to. `None` fields fall
/// back to the environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, the
/// profile's `region`, ...), as the AWS SDKs and Ansible do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// Profile of the AWS config/credentials files.
    pub profile: Option<String>,
    /// Region, e.g. `us-east-1`.
    pub region: Option<String>,
    /// Endpoint for every service, including the STS call of an
    /// assume-role profile (e.g. a local emulator).
    pub endpoint_url: Option<String>,
}

impl Target {
    /// The target of the ambient configuration (no profile, region or
    /// endpoint of its own).
    pub fn ambient() -> Self {
        Self::default()
    }

    /// A target using `profile`.
    pub fn profile(profile: impl Into<String>) -> Self {
        Self {
            profile: Some(profile.into()),
            ..Self::default()
        }
    }

    /// This target in `region`.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// This target through `endpoint_url`.
    pub fn with_endpoint_url(mut self, endpoint_url: impl Into<String>) -> Self {
        self.endpoint_url = Some(endpoint_url.into());
        self
    }
}

/// A name from a playbook as part of a one-line message: control
/// characters escaped, so that it cannot start a line of its own.
struct OneLine<'a>(&'a str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.profile {
            Some(profile) => write!(f, "profile {}", OneLine(profile))?,
            None => f.write_str("default profile")?,
        }
        match &self.region {
            Some(region) => write!(f, ", {}", OneLine(region))?,
            None => f.write_str(", default region")?,
        }
        if let Some(endpoint) = &self.endpoint_url {
            write!(f, ", endpoint {}", OneLine(endpoint))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_profile_region_and_endpoint() {
        assert_eq!(
            Target::profile("cicd").with_region("us-east-1").to_string(),
            "profile cicd, us-east-1"
        );
        assert_eq!(
            Target::ambient().to_string(),
            "default profile, default region"
        );
        assert_eq!(
            Target::profile("prod")
                .with_region("eu-west-1")
                .with_endpoint_url("http://127.0.0.1:5000")
                .to_string(),
            "profile prod, eu-west-1, endpoint http://127.0.0.1:5000"
        );
    }

    #[test]
    fn names_stay_on_one_line() {
        assert_eq!(
            Target::profile("a\nchanged FAKE").to_string(),
            "profile a\\nchanged FAKE, default region"
        );
    }

    #[test]
    fn is_a_map_key() {
        let mut set = std::collections::HashSet::new();
        set.insert(Target::profile("a"));
        set.insert(Target::profile("a"));
        set.insert(Target::profile("a").with_region("us-east-1"));
        assert_eq!(set.len(), 2);
    }
}
