//! Roles: where they are found and what they hold.
//!
//! A role is looked for in `roles/` beside the playbook, then on the roles
//! path (`ANSIBLE_ROLES_PATH`, or `roles_path` in ansible.cfg, or
//! Ansible's default), then beside the playbook, as ansible-playbook does.
//! Its `defaults/`, `vars/`, `meta/` (dependencies) and `tasks/` are read;
//! its `files/` and `templates/` are searched first by lookups and by a
//! relative `template:`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use runbook_yaml::Node;

use super::includes::{RoleCall, RoleEntry};
use super::{Ctx, Loader, MAX_DEPTH};
use crate::model::{RoleRef, VarLayer, VarRank};
use crate::{ErrorKind, Json};

/// The roles path, from the environment or ansible.cfg, as Ansible reads
/// it.
pub(super) fn roles_path(playbook_dir: &Path) -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let expand = |entry: &str| -> PathBuf {
        match (entry.strip_prefix("~/"), &home) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(entry),
        }
    };
    let split = |text: &str| -> Vec<PathBuf> {
        text.split(':')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(expand)
            .collect()
    };
    if let Some(env) = std::env::var_os("ANSIBLE_ROLES_PATH") {
        return split(&env.to_string_lossy());
    }
    if let Some(value) = ansible_cfg(playbook_dir).and_then(|text| cfg_value(&text, "roles_path")) {
        return split(&value);
    }
    split("~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles")
}

/// The text of the ansible.cfg Ansible would read: `ANSIBLE_CONFIG`, then
/// `./ansible.cfg`, `~/.ansible.cfg`, `/etc/ansible/ansible.cfg`.
fn ansible_cfg(_playbook_dir: &Path) -> Option<String> {
    let mut candidates = Vec::new();
    if let Some(path) = std::env::var_os("ANSIBLE_CONFIG") {
        candidates.push(PathBuf::from(path));
    }
    candidates.push(PathBuf::from("ansible.cfg"));
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".ansible.cfg"));
    }
    candidates.push(PathBuf::from("/etc/ansible/ansible.cfg"));
    candidates
        .into_iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
}

/// `key` in the `[defaults]` section of an ini text.
fn cfg_value(text: &str, key: &str) -> Option<String> {
    let mut in_defaults = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_defaults = line == "[defaults]";
            continue;
        }
        if !in_defaults || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            if k.trim() == key {
                return Some(v.trim().to_string());
            }
        }
    }
    None
}

/// `dir/main.yml`, `dir/main.yaml` or `dir/main` (for `name` = `main`).
fn role_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let base = dir.join(name);
    ["yml", "yaml", "json"]
        .iter()
        .map(|ext| base.with_extension(ext))
        .chain([base.clone()])
        .find(|p| p.is_file())
}

