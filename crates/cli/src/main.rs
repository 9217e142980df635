//! The `runbook` binary: parse arguments, run a command, exit with its code.

mod args;
mod commands;
mod diagnostics;
mod exit;
mod report;

fn main() {
    std::process::exit(commands::run());
}
