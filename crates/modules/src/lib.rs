//! What the AWS modules do. [`AwsRunner`] is the executor's runner for
//! real AWS: it picks each task's account from its `profile`, `region` and
//! `endpoint_url`, and shares one client per account through the pool.

mod caller_info;
mod cloudformation;
mod cloudformation_info;
mod runner;

pub use runner::{AwsRunner, RunnerSettings};
