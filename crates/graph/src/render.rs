//! The graph as DOT, Mermaid, JSON or waves of text.

use std::fmt::Write;

use runbook_module::printable;
use runbook_playbook::{Playbook, Task};
use serde_json::json;

use crate::TaskGraph;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Dot,
    Mermaid,
    Json,
    Text,
}

impl TaskGraph {
    pub fn render(&self, playbook: &Playbook, format: Format) -> String {
        match format {
            Format::Dot => self.dot(playbook),
            Format::Mermaid => self.mermaid(playbook),
            Format::Json => self.json(playbook),
            Format::Text => self.text(playbook),
        }
    }

    fn dot(&self, playbook: &Playbook) -> String {
        let mut out = String::from("digraph runbook {\n  rankdir=TB;\n  node [shape=box];\n");
        for task in &playbook.tasks {
            let _ = writeln!(
                out,
                "  t{} [label={}];",
                task.id,
                dot_string(&self.label(task))
            );
        }
        for (from, to, reason) in self.edges() {
            let _ = writeln!(
                out,
                "  t{from} -> t{to} [label={}];",
                dot_string(&reason.to_string())
            );
        }
        out.push_str("}\n");
        out
    }

    fn mermaid(&self, playbook: &Playbook) -> String {
        let mut out = String::from("flowchart TD\n");
        for task in &playbook.tasks {
            let _ = writeln!(
                out,
                "  t{}[\"{}\"]",
                task.id,
                mermaid_text(&self.label(task))
            );
        }
        for (from, to, reason) in self.edges() {
            let _ = writeln!(
                out,
                "  t{from} -->|\"{}\"| t{to}",
                mermaid_text(&reason.to_string())
            );
        }
        out
    }

    fn json(&self, playbook: &Playbook) -> String {
        let nodes: Vec<_> = playbook
            .tasks
            .iter()
            .map(|t| {
                let mut node =
                    json!({"id": t.id, "name": t.display_name(), "module": t.module.spec().fqcn});
                if t.loop_.is_some() {
                    let facts = &self.facts[t.id];
                    node["loop"] = if facts.expands_at_run_time {
                        json!({"expands_at_run_time": true})
                    } else {
                        json!({"items": facts.items.len()})
                    };
                }
                node
            })
            .collect();
        let edges: Vec<_> = self
            .edges()
            .into_iter()
            .map(|(from, to, reason)| json!({"from": from, "to": to, "reason": reason.to_string()}))
            .collect();
        let mut text = json!({"nodes": nodes, "edges": edges}).to_string();
        text.push('\n');
        text
    }

    fn text(&self, playbook: &Playbook) -> String {
        let mut out = String::new();
        for (i, wave) in self.waves().iter().enumerate() {
            let _ = writeln!(out, "wave {}:", i + 1);
            for &id in wave {
                let task = &playbook.tasks[id];
                let waits: Vec<String> = self
                    .dependencies(id)
                    .into_iter()
                    .map(|d| format!("`{}`", printable(&playbook.tasks[d].display_name())))
                    .collect();
                let _ = write!(
                    out,
                    "  - {} [{}]",
                    self.label(task),
                    task.module.spec().short
                );
                if !waits.is_empty() {
                    let _ = write!(out, " after {}", waits.join(", "));
                }
                out.push('\n');
            }
        }
        out
    }
}

impl TaskGraph {
    /// A task's name (made printable: it is shown on terminals), and
    /// what its loop expands to.
    fn label(&self, task: &Task) -> String {
        let name = printable(&task.display_name()).into_owned();
        if task.loop_.is_none() {
            return name;
        }
        let facts = &self.facts[task.id];
        if facts.expands_at_run_time {
            format!("{name} (loop: expands at run time)")
        } else {
            let n = facts.items.len();
            format!("{name} (loop: {n} item{})", if n == 1 { "" } else { "s" })
        }
    }
}

fn dot_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
}