impl Loader<'_> {
    /// Where a role is, or every place it was looked for.
    fn find_role(&self, name: &str) -> Result<PathBuf, Vec<PathBuf>> {
        if name.contains('/') {
            let path = self.dir.join(name);
            return if path.is_dir() {
                Ok(path)
            } else {
                Err(vec![path])
            };
        }
        let mut looked = vec![self.dir.join("roles").join(name)];
        looked.extend(self.roles_path.iter().map(|p| p.join(name)));
        looked.push(self.dir.join(name));
        match looked.iter().find(|p| p.is_dir()) {
            Some(found) => Ok(found.clone()),
            None => Err(looked),
        }
    }

    /// Loads a role's dependencies and tasks in `ctx`.
    pub(super) fn role(
        &mut self,
        call: RoleCall,
        ctx: &Ctx,
        play_vars: &Arc<IndexMap<String, Json>>,
    ) {
        let at = call.at.clone();
        if call.name.contains('.') && !call.name.contains('/') && call.name.split('.').count() == 3
        {
            self.error(
                ErrorKind::Unsupported,
                at,
                format!(
                    "role `{}` is in a collection, which runbook does not read",
                    call.name
                ),
            )
            .help = Some("put the role in roles/ beside the playbook or on the roles path".into());
            return;
        }
        let dir = match self.find_role(&call.name) {
            Ok(dir) => dir,
            Err(looked) => {
                self.error(
                    ErrorKind::Io,
                    at,
                    format!(
                        "role `{}` not found (looked in {})",
                        call.name,
                        looked
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .help = Some("roles are found in roles/ beside the playbook, on ANSIBLE_ROLES_PATH or ansible.cfg's roles_path".into());
                return;
            }
        };
        if ctx.depth >= MAX_DEPTH || self.files.contains(&dir) {
            self.error(
                ErrorKind::Cycle,
                at,
                format!("role `{}` depends on itself", call.name),
            );
            return;
        }
        let meta = role_file(&dir.join("meta"), "main").and_then(|path| {
            Some((
                self.read_yaml(&path, Some(at.clone()), "role meta file")?,
                path,
            ))
        });
        if call.dedupe {
            let duplicates = meta
                .as_ref()
                .and_then(|(node, _)| node.get("allow_duplicates"))
                .and_then(Node::as_bool)
                .unwrap_or(false);
            let key = (
                ctx.play,
                dir.clone(),
                Json::Object(call.params.clone().into_iter().collect()).to_string(),
            );
            if !duplicates && !self.roles_seen.insert(key) {
                return;
            }
        }
        self.files.push(dir.clone());
        let mut outer = ctx.clone();
        outer.depth += 1;

        // Dependencies run first, with the caller's tags and conditions.
        if let Some((node, path)) = &meta {
            self.dependencies(node, path, &outer, play_vars);
        }

        let mut inner = outer.clone();
        let role = Arc::new(RoleRef {
            name: call.name.clone(),
            dir: dir.clone(),
        });
        inner.role = Some(role);
        inner.search = Arc::new(vec![dir.clone(), self.dir.clone()]);
        inner.base = dir.join("tasks");
        for (sub, from, rank) in [
            ("defaults", &call.defaults_from, VarRank::RoleDefaults),
            ("vars", &call.vars_from, VarRank::RoleVars),
        ] {
            let name = from.as_deref().unwrap_or("main");
            match role_file(&dir.join(sub), name) {
                Some(path) => {
                    let mut vars = IndexMap::new();
                    let mut locations = IndexMap::new();
                    self.vars_file(&path, Some(at.clone()), &mut vars, &mut locations);
                    let layer = VarLayer {
                        rank,
                        vars: Arc::new(vars),
                        locations: Arc::new(locations),
                    };
                    if call.public {
                        self.exported.push(layer.clone());
                    }
                    inner.layers.push(layer);
                }
                None if from.is_some() => {
                    self.error(
                        ErrorKind::Io,
                        at.clone(),
                        format!("role `{}` has no {sub}/{name}.yml", call.name),
                    );
                }
                None => {}
            }
        }
        if !call.params.is_empty() {
            inner.layers.push(VarLayer {
                rank: VarRank::RoleParams,
                vars: Arc::new(call.params.clone()),
                locations: Arc::new(call.param_locations.clone()),
            });
        }
        let tasks = call.tasks_from.as_deref().unwrap_or("main");
        match role_file(&dir.join("tasks"), tasks) {
            Some(path) => {
                if let Some(node) = self.read_yaml(&path, Some(at.clone()), "role task file") {
                    inner.file = Arc::new(path);
                    self.task_list(&node, &inner, play_vars, "the role's tasks");
                }
            }
            None if call.tasks_from.is_some() => {
                self.error(
                    ErrorKind::Io,
                    at,
                    format!("role `{}` has no tasks/{tasks}.yml", call.name),
                );
            }
            None => {}
        }
        self.files.pop();
    }

    /// `dependencies:` of a role's meta/main.yml.
    fn dependencies(
        &mut self,
        meta: &Node,
        path: &Path,
        ctx: &Ctx,
        play_vars: &Arc<IndexMap<String, Json>>,
    ) {
        let file = Arc::new(path.to_path_buf());
        let Some(deps) = meta.get("dependencies") else {
            return;
        };
        let Some(items) = deps.as_seq() else {
            if !deps.is_null() {
                self.schema(
                    Self::loc(&file, deps.span),
                    format!("`dependencies` must be a list, found {}", deps.kind()),
                );
            }
            return;
        };
        for item in items {
            let mut inner = ctx.clone();
            let Some(call) = self.role_entry(&file, item, &mut inner, RoleEntry::Dependency) else {
                continue;
            };
            self.role(call, &inner, play_vars);
        }
    }
}
