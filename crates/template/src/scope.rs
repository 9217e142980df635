use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, Value};

use crate::engine::{enter, Engine};
use crate::error::{Nesting, Origin};
use crate::{Json, TemplateError};

/// One source of variables (extra vars, facts, task vars, play vars, ...).
#[derive(Debug, Clone, Default)]
pub struct Layer {
    pub vars: Arc<IndexMap<String, Json>>,
    /// Whether values may hold templates, rendered when a variable is read.
    /// Facts and registered results are already concrete.
    pub templated: bool,
}

impl Layer {
    pub fn templated(vars: IndexMap<String, Json>) -> Self {
        Layer {
            vars: Arc::new(vars),
            templated: true,
        }
    }

    /// A layer over variables already shared (extra vars, play vars), so
    /// building a task's scope copies nothing.
    pub fn shared(vars: Arc<IndexMap<String, Json>>, templated: bool) -> Self {
        Layer { vars, templated }
    }

    pub fn concrete(vars: IndexMap<String, Json>) -> Self {
        Layer {
            vars: Arc::new(vars),
            templated: false,
        }
    }
}

/// Variables in precedence order: the first layer that has a name wins.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    layers: Vec<Layer>,
    /// Where `lookup('file')` and `lookup('template')` look for relative
    /// paths, in order (a role's directory, then the playbook's); the
    /// engine's base directory when empty.
    search: Arc<Vec<std::path::PathBuf>>,
}

impl Scope {
    pub fn new() -> Self {
        Scope::default()
    }

    /// Sets where lookups find relative files: each directory's `files/`
    /// (or `templates/`) and then the directory itself, as Ansible does.
    pub fn set_search(&mut self, dirs: Arc<Vec<std::path::PathBuf>>) -> &mut Self {
        self.search = dirs;
        self
    }

    pub fn search(&self) -> &[std::path::PathBuf] {
        &self.search
    }

    /// Adds a layer below every layer already present.
    pub fn push_lower(&mut self, layer: Layer) -> &mut Self {
        self.layers.push(layer);
        self
    }

    /// Adds a layer above every layer already present.
    pub fn push_higher(&mut self, layer: Layer) -> &mut Self {
        self.layers.insert(0, layer);
        self
    }

    pub fn find(&self, name: &str) -> Option<(&Json, bool)> {
        self.layers
            .iter()
            .find_map(|l| l.vars.get(name).map(|v| (v, l.templated)))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.layers.iter().flat_map(|l| l.vars.keys())
    }
}

/// The root context of one render: resolves names through the scope,
/// templating lazy values on first read and caching them for the render.
#[derive(Debug)]
pub(crate) struct LazyContext {
    pub(crate) engine: Engine,
    pub(crate) scope: Scope,
    resolving: Mutex<Vec<String>>,
    cache: Mutex<HashMap<String, Value>>,
    /// An error met while resolving a lazy variable. `get_value` cannot
    /// return errors, so it is kept here and preferred over the generic
    /// "undefined" error that minijinja then raises.
    pub(crate) failure: Mutex<Option<TemplateError>>,
}

impl LazyContext {
    pub(crate) fn new(engine: Engine, scope: Scope) -> Arc<Self> {
        Arc::new(LazyContext {
            engine,
            scope,
            resolving: Mutex::new(Vec::new()),
            cache: Mutex::new(HashMap::new()),
            failure: Mutex::new(None),
        })
    }

    pub(crate) fn has_failure(&self) -> bool {
        self.failure.lock().map(|f| f.is_some()).unwrap_or(false)
    }

    pub(crate) fn take_failure(&self) -> Option<TemplateError> {
        self.failure.lock().ok().and_then(|mut f| f.take())
    }

    pub(crate) fn record(&self, err: TemplateError) {
        if let Ok(mut failure) = self.failure.lock() {
            failure.get_or_insert(err);
        }
    }

    pub(crate) fn resolve(self: &Arc<Self>, name: &str) -> Option<Value> {
        if let Some(hit) = self.cache.lock().ok()?.get(name) {
            return Some(hit.clone());
        }
        let (raw, templated) = self.scope.find(name)?;
        let value = if templated {
            {
                let mut resolving = self.resolving.lock().ok()?;
                if resolving.iter().any(|n| n == name) {
                    let mut chain = resolving.clone();
                    chain.push(name.to_string());
                    drop(resolving);
                    self.record(TemplateError::Recursive {
                        name: name.to_string(),
                        chain,
                    });
                    return None;
                }
                resolving.push(name.to_string());
            }
            let rendered = enter(Nesting::Variables, name).and_then(|_nested| {
                self.engine
                    .render_json_in(raw, self, &Origin::Variable(name.to_string()))
            });
            if let Ok(mut resolving) = self.resolving.lock() {
                resolving.pop();
            }
            match rendered {
                Ok(json) => crate::value_of(&json),
                Err(err) => {
                    self.record(err);
                    return None;
                }
            }
        } else {
            crate::value_of(raw)
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(name.to_string(), value.clone());
        }
        Some(value)
    }
}

impl Object for LazyContext {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.resolve(key.as_str()?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut names: Vec<Value> = Vec::new();
        for name in self.scope.names() {
            let value = Value::from(name.as_str());
            if !names.contains(&value) {
                names.push(value);
            }
        }
        Enumerator::Values(names)
    }
}
