use std::fmt;

use aws_sdk_sts::error::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::error::ErrorMetadata;

use crate::Target;

/// Why talking to AWS for a target failed. Every message names the target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// The profile is not defined, or the config files cannot be read.
    #[error("{target}: {message}")]
    Profile {
        target: Target,
        profile: String,
        message: String,
    },
    /// The configuration is incomplete (e.g. no region).
    #[error("{target}: {message}")]
    Config { target: Target, message: String },
    /// No credentials, or loading them failed (e.g. AssumeRole denied).
    #[error("{target}: {message}")]
    Credentials { target: Target, message: String },
    /// AWS answered with an error.
    #[error("{target}: {operation} failed: {}", CodeMessage(code, message))]
    Service {
        target: Target,
        operation: String,
        code: Option<String>,
        message: String,
    },
    /// AWS throttled the call and retries did not get through.
    #[error("{target}: {operation} throttled: {}", CodeMessage(code, message))]
    Throttled {
        target: Target,
        operation: String,
        code: Option<String>,
        message: String,
    },
    /// The request did not reach AWS or timed out.
    #[error("{target}: {operation}: network error: {message}")]
    Network {
        target: Target,
        operation: String,
        message: String,
    },
}

impl AwsError {
    /// Classifies an SDK error of `operation` (e.g. `"CreateStack"`).
    pub fn from_sdk<E, R>(target: &Target, operation: &str, err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + 'static,
    {
        let failure = describe(err);
        let (target, operation) = (target.clone(), operation.to_string());
        if failure.throttling {
            AwsError::Throttled {
                target,
                operation,
                code: failure.code,
                message: failure.message,
            }
        } else if failure.network {
            AwsError::Network {
                target,
                operation,
                message: failure.message,
            }
        } else {
            AwsError::Service {
                target,
                operation,
                code: failure.code,
                message: failure.message,
            }
        }
    }

    /// The target the error is about.
    pub fn target(&self) -> &Target {
        match self {
            AwsError::Profile { target, .. }
            | AwsError::Config { target, .. }
            | AwsError::Credentials { target, .. }
            | AwsError::Service { target, .. }
            | AwsError::Throttled { target, .. }
            | AwsError::Network { target, .. } => target,
        }
    }

    /// The AWS error code, if AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. } | AwsError::Throttled { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, AwsError::Throttled { .. } | AwsError::Network { .. })
    }

    /// Errors that follow from the config files alone, so that loading the
    /// same target again would fail the same way.
    pub(crate) fn is_permanent(&self) -> bool {
        matches!(self, AwsError::Profile { .. } | AwsError::Config { .. })
    }
}

struct CodeMessage<'a>(&'a Option<String>, &'a String);

impl fmt::Display for CodeMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(code) => write!(f, "{code}: {}", self.1),
            None => f.write_str(self.1),
        }
    }
}

/// What went wrong in one SDK call, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFailure {
    /// AWS error code (`ValidationError`, `Throttling`, ...), if AWS answered.
    pub code: Option<String>,
    /// AWS's message, or the error chain when there is none.
    pub message: String,
    /// AWS throttled the request.
    pub throttling: bool,
    /// The request never got an answer (connection failure, timeout).
    pub network: bool,
    /// Trying again later may succeed (throttling, network, transient
    /// server-side errors).
    pub retryable: bool,
}

