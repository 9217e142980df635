//! `-e` values, as ansible-playbook reads them: `key=value` pairs (several
//! per argument, shell-style quoting), `@file.yml` / `@file.json`, or an
//! inline JSON/YAML mapping. `key=value` values stay strings, as in Ansible.

use std::path::Path;

use indexmap::IndexMap;

use crate::{ErrorKind, Json, PlaybookError};

/// Parses every `-e` argument in order; later ones override earlier ones.
pub fn parse_all(args: &[String], cwd: &Path) -> Result<IndexMap<String, Json>, PlaybookError> {
    let mut vars = IndexMap::new();
    for arg in args {
        vars.extend(parse_one(arg, cwd)?);
    }
    Ok(vars)
}

fn bad(arg: &str, why: impl std::fmt::Display) -> PlaybookError {
    PlaybookError::new(
        ErrorKind::ExtraVars,
        format!("invalid extra vars `-e {arg}`: {why}"),
    )
    .help("use -e key=value, -e @vars.yml, or -e '{\"key\": \"value\"}'")
}

pub fn parse_one(arg: &str, cwd: &Path) -> Result<IndexMap<String, Json>, PlaybookError> {
    let trimmed = arg.trim();
    if let Some(file) = trimmed.strip_prefix('@') {
        let path = cwd.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| bad(arg, format!("cannot read {}: {e}", path.display())))?;
        return mapping_from_yaml(&text)
            .map_err(|why| bad(arg, format!("{}: {why}", path.display())));
    }
    if trimmed.starts_with('{') {
        return mapping_from_yaml(trimmed).map_err(|why| bad(arg, why));
    }
    if trimmed.is_empty() {
        return Err(bad(arg, "it is empty"));
    }
    let mut vars = IndexMap::new();
    for word in split_words(trimmed).map_err(|why| bad(arg, why))? {
        let Some((key, value)) = word.split_once('=') else {
            return Err(bad(arg, format!("`{word}` is not key=value")));
        };
        if !is_identifier(key) {
            return Err(bad(arg, format!("`{key}` is not a valid variable name")));
        }
        vars.insert(key.to_string(), Json::String(value.to_string()));
    }
    Ok(vars)
}

fn mapping_from_yaml(text: &str) -> Result<IndexMap<String, Json>, String> {
    let node = runbook_yaml::parse(text).map_err(|e| format!("{} at {}", e.message, e.span))?;
    match node.to_json() {
        Json::Object(map) => Ok(map.into_iter().collect()),
        Json::Null => Ok(IndexMap::new()),
        other => Err(format!(
            "expected a mapping of variables, found {}",
            runbook_module::schema::json_kind(&other)
        )),
    }
}

pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Splits on whitespace, honouring single and double quotes and backslash
/// escapes, as Ansible's `split_args` does for `-e` strings.
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(next) = chars.next() {
                    current.push(next);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("unterminated {q} quote"));
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(args: &[&str]) -> Result<IndexMap<String, Json>, PlaybookError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_all(&args, Path::new("."))
    }

    #[test]
    fn key_value_pairs_stay_strings() {
        let vars = parse(&["a=1 b='two words' c=\"x y\"", "a=3"]).unwrap();
        assert_eq!(vars["a"], json!("3"));
        assert_eq!(vars["b"], json!("two words"));
        assert_eq!(vars["c"], json!("x y"));
    }

    #[test]
    fn inline_json_and_files() {
        let vars = parse(&[r#"{"n": 1, "l": [1, 2]}"#]).unwrap();
        assert_eq!(vars["n"], json!(1));
        assert_eq!(vars["l"], json!([1, 2]));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("v.yml"), "x: yes\ny: {z: 1}\n").unwrap();
        let args = vec!["@v.yml".to_string()];
        let vars = parse_all(&args, dir.path()).unwrap();
        assert_eq!(vars["x"], json!(true));
        assert_eq!(vars["y"], json!({"z": 1}));
    }

    #[test]
    fn bad_values_name_themselves() {
        let err = parse(&["novalue"]).unwrap_err();
        assert_eq!(
            err.message,
            "invalid extra vars `-e novalue`: `novalue` is not key=value"
        );
        let err = parse(&["a='open"]).unwrap_err();
        assert_eq!(
            err.message,
            "invalid extra vars `-e a='open`: unterminated ' quote"
        );
        let err = parse(&["1x=2"]).unwrap_err();
        assert!(err.message.contains("`1x` is not a valid variable name"));
        let err = parse(&["@missing.yml"]).unwrap_err();
        assert!(err.message.contains("cannot read"), "{}", err.message);
        let err = parse(&["[1, 2]"]).unwrap_err();
        assert!(err.message.contains("is not key=value") || err.message.contains("mapping"));
    }
}
