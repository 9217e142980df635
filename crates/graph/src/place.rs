//! Where each task acts and what it manages, for drawing: from the facts
//! its module worked out (per loop item), never from the module's name.

use std::collections::BTreeMap;

use runbook_module::{AccountKey, Owned, Placement};

use crate::{TaskGraph, TaskId};

/// Where a task acts, over all its loop items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Where {
    /// On this machine (set_fact, debug), or a loop over nothing.
    Local,
    /// In one account.
    Account(AccountKey),
    /// Its items act in several accounts.
    Several(Vec<AccountKey>),
    /// In an account known only once other tasks have run.
    Later,
}

impl TaskGraph {
    pub(crate) fn where_of(&self, task: TaskId) -> Where {
        let mut keys: Vec<AccountKey> = Vec::new();
        for item in &self.facts[task].items {
            match &item.placement {
                Placement::Local => {}
                Placement::Later => return Where::Later,
                Placement::Account(key) => {
                    if !keys.contains(key) {
                        keys.push(key.clone());
                    }
                }
            }
        }
        match keys.len() {
            0 => Where::Local,
            1 => Where::Account(keys.remove(0)),
            _ => Where::Several(keys),
        }
    }

    /// What a task manages, over its items, without repeats, in order.
    pub(crate) fn owned_by(&self, task: TaskId) -> Vec<&Owned> {
        let mut out: Vec<&Owned> = Vec::new();
        for owned in self.facts[task].items.iter().flat_map(|f| f.owns.iter()) {
            if !out.contains(&owned) {
                out.push(owned);
            }
        }
        out
    }

    /// The accounts tasks act in (one each), in the order of the first
    /// task in each, with a short name for labels.
    pub(crate) fn accounts(&self) -> Accounts {
        let mut keys: Vec<AccountKey> = Vec::new();
        for task in 0..self.len() {
            let found = match self.where_of(task) {
                Where::Account(key) => vec![key],
                Where::Several(keys) => keys,
                Where::Local | Where::Later => Vec::new(),
            };
            for key in found {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        Accounts::new(keys)
    }

    /// The line under a task's name in drawings: what it manages and
    /// where, as `cicd-kms-key @ cicd`; `None` for a local task that
    /// manages nothing.
    pub(crate) fn place_line(&self, task: TaskId, accounts: &Accounts) -> Option<String> {
        const SHOWN: usize = 3;
        let owned = self.owned_by(task);
        let mut names: Vec<&str> = owned.iter().take(SHOWN).map(|o| o.name.as_str()).collect();
        let more = owned.len().saturating_sub(SHOWN);
        let more = format!("+{more} more");
        if owned.len() > SHOWN {
            names.push(&more);
        }
        let what = names.join(", ");
        let at = match self.where_of(task) {
            Where::Local if what.is_empty() => return None,
            Where::Local => return Some(what),
            Where::Account(key) => accounts.short(&key).to_string(),
            Where::Several(keys) if keys.len() <= SHOWN => keys
                .iter()
                .map(|k| accounts.short(k))
                .collect::<Vec<_>>()
                .join(", "),
            Where::Several(keys) => format!("{} accounts", keys.len()),
            Where::Later => "account known at run time".to_string(),
        };
        Some(if what.is_empty() {
            format!("@ {at}")
        } else {
            format!("{what} @ {at}")
        })
    }
}

/// The accounts of a playbook, each with the shortest name that tells it
/// from the others: its profile, then with the region, then the endpoint.
#[derive(Debug, Clone, Default)]
pub(crate) struct Accounts {
    pub keys: Vec<AccountKey>,
    short: BTreeMap<AccountKey, String>,
}

impl Accounts {
    fn new(keys: Vec<AccountKey>) -> Self {
        let forms: [fn(&AccountKey) -> String; 3] = [
            |k| profile(k).to_string(),
            |k| format!("{} {}", profile(k), k.region.as_deref().unwrap_or("-")),
            |k| {
                format!(
                    "{} {} {}",
                    profile(k),
                    k.region.as_deref().unwrap_or("-"),
                    k.endpoint_url.as_deref().unwrap_or("-")
                )
            },
        ];
        let mut short = BTreeMap::new();
        for key in &keys {
            // The first form no other account shares; the full key
            // differs from every other by construction.
            let name = forms
                .iter()
                .map(|form| form(key))
                .find(|name| {
                    keys.iter()
                        .filter(|other| *other != key)
                        .all(|other| forms.iter().all(|f| f(other) != *name))
                })
                .unwrap_or_else(|| forms[2](key));
            short.insert(key.clone(), name);
        }
        Accounts { keys, short }
    }

    pub fn short<'a>(&'a self, key: &'a AccountKey) -> &'a str {
        self.short.get(key).map_or(profile(key), String::as_str)
    }

    /// The position of an account in `keys`, for cluster names.
    pub fn index(&self, key: &AccountKey) -> Option<usize> {
        self.keys.iter().position(|k| k == key)
    }
}

fn profile(key: &AccountKey) -> &str {
    key.profile.as_deref().unwrap_or("default")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(profile: Option<&str>, region: Option<&str>, endpoint: Option<&str>) -> AccountKey {
        AccountKey {
            profile: profile.map(str::to_string),
            region: region.map(str::to_string),
            endpoint_url: endpoint.map(str::to_string),
        }
    }

    #[test]
    fn short_names_say_only_what_tells_accounts_apart() {
        let a = key(Some("cicd"), Some("us-east-1"), None);
        let b = key(Some("prod"), Some("us-east-1"), None);
        let c = key(Some("prod"), Some("eu-west-1"), None);
        let d = key(None, None, None);
        let e = key(Some("x"), Some("r"), Some("http://a"));
        let f = key(Some("x"), Some("r"), Some("http://b"));
        let accounts = Accounts::new(vec![
            a.clone(),
            b.clone(),
            c.clone(),
            d.clone(),
            e.clone(),
            f.clone(),
        ]);
        assert_eq!(accounts.short(&a), "cicd");
        assert_eq!(accounts.short(&b), "prod us-east-1");
        assert_eq!(accounts.short(&c), "prod eu-west-1");
        assert_eq!(accounts.short(&d), "default");
        assert_eq!(accounts.short(&e), "x r http://a");
        assert_eq!(accounts.short(&f), "x r http://b");
    }

    /// A short form of one account must not equal any form of another:
    /// a profile literally named "prod us-east-1" would otherwise read as
    /// the other account.
    #[test]
    fn short_names_never_collide_across_forms() {
        let odd = key(Some("prod us-east-1"), None, None);
        let b = key(Some("prod"), Some("us-east-1"), None);
        let c = key(Some("prod"), Some("eu-west-1"), None);
        let accounts = Accounts::new(vec![odd.clone(), b.clone(), c.clone()]);
        assert_ne!(accounts.short(&odd), accounts.short(&b));
        assert_eq!(accounts.short(&c), "prod eu-west-1");
    }
}
