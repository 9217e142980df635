//! AWS clients for runbook, built once per [`Target`] (profile, region,
//! endpoint) and shared by every task that talks to the same account.
//!
//! [`ClientPool`] loads each target's [`aws_types::SdkConfig`] once, resolves
//! its credentials eagerly (so a missing profile or a failed assume-role is
//! reported with the profile's name before any task runs), and hands out
//! cheap clones of the service clients. [`describe`] turns any SDK error into
//! a [`ServiceFailure`] that keeps the AWS error code and message.

mod error;
mod pool;
mod profiles;
mod regions;
pub mod retry;
mod target;

pub use error::{describe, AwsError, ServiceFailure};
pub use pool::{join_all, ClientPool, Identity, PoolSettings};
pub use regions::{check_region, is_known_region, KNOWN_REGIONS};
pub use target::Target;
