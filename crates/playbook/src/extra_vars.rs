//! `-e` values, as ansible-playbook reads them: `key=value` pairs (several
//! per argument, shell-style quoting), `@file.yml` / `@file.json`, or an
//! inline JSON/YAML mapping. `key=value` values stay strings, as in Ansible.

use std::path::Path;

use indexmap::IndexMap;

use runbook_module::printable;

use crate::{ErrorKind, Json, PlaybookError};

/// Parses every `-e` argument in order; later ones override earlier ones.
///
/// A bad argument is described by its position (`-e #2`), the word and the
/// key it concerns, never by its text: `-e` often carries secrets.
pub fn parse_all(args: &[String], cwd: &Path) -> Result<IndexMap<String, Json>, PlaybookError> {
    let mut vars = IndexMap::new();
    for (index, arg) in args.iter().enumerate() {
        vars.extend(parse_nth(index + 1, arg, cwd)?);
    }
    Ok(vars)
}

fn bad(position: usize, why: impl std::fmt::Display) -> PlaybookError {
    PlaybookError::new(
        ErrorKind::ExtraVars,
        format!("invalid extra vars in -e #{position}: {why}"),
    )
    .help("use -e key=value, -e @vars.yml, or -e '{\"key\": \"value\"}' (values are not shown: they may be secret)")
}

/// Parses one `-e` argument (the first is 1).
pub fn parse_one(arg: &str, cwd: &Path) -> Result<IndexMap<String, Json>, PlaybookError> {
    parse_nth(1, arg, cwd)
}

fn parse_nth(
    position: usize,
    arg: &str,
    cwd: &Path,
) -> Result<IndexMap<String, Json>, PlaybookError> {
    let trimmed = arg.trim();
    if let Some(file) = trimmed.strip_prefix('@') {
        let path = cwd.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            bad(
                position,
                format!(
                    "cannot read {}: {e}",
                    printable(&path.display().to_string())
                ),
            )
        })?;
        return mapping_from_yaml(&text).map_err(|why| {
            bad(
                position,
                format!("{}: {why}", printable(&path.display().to_string())),
            )
        });
    }
    if trimmed.starts_with('{') {
        return mapping_from_yaml(trimmed)
            .map_err(|why| bad(position, format!("the inline mapping {why}")));
    }
    if trimmed.is_empty() {
        return Err(bad(position, "it is empty"));
    }
    let words = split_words_at(trimmed).map_err(|(why, word, key)| {
        bad(
            position,
            match key {
                Some(key) => format!("{why} in the value of `{key}` (word {word})"),
                None => format!("{why} in word {word}"),
            },
        )
    })?;
    let mut vars = IndexMap::new();
    let mut previous: Option<&str> = None;
    for (index, word) in words.iter().enumerate() {
        let number = index + 1;
        let Some((key, value)) = word.split_once('=') else {
            let after = match previous {
                Some(key) => format!(
                    " (it follows the value of `{key}`: quote a value that holds spaces, -e '{key}=\"...\"')"
                ),
                None => String::new(),
            };
            return Err(bad(
                position,
                format!("word {number} is not key=value{after}"),
            ));
        };
        if !is_identifier(key) {
            return Err(bad(
                position,
                format!(
                    "the name before `=` in word {number} is not a variable name (a letter or `_`, then letters, digits or `_`)"
                ),
            ));
        }
        vars.insert(key.to_string(), Json::String(value.to_string()));
        previous = Some(key);
    }
    Ok(vars)
}

/// A mapping read from YAML or JSON, or why not, without quoting the text.
fn mapping_from_yaml(text: &str) -> Result<IndexMap<String, Json>, String> {
    let node = runbook_yaml::parse(text).map_err(|e| {
        // Some messages quote the value they could not read: not these.
        let what = match e.kind {
            runbook_yaml::YamlErrorKind::InvalidScalar => {
                "has a value that cannot be read as its type (a date, a number, ...)".to_string()
            }
            _ => format!("is not valid YAML or JSON: {}", e.message),
        };
        format!("{what}, at line {}, column {}", e.span.line, e.span.column)
    })?;
    match node.to_json() {
        Json::Object(map) => Ok(map.into_iter().collect()),
        Json::Null => Ok(IndexMap::new()),
        other => Err(format!(
            "holds {}, not a mapping of variables",
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
    split_words_at(text).map_err(|(why, _, _)| why)
}

/// [`split_words`], with, on error, the number of the word where it
/// happened and the key of that word (the name before its `=`) when it
/// is a variable name.
fn split_words_at(text: &str) -> Result<Vec<String>, (String, usize, Option<String>)> {
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
        let key = current
            .split_once('=')
            .map(|(k, _)| k.to_string())
            .filter(|k| is_identifier(k));
        return Err((format!("unterminated {q} quote"), words.len() + 1, key));
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
    fn bad_values_say_where_without_quoting() {
        let err = parse(&["a=1", "novalue"]).unwrap_err();
        assert_eq!(
            err.message,
            "invalid extra vars in -e #2: word 1 is not key=value"
        );
        let err = parse(&["db_password=S3cr3t-XYZ oops"]).unwrap_err();
        assert_eq!(
            err.message,
            "invalid extra vars in -e #1: word 2 is not key=value (it follows the value of `db_password`: quote a value that holds spaces, -e 'db_password=\"...\"')"
        );
        let err = parse(&["user=x pw='S3cr3t-XYZ"]).unwrap_err();
        assert_eq!(
            err.message,
            "invalid extra vars in -e #1: unterminated ' quote in the value of `pw` (word 2)"
        );
        let err = parse(&["a=1 9S3cr3t-XYZ=2"]).unwrap_err();
        assert!(
            err.message
                .contains("the name before `=` in word 2 is not a variable name"),
            "{}",
            err.message
        );
        let err = parse(&["@missing.yml"]).unwrap_err();
        assert!(err.message.contains("cannot read"), "{}", err.message);
        let err = parse(&["[1, 2]"]).unwrap_err();
        assert!(err.message.contains("is not key=value"), "{}", err.message);
        let err = parse(&[r#"{"db_password": "S3cr3t-XYZ""#]).unwrap_err();
        assert!(
            err.message.starts_with(
                "invalid extra vars in -e #1: the inline mapping is not valid YAML or JSON: "
            ),
            "{}",
            err.message
        );
        let err = parse(&["{pw: 2001-02-30}"]).unwrap_err();
        assert!(
            err.message.contains("cannot be read as its type"),
            "{}",
            err.message
        );
        for err in [
            parse(&["db_password=S3cr3t-XYZ oops"]),
            parse(&["pw='S3cr3t-XYZ"]),
            parse(&["a=1 S3cr3t-XYZ"]),
            parse(&["a=1 S3cr3t-XYZ=1"]),
            parse(&["{pw: S3cr3t-XYZ, [}"]),
            parse(&[r#"{"pw": "S3cr3t-XYZ""#]),
            parse(&["{pw: 2001-02-30, q: S3cr3t-XYZ}"]),
            parse(&["[S3cr3t-XYZ]"]),
        ] {
            let err = err.unwrap_err();
            let all = format!("{} {}", err.message, err.help.unwrap_or_default());
            assert!(!all.contains("S3cr3t"), "{all}");
        }
    }
}
