use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0   success
  1   other error
  2   one or more tasks failed
  3   AWS unreachable: unknown profile, missing credentials, failed assume-role
  4   invalid playbook: syntax, unknown module/keyword/option, undefined variable, cycle, template
  5   bad command line or -e value
  6   apply --check --detailed-exitcode: changes would be made
  7   apply --plan: the saved plan no longer applies (nothing was changed)
  99  interrupted (Ctrl-C, SIGINT)
  143 stopped by SIGTERM";

/// A declarative reconciler for AWS CloudFormation: runs Ansible-compatible
/// playbooks as a task graph, concurrently where the data allows.
#[derive(Debug, Parser)]
#[command(name = "runbook", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a playbook and its templates without touching AWS.
    #[command(after_help = EXIT_CODES)]
    Validate(Common),
    /// Reconcile the playbook's stacks with AWS: create, update, or leave alone.
    #[command(after_help = EXIT_CODES)]
    Apply(ApplyArgs),
    /// Delete every stack the playbook manages, in the reverse order of
    /// creation (a stack goes after the stacks that depend on it).
    #[command(after_help = EXIT_CODES)]
    Destroy(ApplyArgs),
    /// Print the task graph: what waits for what, and why.
    #[command(after_help = EXIT_CODES)]
    Graph {
        #[command(flatten)]
        common: Common,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
        /// Draw every edge with its reasons, the implied ones dashed; by
        /// default dot, mermaid and text leave out each edge that a longer
        /// path already implies. JSON always holds every edge.
        #[arg(long)]
        all_edges: bool,
    },
}

#[derive(Debug, Args)]
pub struct Common {
    /// The playbook file.
    pub playbook: PathBuf,
    /// Extra variables: key=value (several per -e), @file.yml, or a JSON
    /// object. Highest precedence, as in ansible-playbook.
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,
    /// More detail (repeat for more).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only run tasks with these tags (comma-separated, repeatable;
    /// `always`, `never`, `tagged`, `untagged` and `all` as in Ansible).
    #[arg(short = 't', long = "tags", value_name = "TAGS", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Skip tasks with these tags.
    #[arg(long = "skip-tags", value_name = "TAGS", value_delimiter = ',')]
    pub skip_tags: Vec<String>,
    /// Start at the first task with this name (`role : name` for a role's).
    #[arg(long = "start-at-task", value_name = "NAME")]
    pub start_at_task: Option<String>,
    /// List the tasks that would run, with their tags, and stop.
    #[arg(long = "list-tasks")]
    pub list_tasks: bool,
    /// List every tag of the playbook, and stop.
    #[arg(long = "list-tags")]
    pub list_tags: bool,
    /// `json`: print one JSON report (docs/cli.md) instead of lines.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
    Text,
}

/// The most tasks `--forks` lets run at once: more would only queue on
/// AWS's API rate limits (and each running task holds connections).
pub const MAX_FORKS: i64 = 256;
/// The longest `--wait-timeout`: 7 days, longer than any CloudFormation
/// operation may take, and far from `Instant`'s limits.
pub const MAX_WAIT_TIMEOUT: u64 = 7 * 24 * 3600;
/// The most attempts `--max-attempts` allows per AWS call.
pub const MAX_ATTEMPTS: i64 = 100;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub common: Common,
    /// Make no change: show what each task would do.
    #[arg(long, short = 'C')]
    pub check: bool,
    /// Show what changes in detail: every resource of a stack (Add,
    /// Modify with its replacement, Remove) and the template's text diff.
    #[arg(long, short = 'D')]
    pub diff: bool,
    /// With --check: write the plan to FILE, to apply it later with --plan.
    #[arg(long, value_name = "FILE", requires = "check")]
    pub save_plan: Option<PathBuf>,
    /// Apply exactly the plan saved in FILE; refuse if the playbook, an
    /// input, the -e values or a live stack changed since it was made.
    #[arg(long, value_name = "FILE", conflicts_with = "check")]
    pub plan: Option<PathBuf>,
    /// Plan (and update) stacks through CloudFormation change sets: the
    /// plan is CloudFormation's own. With --check the change sets are
    /// deleted afterwards, unless --save-plan keeps them for --plan.
    #[arg(long)]
    pub change_sets: bool,
    /// With --check: exit 6 when changes would be made (0 when none).
    #[arg(long, requires = "check")]
    pub detailed_exitcode: bool,
    /// Run at most this many tasks at once (1 to 256); a task waiting for
    /// CloudFormation to finish gives its fork back meanwhile.
    #[arg(long, short = 'f', default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=MAX_FORKS))]
    pub forks: u16,
    /// After a failure, still run every task that does not depend on it.
    #[arg(long)]
    pub keep_going: bool,
    /// Give up waiting for a stack to settle after this many seconds (1 to
    /// 604800, 7 days).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=MAX_WAIT_TIMEOUT))]
    pub wait_timeout: u64,
    /// Attempts per AWS call (throttling and network errors are retried
    /// with backoff; 1 to 100).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=MAX_ATTEMPTS))]
    pub max_attempts: u32,
}
