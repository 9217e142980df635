//! The graph as DOT, Mermaid, JSON or waves of text.

use std::fmt::Write;

use runbook_module::printable;
use runbook_playbook::{Playbook, Task};
use serde_json::json;

use runbook_module::AccountKey;

use crate::place::{Accounts, Where};
use crate::{Reduction, TaskGraph, TaskId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Dot,
    Mermaid,
    Json,
    Text,
}

/// How to render the graph: a format, and for the drawn ones (dot,
/// mermaid, text) whether to show every edge or only the transitive
/// reduction. JSON always holds every edge, marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderOptions {
    pub format: Format,
    pub all_edges: bool,
}

impl From<Format> for RenderOptions {
    fn from(format: Format) -> Self {
        RenderOptions {
            format,
            all_edges: false,
        }
    }
}

/// One arrow of a drawing.
struct Arrow {
    from: TaskId,
    to: TaskId,
    label: String,
    /// Another path already orders the pair (drawn only with all edges).
    implied: bool,
}

impl TaskGraph {
    pub fn render(&self, playbook: &Playbook, options: impl Into<RenderOptions>) -> String {
        let RenderOptions { format, all_edges } = options.into();
        match format {
            Format::Dot => self.dot(playbook, all_edges),
            Format::Mermaid => self.mermaid(playbook, all_edges),
            Format::Json => self.json(playbook),
            Format::Text => self.text(playbook, all_edges),
        }
    }

    /// The arrows to draw: each kept pair once, labelled with all its
    /// reasons; or every edge, with those the reduction drops marked.
    fn arrows(&self, all_edges: bool) -> Vec<Arrow> {
        let reduction = self.reduction();
        let mut arrows: Vec<Arrow> = Vec::new();
        for (from, to, reason) in self.edges() {
            let implied = !reduction.contains(from, to);
            if all_edges {
                arrows.push(Arrow {
                    from,
                    to,
                    label: reason.to_string(),
                    implied,
                });
            } else if !implied {
                // Edges come sorted by pair: a pair's reasons are adjacent.
                match arrows.last_mut() {
                    Some(last) if (last.from, last.to) == (from, to) => {
                        last.label.push_str(", ");
                        last.label.push_str(&reason.to_string());
                    }
                    _ => arrows.push(Arrow {
                        from,
                        to,
                        label: reason.to_string(),
                        implied,
                    }),
                }
            }
        }
        arrows
    }

