//! What `apply` prints: a line per task start and finish, stack events as
//! they arrive, and a recap per account.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use runbook_executor::{Event, Reporter, RunSummary, Status};
use runbook_module::printable;
use runbook_playbook::TaskId;

/// Prints events as lines; on a terminal, running tasks also show as live
/// spinners below the lines (indicatif), which plain output never has.
pub struct LineReporter {
    color: bool,
    verbose: u8,
    total: usize,
    state: Mutex<State>,
    live: Option<Live>,
}

struct Live {
    multi: MultiProgress,
    bars: Mutex<HashMap<TaskId, ProgressBar>>,
    style: ProgressStyle,
}

#[derive(Default)]
struct State {
    started: usize,
}

impl LineReporter {
    pub fn new(total: usize, verbose: u8) -> Self {
        let terminal = std::io::stdout().is_terminal();
        let color = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let live = terminal
            .then(|| Live {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
                bars: Mutex::new(HashMap::new()),
                style: ProgressStyle::with_template("  {spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            })
            // A terminal that cannot redraw (TERM unset or dumb) hides
            // indicatif's target, and the lines printed through it with it:
            // plain lines then.
            .filter(|live| !live.multi.is_hidden());
        LineReporter {
            color,
            verbose,
            total,
            state: Mutex::new(State::default()),
            live,
        }
    }

    /// Stops the live display before the recap is printed: every spinner
    /// left (a task abandoned by a signal) goes, so that no redraw erases
    /// what is printed after.
    pub fn finish(&self) {
        if let Some(live) = &self.live {
            if let Ok(mut bars) = live.bars.lock() {
                for (_, bar) in bars.drain() {
                    bar.finish_and_clear();
                    live.multi.remove(&bar);
                }
            }
            let _ = live.multi.clear();
        }
    }

    fn paint(&self, status: Status, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match status {
            Status::Ok => "32",
            Status::Changed => "33",
            Status::Skipped => "36",
            Status::Failed | Status::Blocked | Status::Interrupted => "1;31",
            Status::Rescued => "1;35",
            Status::Ignored => "35",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    fn emit(&self, text: String) {
        if let Some(live) = &self.live {
            // Above the spinners, so they stay at the bottom.
            let _ = live.multi.println(text.trim_end_matches('\n'));
            return;
        }
        // One write per event keeps lines whole when tasks finish together.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

fn target_text(target: &Option<String>) -> String {
    target
        .as_ref()
        .map(|t| format!(" [{}]", printable(t)))
        .unwrap_or_default()
}

impl Reporter for LineReporter {
    fn event(&self, event: Event) {
        match event {
            Event::Started { task, name, target } => {
                let name = printable(&name);
                if let Some(live) = &self.live {
                    let bar = live.multi.add(ProgressBar::new_spinner());
                    bar.set_style(live.style.clone());
                    bar.set_message(format!("{name}{}", target_text(&target)));
                    bar.enable_steady_tick(Duration::from_millis(120));
                    if let Ok(mut bars) = live.bars.lock() {
                        bars.insert(task, bar);
                    }
                }
                let n = {
                    let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                    state.started += 1;
                    state.started
                };
                self.emit(format!(
                    "[{n}/{}] start    {name}{}\n",
                    self.total,
                    target_text(&target)
                ));
            }
            Event::Progress { name, message, .. } => {
                // One line, whatever the message holds.
                self.emit(format!(
                    "         | {}: {}\n",
                    printable(&name),
                    printable(&message)
                ));
            }
            Event::Finished {
                task,
                name,
                target,
                status,
                duration,
                message,
                details,
            } => {
                if let Some(live) = &self.live {
                    if let Some(bar) = live.bars.lock().ok().and_then(|mut b| b.remove(&task)) {
                        bar.finish_and_clear();
                        live.multi.remove(&bar);
                    }
                }
                let label = self.paint(status, &format!("{:<8}", status.label()));
                let mut text = format!(
                    "         {label} {}{} {}",
                    printable(&name),
                    target_text(&target),
                    seconds(duration)
                );
                // A module's message may span lines on purpose (a failure
                // and its reasons): each continues indented. Values inside
                // were made printable by whoever composed it
                // (runbook_module::text), so no line can be forged.
                if let Some(message) = message.filter(|m| !m.is_empty()) {
                    let mut lines = message.lines();
                    if let Some(first) = lines.next() {
                        text.push_str(&format!(": {}", printable(first)));
                    }
                    for line in lines {
                        text.push_str(&format!("\n           {}", printable(line)));
                    }
                }
                text.push('\n');
                // Planned changes always show in check mode (they are the
                // point of it); otherwise with -v.
                if self.verbose > 0 || status == Status::Changed {
                    for line in details {
                        text.push_str(&format!("           - {}\n", printable(&line)));
                    }
                }
                self.emit(text);
            }
        }
    }
}

#[derive(Default)]
struct Counts {
    ok: usize,
    changed: usize,
    failed: usize,
    skipped: usize,
    ignored: usize,
    /// Not run because a task they wait for failed (--keep-going).
    blocked: usize,
    rescued: usize,
    /// Abandoned while they ran: the run was asked to stop.
    interrupted: usize,
}

/// The risks the modules found (data a plan deletes, an update
/// CloudFormation would refuse), per account, for the end of the run.
pub fn warnings(summary: &RunSummary) -> String {
    let mut per: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for record in summary.records.iter().flatten() {
        for warning in &record.warnings {
            per.entry(record.target.clone().unwrap_or_else(|| "localhost".into()))
                .or_default()
                .push(warning);
        }
    }
    if per.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nWARNINGS\n");
    for (target, list) in per {
        out.push_str(&format!("  {target}\n"));
        for warning in list {
            out.push_str(&format!("    - {warning}\n"));
        }
    }
    out
}

/// What a loop's items in one account add up to: the worst of them, as
/// the task's own outcome says a failure was ignored or rescued.
fn combined(task: Status, items: &[Status]) -> Status {
    let any = |s: Status| items.contains(&s);
    if any(Status::Failed) {
        match task {
            Status::Ignored | Status::Rescued => task,
            _ => Status::Failed,
        }
    } else if any(Status::Changed) {
        Status::Changed
    } else if any(Status::Ok) {
        Status::Ok
    } else {
        Status::Skipped
    }
}

/// The recap: per account (target label), then totals and time.
pub fn recap(summary: &RunSummary) -> String {
    let mut per: BTreeMap<String, Counts> = BTreeMap::new();
    let mut total = Counts::default();
    for record in summary.records.iter().flatten() {
        // A blocked task never rendered its options, so its account is
        // unknown: it counts in the total only.
        if record.status == Status::Blocked {
            total.blocked += 1;
            continue;
        }
        // A loop counts once per account its items acted in, as Ansible
        // counts a task once per host.
        let mut groups: BTreeMap<Option<String>, Vec<Status>> = BTreeMap::new();
        for item in &record.items {
            groups
                .entry(item.target.clone())
                .or_default()
                .push(item.status);
        }
        let mut parts: Vec<(Option<String>, Status)> = groups
            .into_iter()
            .map(|(target, statuses)| (target, combined(record.status, &statuses)))
            .collect();
        if parts.is_empty() {
            parts.push((record.target.clone(), record.status));
        }
        for (target, status) in parts {
            let key = target.unwrap_or_else(|| "localhost".into());
            for counts in [per.entry(key).or_default(), &mut total] {
                // As in Ansible's recap, `ok` counts every task that ran
                // without stopping the play: changed and ignored ones too.
                match status {
                    Status::Ok => counts.ok += 1,
                    Status::Changed => {
                        counts.ok += 1;
                        counts.changed += 1;
                    }
                    Status::Failed => counts.failed += 1,
                    Status::Skipped => counts.skipped += 1,
                    Status::Ignored => {
                        counts.ok += 1;
                        counts.ignored += 1;
                    }
                    Status::Rescued => counts.rescued += 1,
                    Status::Interrupted => counts.interrupted += 1,
                    Status::Blocked => {}
                }
            }
        }
    }
    let line = |c: &Counts| {
        let mut line = format!(
            "ok={} changed={} failed={} skipped={} ignored={}",
            c.ok, c.changed, c.failed, c.skipped, c.ignored
        );
        if c.rescued > 0 {
            line.push_str(&format!(" rescued={}", c.rescued));
        }
        if c.blocked > 0 {
            line.push_str(&format!(" blocked={}", c.blocked));
        }
        if c.interrupted > 0 {
            line.push_str(&format!(" interrupted={}", c.interrupted));
        }
        line
    };
    let per: BTreeMap<String, Counts> = per
        .into_iter()
        .map(|(target, counts)| (printable(&target).into_owned(), counts))
        .collect();
    let width = per
        .keys()
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut out = String::from("\nRECAP\n");
    for (target, counts) in &per {
        out.push_str(&format!("  {target:<width$}  {}\n", line(counts)));
    }
    let not_run = summary.not_run();
    out.push_str(&format!("  {:<width$}  {}", "total", line(&total)));
    if not_run > 0 {
        out.push_str(&format!(" not_run={not_run}"));
    }
    out.push_str(&format!("  in {}\n", seconds(summary.elapsed)));
    out
}
