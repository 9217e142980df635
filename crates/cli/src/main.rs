//! The `runbook` binary: parse arguments, run a command, print, and turn
//! the outcome into an exit code in one place.

mod args;
mod commands;
mod diagnostics;
mod exit;
mod json;
mod report;
mod signals;

fn main() {
    std::process::exit(commands::main());
}