    /// One cluster per account some task acts in alone, with its tasks in
    /// file order; and the tasks drawn outside any cluster.
    fn clusters<'a>(
        &self,
        accounts: &'a Accounts,
    ) -> (Vec<(&'a AccountKey, Vec<TaskId>)>, Vec<TaskId>) {
        let mut clusters = vec![Vec::new(); accounts.keys.len()];
        let mut outside = Vec::new();
        for task in 0..self.len() {
            match self.where_of(task) {
                Where::Account(key) => match accounts.index(&key) {
                    Some(i) => clusters[i].push(task),
                    None => outside.push(task),
                },
                // Local tasks, loops over several accounts and accounts
                // known only at run time belong to no one account.
                Where::Local | Where::Several(_) | Where::Later => outside.push(task),
            }
        }
        // An account only a loop over several accounts acts in gets no
        // (empty) cluster.
        let clusters = accounts
            .keys
            .iter()
            .zip(clusters)
            .filter(|(_, tasks)| !tasks.is_empty())
            .collect();
        (clusters, outside)
    }

    /// The tasks `task` waits for, in file order: all of them, or only
    /// those of the reduction.
    fn drawn_dependencies(
        &self,
        task: TaskId,
        all_edges: bool,
        reduction: &Reduction,
    ) -> Vec<TaskId> {
        let mut deps = self.dependencies(task);
        if !all_edges {
            deps.retain(|&d| reduction.contains(d, task));
        }
        deps
    }

    /// A node's lines: the name (with its loop), then where it acts.
    fn node_lines(&self, task: &Task, accounts: &Accounts) -> Vec<String> {
        let mut lines = vec![self.label(task)];
        lines.extend(self.place_line(task.id, accounts));
        lines
    }

    fn dot(&self, playbook: &Playbook, all_edges: bool) -> String {
        // newrank: without it Graphviz ranks each cluster on its own and
        // edges between accounts no longer point down.
        let mut out = String::from(
            "digraph runbook {\n  rankdir=TB;\n  newrank=true;\n  node [shape=box];\n",
        );
        let accounts = self.accounts();
        let node = |out: &mut String, indent: &str, task: &Task| {
            let lines: Vec<String> = self
                .node_lines(task, &accounts)
                .iter()
                .map(|l| dot_text(l))
                .collect();
            // `\n` between lines: a dot line break, which no escaped name
            // can contain.
            let _ = writeln!(
                out,
                "{indent}t{} [label=\"{}\"];",
                task.id,
                lines.join("\\n")
            );
        };
        let (clusters, outside) = self.clusters(&accounts);
        for (i, (key, tasks)) in clusters.iter().enumerate() {
            let _ = writeln!(out, "  subgraph cluster_{i} {{");
            let _ = writeln!(out, "    label=\"{}\";", dot_text(&key.to_string()));
            for &t in tasks {
                node(&mut out, "    ", &playbook.tasks[t]);
            }
            out.push_str("  }\n");
        }
        for &t in &outside {
            node(&mut out, "  ", &playbook.tasks[t]);
        }
        for arrow in self.arrows(all_edges) {
            let style = if arrow.implied { ", style=dashed" } else { "" };
            let _ = writeln!(
                out,
                "  t{} -> t{} [label=\"{}\"{style}];",
                arrow.from,
                arrow.to,
                dot_text(&arrow.label)
            );
        }
        out.push_str("}\n");
        out
    }

    fn mermaid(&self, playbook: &Playbook, all_edges: bool) -> String {
        let mut out = String::from("flowchart TD\n");
        let accounts = self.accounts();
        let node = |out: &mut String, indent: &str, task: &Task| {
            let lines: Vec<String> = self
                .node_lines(task, &accounts)
                .iter()
                .map(|l| mermaid_text(l))
                .collect();
            let _ = writeln!(out, "{indent}t{}[\"{}\"]", task.id, lines.join("<br/>"));
        };
        let (clusters, outside) = self.clusters(&accounts);
        for (i, (key, tasks)) in clusters.iter().enumerate() {
            let _ = writeln!(
                out,
                "  subgraph a{i}[\"{}\"]",
                mermaid_text(&key.to_string())
            );
            for &t in tasks {
                node(&mut out, "    ", &playbook.tasks[t]);
            }
            out.push_str("  end\n");
        }
        for &t in &outside {
            node(&mut out, "  ", &playbook.tasks[t]);
        }
        for arrow in self.arrows(all_edges) {
            let link = if arrow.implied { "-.->" } else { "-->" };
            let _ = writeln!(
                out,
                "  t{} {link}|\"{}\"| t{}",
                arrow.from,
                mermaid_text(&arrow.label),
                arrow.to
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
                let (accounts, later) = match self.where_of(t.id) {
                    Where::Local => (Vec::new(), false),
                    Where::Account(key) => (vec![key], false),
                    Where::Several(keys) => (keys, false),
                    Where::Later => (Vec::new(), true),
                };
                node["accounts"] = accounts
                    .iter()
                    .map(|k| {
                        json!({"profile": k.profile, "region": k.region, "endpoint_url": k.endpoint_url})
                    })
                    .collect();
                if later {
                    node["account_known_at_run_time"] = json!(true);
                }
                node["owns"] = self
                    .owned_by(t.id)
                    .iter()
                    .map(|o| json!({"kind": o.kind, "name": o.name}))
                    .collect();
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
        // Every edge, so tools lose no reason: those the drawings leave
        // out are `implied`, with the tasks of a path that implies them.
        let reduction = self.reduction();
        let edges: Vec<_> = self
            .edges()
            .into_iter()
            .map(|(from, to, reason)| {
                let mut edge = json!({"from": from, "to": to, "reason": reason.to_string()});
                match reduction.through(from, to) {
                    Some(through) => {
                        edge["implied"] = json!(true);
                        edge["through"] = json!(through);
                    }
                    None => edge["implied"] = json!(false),
                }
                edge
            })
            .collect();
        let mut text = json!({"nodes": nodes, "edges": edges}).to_string();
        text.push('\n');
        text
    }

    fn text(&self, playbook: &Playbook, all_edges: bool) -> String {
        let mut out = String::new();
        let reduction = self.reduction();
        let accounts = self.accounts();
        for (i, wave) in self.waves().iter().enumerate() {
            let _ = writeln!(out, "wave {}:", i + 1);
            for &id in wave {
                let task = &playbook.tasks[id];
                let waits: Vec<String> = self
                    .drawn_dependencies(id, all_edges, &reduction)
                    .into_iter()
                    .map(|d| format!("`{}`", printable(&playbook.tasks[d].display_name())))
                    .collect();
                let mut module = task.module.spec().short.to_string();
                if let Some(place) = self.place_line(id, &accounts) {
                    module.push(' ');
                    module.push_str(&visible(&place));
                }
                let _ = write!(out, "  - {} [{module}]", self.label(task));
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

/// `text` with unprintable characters escaped (`\n`, `\x1b`, `\u{202e}`):
/// a name's newline shown as a line break could pass for the line runbook
/// adds under it (`stack @ account`).
fn visible(text: &str) -> String {
    printable(text).into_owned()
}

/// Text for inside a DOT double-quoted string (an escString): quotes and
/// backslashes escaped, so no name can end the string or use Graphviz's
/// own escapes (`\N`, `\l`); unprintable characters shown as escapes.
fn dot_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in visible(text).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

/// Text for inside a Mermaid double-quoted label. Mermaid has no
/// backslash escapes but entity codes (`#quot;`, `#35;`); it reads `<...>`
/// as HTML, `&...;` and `#...;` as entities, a literal `\n` as a line
/// break and a label in backticks as Markdown, so each of those
/// characters is written as its code, and so are the few that end a
/// statement outside a string, should a renderer look there.
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in visible(text).chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\\' => out.push_str("#92;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            // `%%` starts a comment, `;` ends a statement.
            '%' => out.push_str("#37;"),
            ';' => out.push_str("#59;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_text_cannot_leave_its_string() {
        assert_eq!(dot_text(r#"a "b" \N c"#), r#"a \"b\" \\N c"#);
        assert_eq!(dot_text("x\ny\u{1b}[2K\u{202e}"), r"x\\ny\\x1b[2K\\u{202e}");
        assert_eq!(dot_text("<b>&{|}"), "<b>&{|}");
    }

    #[test]
    fn mermaid_text_is_inert() {
        assert_eq!(
            mermaid_text(r#"a "b" <br/> #quot; &amp; `x` | \n"#),
            "a #quot;b#quot; #lt;br/#gt; #35;quot#59; #amp;amp#59; #96;x#96; #124; #92;n"
        );
        assert_eq!(mermaid_text("x\ny\u{7}"), "x#92;ny#92;x07");
        assert_eq!(
            mermaid_text("[a] (b) {c} %% ;"),
            "[a] (b) {c} #37;#37; #59;"
        );
    }

    #[test]
    fn visible_escapes_only_what_must_not_print() {
        assert_eq!(visible("plain – ok ✓"), "plain – ok ✓");
        assert_eq!(visible("a\r\n\t\0\u{7f}\u{2028}"), r"a\r\n\t\0\x7f\u{2028}");
    }
}
