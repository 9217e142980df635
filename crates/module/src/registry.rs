//! Names to modules: FQCN, short name and the `ansible.legacy.` prefix.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::{Module, ModuleSpec};

/// A shared handle on a registered module; cloning is a reference count.
#[derive(Clone)]
pub struct ModuleRef(Arc<dyn Module>);

impl ModuleRef {
    pub fn new(module: impl Module) -> Self {
        ModuleRef(Arc::new(module))
    }

    pub fn spec(&self) -> &'static ModuleSpec {
        self.0.spec()
    }
}

impl Deref for ModuleRef {
    type Target = dyn Module;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for ModuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.spec().fqcn)
    }
}

/// The modules a run knows, and the upstream modules it knowingly refuses.
#[derive(Clone, Default)]
pub struct Registry {
    modules: Vec<ModuleRef>,
    refused: Vec<&'static str>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.modules.iter().map(|m| m.spec().fqcn))
            .finish()
    }
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    /// Adds a module. Two modules answering to one name is a programming
    /// error, caught by the registry's own tests.
    pub fn register(mut self, module: impl Module) -> Self {
        let module = ModuleRef::new(module);
        debug_assert!(
            self.find(module.spec().fqcn).is_none() && self.find(module.spec().short).is_none(),
            "module {} registered twice",
            module.spec().fqcn
        );
        self.modules.push(module);
        self
    }

    /// Upstream modules people reach for that runbook does not run: using
    /// one says so, instead of "unknown module".
    pub fn refuse(mut self, names: &[&'static str]) -> Self {
        self.refused.extend_from_slice(names);
        self
    }

    /// Finds a module by FQCN, short name, or the `ansible.legacy.` prefix.
    pub fn find(&self, name: &str) -> Option<&ModuleRef> {
        let name = name.strip_prefix("ansible.legacy.").unwrap_or(name);
        self.modules
            .iter()
            .find(|m| m.spec().fqcn == name || m.spec().short == name)
    }

    /// Whether `name` (short or qualified) is an upstream module runbook
    /// knowingly does not run.
    pub fn is_refused(&self, name: &str) -> bool {
        self.refused
            .iter()
            .any(|m| name == *m || name.ends_with(&format!(".{m}")))
    }

    /// The modules of a `module_defaults` group (`aws` for `group/aws`).
    pub fn group<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a ModuleRef> + 'a {
        self.modules
            .iter()
            .filter(move |m| m.spec().in_group(group))
    }

    pub fn modules(&self) -> impl Iterator<Item = &ModuleRef> {
        self.modules.iter()
    }

    /// Every name a module answers to, for "did you mean".
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.modules
            .iter()
            .flat_map(|m| [m.spec().fqcn, m.spec().short])
    }

    /// The modules' full names, for help lines.
    pub fn fqcn_list(&self) -> String {
        self.modules
            .iter()
            .map(|m| m.spec().fqcn)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