/// Error codes AWS services use for throttling. Not `LimitExceededException`:
/// in CloudFormation that is a quota (too many stacks), not a rate limit.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Server-side codes worth retrying.
const TRANSIENT_CODES: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServiceError",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// Describes any SDK error (every `aws_sdk_*::error::SdkError` is this
/// type), keeping the AWS code and message that a bare `SdkError` does not
/// print ("service error").
pub fn describe<E, R>(err: &SdkError<E, R>) -> ServiceFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let context = || error_chain(err);
    match err {
        SdkError::ServiceError(_) => {
            let code = err.code().map(str::to_string);
            // One line: AWS's text (a custom resource's reason) may hold
            // newlines, which would start lines of their own.
            let message = err
                .message()
                .filter(|m| !m.is_empty())
                .map(one_line)
                .unwrap_or_else(context);
            let throttling = code
                .as_deref()
                .is_some_and(|c| THROTTLING_CODES.contains(&c));
            let transient = code
                .as_deref()
                .is_some_and(|c| TRANSIENT_CODES.contains(&c));
            ServiceFailure {
                code,
                message,
                throttling,
                network: false,
                retryable: throttling || transient,
            }
        }
        SdkError::TimeoutError(_) => ServiceFailure {
            code: None,
            message: context(),
            throttling: false,
            network: true,
            retryable: true,
        },
        SdkError::DispatchFailure(failure) => ServiceFailure {
            code: None,
            message: context(),
            throttling: false,
            network: true,
            // A user error (e.g. a malformed endpoint URL) will not heal,
            // nor, soon, an endpoint where nothing listens.
            retryable: !failure.is_user() && !connection_rejected(err),
        },
        // An unparseable answer: often a proxy or overloaded endpoint.
        SdkError::ResponseError(_) => ServiceFailure {
            code: None,
            message: context(),
            throttling: false,
            network: false,
            retryable: true,
        },
        // ConstructionFailure (bad input, no credentials) and future kinds.
        _ => ServiceFailure {
            code: err.code().map(str::to_string),
            message: context(),
            throttling: false,
            network: false,
            retryable: false,
        },
    }
}

/// An error and its sources as one line, `a: b: c`, skipping repeats
/// (wrappers often repeat their source's text). Unlike the SDK's
/// `DisplayErrorContext`, no Debug dump is appended.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut push = |text: String| {
        let text = one_line(&text);
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
    };
    let mut next = Some(err);
    while let Some(err) = next {
        // AWS's code and message, not the metadata's debug-like Display
        // (`Error { code: "...", ... }`); an SdkError's own "service error"
        // says nothing.
        match err.downcast_ref::<ErrorMetadata>() {
            Some(meta) => push(match (meta.code(), meta.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                (None, Some(message)) => message.to_string(),
                (None, None) => String::new(),
            }),
            None => {
                let text = err.to_string();
                if text != "service error" {
                    push(text);
                }
            }
        }
        next = err.source();
    }
    parts.join(": ")
}

/// Whether the connection was refused: nothing listens at the endpoint
/// (a wrong `endpoint_url`, an emulator not started), which retrying for a
/// minute would only hide.
///
/// The same for a TLS handshake that failed on what the server presented
/// (a certificate for another name, an unknown authority, no common
/// protocol): the next attempt gets the same certificate.
fn connection_rejected(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
            if tls_rejected(io) {
                return true;
            }
        }
        next = err.source();
    }
    false
}

/// Whether rustls refused what the server presented. io::Error's `source`
/// skips the error it wraps (here an io::Error wrapping rustls' error), so
/// the wrapped ones are walked here.
fn tls_rejected(io: &std::io::Error) -> bool {
    let mut inner = io
        .get_ref()
        .map(|e| e as &(dyn std::error::Error + 'static));
    while let Some(err) = inner {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_)
                    | rustls::Error::NoCertificatesPresented
                    | rustls::Error::UnsupportedNameType
                    | rustls::Error::PeerIncompatible(_)
            );
        }
        inner = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    false
}

/// Whether a failure to load credentials may heal on a retry: STS throttled
/// or failed on its side, or the network did.
pub(crate) fn transient_credentials(
    err: &aws_credential_types::provider::error::CredentialsError,
) -> bool {
    use aws_credential_types::provider::error::CredentialsError;
    if matches!(err, CredentialsError::ProviderTimedOut(_)) {
        return true;
    }
    let mut next: Option<&dyn std::error::Error> = Some(err);
    while let Some(err) = next {
        if let Some(meta) = err.downcast_ref::<ErrorMetadata>() {
            return meta
                .code()
                .is_some_and(|c| THROTTLING_CODES.contains(&c) || TRANSIENT_CODES.contains(&c));
        }
        if let Some(connector) = err.downcast_ref::<aws_sdk_sts::error::ConnectorError>() {
            return !connector.is_user() && !connection_rejected(connector);
        }
        next = err.source();
    }
    false
}

