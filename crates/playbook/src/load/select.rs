//! `--tags`, `--skip-tags` and `--start-at-task`, as ansible-playbook
//! selects tasks (`Taggable.evaluate_tags`).

use std::collections::{BTreeSet, HashMap};

use super::SelectionInfo;
use crate::model::{Deselected, Playbook};
use crate::{ErrorKind, PlaybookError};

/// Which tasks run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--tags`: empty means `all`.
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub start_at_task: Option<String>,
}

impl Selection {
    /// Whether a task with these (effective) tags runs, and if not why.
    pub fn evaluate(&self, tags: &[String]) -> Result<(), String> {
        let only: BTreeSet<&str> = if self.tags.is_empty() {
            ["all"].into()
        } else {
            self.tags.iter().map(String::as_str).collect()
        };
        let skip: BTreeSet<&str> = self.skip_tags.iter().map(String::as_str).collect();
        let untagged = tags.is_empty();
        let tags: BTreeSet<&str> = if untagged {
            ["untagged"].into()
        } else {
            tags.iter().map(String::as_str).collect()
        };
        let listed = |set: &BTreeSet<&str>| set.iter().copied().collect::<Vec<_>>().join(",");
        let run = tags.contains("always")
            || (only.contains("all") && !tags.contains("never"))
            || !tags.is_disjoint(&only)
            || (only.contains("tagged") && !untagged && !tags.contains("never"));
        if !run {
            return Err(if tags.contains("never") {
                format!("tagged `never` and not named in --tags {}", listed(&only))
            } else {
                format!(
                    "its tags ({}) are not in --tags {}",
                    listed(&tags),
                    listed(&only)
                )
            });
        }
        let skipped = if skip.contains("all") {
            !tags.contains("always") || skip.contains("always")
        } else {
            !tags.is_disjoint(&skip) || (skip.contains("tagged") && !untagged)
        };
        if skipped {
            return Err(format!(
                "its tags ({}) are in --skip-tags {}",
                listed(&tags),
                listed(&skip)
            ));
        }
        Ok(())
    }
}

/// Drops the tasks `selection` leaves out, renumbering the rest.
pub(super) fn apply(
    playbook: &mut Playbook,
    info: &[SelectionInfo],
    selection: &Selection,
) -> Result<(), Vec<PlaybookError>> {
    let mut reasons: Vec<Option<String>> = playbook
        .tasks
        .iter()
        .zip(info)
        .map(|(task, info)| {
            // Each enclosing include must be selected by its own tags.
            for gate in &info.gates {
                if let Err(why) = selection.evaluate(gate) {
                    return Some(format!("the include it is in is not selected: {why}"));
                }
            }
            selection.evaluate(&task.tags).err()
        })
        .collect();
    if let Some(start) = &selection.start_at_task {
        let first = playbook.tasks.iter().position(|t| {
            t.name.as_deref() == Some(start.as_str())
                || t.role
                    .as_ref()
                    .is_some_and(|r| format!("{} : {}", r.name, t.display_name()) == *start)
        });
        match first {
            Some(first) => {
                for reason in reasons.iter_mut().take(first) {
                    reason.get_or_insert_with(|| "before --start-at-task".to_string());
                }
            }
            None => {
                return Err(vec![PlaybookError::new(
                    ErrorKind::Schema,
                    format!("--start-at-task `{start}` names no task of the playbook"),
                )
                .help(
                    "give a task's name as written (`role : name` for a role's task)",
                )]);
            }
        }
    }
    if reasons.iter().all(Option::is_none) {
        return Ok(());
    }
    let mut renumber: HashMap<usize, usize> = HashMap::new();
    let mut kept = Vec::new();
    for (task, reason) in std::mem::take(&mut playbook.tasks).into_iter().zip(reasons) {
        match reason {
            None => {
                renumber.insert(task.id, kept.len());
                let mut task = task;
                task.id = kept.len();
                kept.push(task);
            }
            Some(reason) => playbook.deselected.push(Deselected {
                name: task.display_name(),
                location: task.location.clone(),
                register: task.register.clone(),
                sets: task.module.sets_vars(&task.args),
                reason,
            }),
        }
    }
    playbook.tasks = kept;
    let map = |ids: &mut Vec<usize>| {
        *ids = ids
            .iter()
            .filter_map(|id| renumber.get(id).copied())
            .collect();
    };
    for play in &mut playbook.plays {
        map(&mut play.tasks);
    }
    for block in &mut playbook.blocks {
        for section in &mut block.tasks {
            map(section);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(tags: &[&str], skip: &[&str]) -> Selection {
        Selection {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            skip_tags: skip.iter().map(|t| t.to_string()).collect(),
            start_at_task: None,
        }
    }

    fn runs(selection: &Selection, tags: &[&str]) -> bool {
        let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        selection.evaluate(&tags).is_ok()
    }

    #[test]
    fn ansible_tag_rules() {
        let all = sel(&[], &[]);
        assert!(runs(&all, &[]));
        assert!(runs(&all, &["x"]));
        assert!(!runs(&all, &["never"]));
        assert!(runs(&all, &["always"]));
        let x = sel(&["x"], &[]);
        assert!(runs(&x, &["x", "y"]));
        assert!(!runs(&x, &["y"]));
        assert!(!runs(&x, &[]));
        assert!(runs(&x, &["always"]));
        assert!(runs(&sel(&["never"], &[]), &["never"]));
        assert!(runs(&sel(&["tagged"], &[]), &["y"]));
        assert!(!runs(&sel(&["tagged"], &[]), &[]));
        assert!(runs(&sel(&["untagged"], &[]), &[]));
        let skip = sel(&[], &["x"]);
        assert!(!runs(&skip, &["x"]));
        assert!(runs(&skip, &["always"]));
        assert!(!runs(&sel(&[], &["always"]), &["always"]));
        assert!(runs(&sel(&[], &["all"]), &["always"]));
        assert!(!runs(&sel(&[], &["all"]), &["x"]));
    }
}
