//! Retries beyond the SDK's own attempts: CloudFormation throttles per
//! account and its operations run for minutes, so a call that keeps
//! meeting throttling, a 5xx or a dropped connection is worth more patience
//! than the SDK's three quick attempts (Sceptre retries throttling 30
//! times). Errors a retry cannot heal are returned at once.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use aws_sdk_sts::error::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Retries after the SDK's attempts: about a minute and a half in all.
pub const RETRIES: u32 = 10;

/// The pause before retry `n` (from 1): 1 s, 2 s, 4 s, then 8 s, plus up to
/// 0.5 s of jitter so that concurrent tasks do not retry in step.
pub fn pause(n: u32) -> Duration {
    let base = 1000u64 << n.saturating_sub(1).min(3);
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()) % 500)
        .unwrap_or(0);
    Duration::from_millis(base + jitter)
}

/// A retry about to happen, for the progress display.
#[derive(Debug, Clone)]
pub struct Retrying<'a> {
    pub operation: &'a str,
    pub throttled: bool,
    /// This retry's number, from 1 to [`RETRIES`].
    pub attempt: u32,
    pub pause: Duration,
}

impl fmt::Display for Retrying<'_> {
    /// `CreateStack throttled: retrying in 2.3s (2/10)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: retrying in {:.1}s ({}/{RETRIES})",
            self.operation,
            if self.throttled {
                "throttled"
            } else {
                "failed"
            },
            self.pause.as_secs_f64(),
            self.attempt
        )
    }
}

/// Sends a call until it succeeds, fails in a way a retry cannot heal, or
/// [`RETRIES`] retries are spent. `send` builds the call anew each time, so
/// a mutation keeps its request token across retries; `told` hears of each
/// retry before its pause.
pub async fn with_retries<T, E, R, F, Fut>(
    operation: &str,
    mut send: F,
    mut told: impl FnMut(&Retrying<'_>),
) -> Result<T, SdkError<E, R>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let mut attempt = 0u32;
    loop {
        match send().await {
            Ok(value) => return Ok(value),
            Err(err) => {
                let failure = crate::describe(&err);
                if !failure.retryable || attempt >= RETRIES {
                    return Err(err);
                }
                attempt += 1;
                let retry = Retrying {
                    operation,
                    throttled: failure.throttling,
                    attempt,
                    pause: pause(attempt),
                };
                told(&retry);
                tokio::time::sleep(retry.pause).await;
            }
        }
    }
}

/// What to do about a call that failed for good, when its failure was of
/// the retried kinds (the advice goes in parentheses after the error).
pub fn advice<E, R>(err: &SdkError<E, R>) -> Option<String>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let failure = crate::describe(err);
    if failure.throttling {
        Some(format!(
            "AWS kept throttling through {RETRIES} retries: lower --forks, or try again later"
        ))
    } else if failure.network && failure.retryable {
        Some(format!(
            "still failing after {RETRIES} retries: check the network and the endpoint, then run again"
        ))
    } else if failure.network {
        // Refused, or an endpoint that cannot be used: not retried.
        Some(
            "nothing answers there: check `endpoint_url`, AWS_ENDPOINT_URL and the network, then run again"
                .to_string(),
        )
    } else if failure.retryable {
        Some(format!(
            "AWS kept failing through {RETRIES} retries: try again later"
        ))
    } else {
        None
    }
}

/// A call that failed for good, as one line: the target, the operation,
/// AWS's code and message, and what to do when it was of a retried kind.
pub fn explained<E, R>(target: &crate::Target, operation: &str, err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let error = crate::AwsError::from_sdk(target, operation, err);
    match advice(err) {
        Some(advice) => format!("{error} ({advice})"),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_to_eight_seconds_with_bounded_jitter() {
        for (n, base) in [(1, 1000), (2, 2000), (3, 4000), (4, 8000), (10, 8000)] {
            let ms = pause(n).as_millis();
            assert!((base..base + 500).contains(&ms), "retry {n}: {ms} ms");
        }
    }

    #[test]
    fn a_retry_reads_as_a_progress_line() {
        let retry = Retrying {
            operation: "CreateStack",
            throttled: true,
            attempt: 2,
            pause: Duration::from_millis(2300),
        };
        assert_eq!(
            retry.to_string(),
            "CreateStack throttled: retrying in 2.3s (2/10)"
        );
    }
}