/// Joins the lines of a multi-line message (the credential chain lists
/// each provider on its own line) so errors stay one line.
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::operation::create_stack::CreateStackError;

    type CfnError = SdkError<CreateStackError, ()>;

    fn service_error(code: &str, message: &str) -> CfnError {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        SdkError::service_error(CreateStackError::generic(meta), ())
    }

    /// What the credentials provider of an assume-role profile returns
    /// when STS fails.
    fn sts_failure(code: &str) -> aws_credential_types::provider::error::CredentialsError {
        let meta = ErrorMetadata::builder()
            .code(code)
            .message("Service is unable to handle request.")
            .build();
        let err: SdkError<CreateStackError, ()> =
            SdkError::service_error(CreateStackError::generic(meta), ());
        aws_credential_types::provider::error::CredentialsError::provider_error(err)
    }

    #[test]
    fn an_sts_failure_reads_as_code_and_message() {
        let text = error_chain(&sts_failure("ServiceUnavailable"));
        assert!(
            text.ends_with("ServiceUnavailable: Service is unable to handle request."),
            "{text}"
        );
        assert!(!text.contains("Error {"), "{text}");
        assert!(!text.contains("service error"), "{text}");
    }

    #[test]
    fn sts_throttling_and_5xx_are_worth_a_retry_a_denied_role_is_not() {
        assert!(transient_credentials(&sts_failure("ServiceUnavailable")));
        assert!(transient_credentials(&sts_failure("Throttling")));
        assert!(!transient_credentials(&sts_failure("AccessDenied")));
    }

    #[test]
    fn chains_are_one_line() {
        assert_eq!(
            one_line("Attempted:\n  A: no\n  B: no\n"),
            "Attempted: A: no; B: no"
        );
    }

    #[test]
    fn keeps_code_and_message() {
        let failure = describe(&service_error("ValidationError", "Template format error"));
        assert_eq!(failure.code.as_deref(), Some("ValidationError"));
        assert_eq!(failure.message, "Template format error");
        assert!(!failure.throttling && !failure.retryable && !failure.network);
    }

    #[test]
    fn classifies_throttling() {
        for code in [
            "Throttling",
            "ThrottlingException",
            "RequestLimitExceeded",
            "TooManyRequestsException",
        ] {
            let failure = describe(&service_error(code, "Rate exceeded"));
            assert!(failure.throttling && failure.retryable, "{code}");
        }
        let quota = describe(&service_error("LimitExceededException", "too many stacks"));
        assert!(!quota.throttling && !quota.retryable);
    }

    #[test]
    fn classifies_network_failures() {
        use aws_sdk_cloudformation::error::ConnectorError;
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let failure = describe(&CfnError::dispatch_failure(ConnectorError::io(io.into())));
        assert!(failure.network && failure.retryable && !failure.throttling);
        assert!(failure.message.contains("reset"), "{}", failure.message);

        // Nothing listens there: retrying would only delay the error.
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let failure = describe(&CfnError::dispatch_failure(ConnectorError::io(io.into())));
        assert!(failure.network && !failure.retryable);
        assert!(failure.message.contains("refused"), "{}", failure.message);

        let failure = describe(&CfnError::timeout_error("slow"));
        assert!(failure.network && failure.retryable);

        // A certificate for another name, as the TLS connector nests it
        // (crates/aws/tests/tls.rs): the next attempt gets the same one.
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName);
        let io = std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, tls));
        let failure = describe(&CfnError::dispatch_failure(ConnectorError::io(io.into())));
        assert!(failure.network && !failure.retryable);
        // Other data a TLS stream refuses mid-way is not about the
        // certificate: retried.
        let io = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::DecryptError,
        ));
        let failure = describe(&CfnError::dispatch_failure(ConnectorError::io(io.into())));
        assert!(failure.retryable);
    }

    #[test]
    fn errors_name_target_and_keep_code() {
        let target = Target::profile("cicd").with_region("us-east-1");
        let err = AwsError::from_sdk(
            &target,
            "CreateStack",
            &service_error("AlreadyExistsException", "Stack [x] already exists"),
        );
        assert_eq!(err.code(), Some("AlreadyExistsException"));
        assert_eq!(
            err.to_string(),
            "profile cicd, us-east-1: CreateStack failed: AlreadyExistsException: Stack [x] already exists"
        );
        let err = AwsError::from_sdk(
            &target,
            "UpdateStack",
            &service_error("Throttling", "Rate exceeded"),
        );
        assert!(matches!(err, AwsError::Throttled { .. }) && err.is_transient());
    }
}
