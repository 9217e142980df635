//! Ansible's text filters: regular expressions, paths and hashes.

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error, ErrorKind};

use crate::pyrepr::python_str;

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_escape", regex_escape);
    env.add_filter("basename", |path: Value| {
        basename(&python_str(&path)).to_string()
    });
    env.add_filter("dirname", |path: Value| dirname(&python_str(&path)));
    env.add_filter("hash", |data: Value, kind: Option<String>| {
        hash(&python_str(&data), kind.as_deref().unwrap_or("sha1"))
    });
    env.add_filter("md5", |data: Value| hash(&python_str(&data), "md5"));
    env.add_filter("sha1", |data: Value| hash(&python_str(&data), "sha1"));
    env.add_filter("checksum", |data: Value| hash(&python_str(&data), "sha1"));
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// A Python `re` pattern with `ignorecase` / `multiline`. Patterns are Rust
/// `regex` syntax, which matches Python's but for look-around and
/// backreferences.
fn compile(
    filter: &str,
    pattern: &str,
    ignorecase: bool,
    multiline: bool,
) -> Result<regex::Regex, Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| invalid(format!("{filter}: invalid pattern `{pattern}`: {e}")))
}

fn flags(kwargs: &Kwargs) -> Result<(bool, bool), Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    Ok((ignorecase.unwrap_or(false), multiline.unwrap_or(false)))
}

/// A group a `regex_search` argument asks for: `\1` or `\g<name>`.
enum Group {
    Index(usize),
    Name(String),
}

/// `regex_search(regex, *groups, ignorecase=false, multiline=false)`: the
/// first match, or (given `'\1'`, `'\g<name>'`, ...) the list of those
/// groups of it; `none` when nothing matches.
fn regex_search(
    value: Value,
    pattern: String,
    args: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let (ignorecase, multiline) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let mut groups = Vec::new();
    for arg in args.iter() {
        let arg = python_str(arg);
        let group = if let Some(name) = arg.strip_prefix("\\g<").and_then(|r| r.split('>').next()) {
            Group::Name(name.to_string())
        } else if let Some(digits) = arg.strip_prefix('\\') {
            let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
            Group::Index(
                digits
                    .parse()
                    .map_err(|_| invalid("regex_search: Unknown argument"))?,
            )
        } else {
            return Err(invalid(format!(
                "regex_search: Unknown argument `{arg}` (groups are written '\\1' or '\\g<name>')"
            )));
        };
        groups.push(group);
    }
    let text = python_str(&value);
    let regex = compile("regex_search", &pattern, ignorecase, multiline)?;
    let Some(found) = regex.captures(&text) else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(&found[0]));
    }
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        let (exists, matched) = match &group {
            Group::Index(i) => (*i < regex.captures_len(), found.get(*i)),
            Group::Name(name) => (
                regex.capture_names().any(|n| n == Some(name.as_str())),
                found.name(name),
            ),
        };
        if !exists {
            return Err(invalid("regex_search: no such group"));
        }
        out.push(matched.map_or(Value::from(()), |m| Value::from(m.as_str())));
    }
    Ok(Value::from(out))
}

/// `regex_findall(regex, multiline=false, ignorecase=false)`: as Python's
/// `re.findall`, every match; with one group, that group of each; with
/// several, the list of groups of each.
fn regex_findall(value: Value, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let (ignorecase, multiline) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let text = python_str(&value);
    let regex = compile("regex_findall", &pattern, ignorecase, multiline)?;
    let group = |m: Option<regex::Match<'_>>| Value::from(m.map_or("", |m| m.as_str()));
    let found = regex
        .captures_iter(&text)
        .map(|caps| match caps.len() {
            1 => group(caps.get(0)),
            2 => group(caps.get(1)),
            n => Value::from((1..n).map(|i| group(caps.get(i))).collect::<Vec<_>>()),
        })
        .collect::<Vec<_>>();
    Ok(Value::from(found))
}

/// `regex_replace(pattern, replacement, ignorecase=false, multiline=false,
/// count=0, mandatory_count=0)` with Python's `\1` and `\g<name>`
/// back-references.
fn regex_replace(
    value: Value,
    pattern: Option<String>,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let (ignorecase, multiline) = flags(&kwargs)?;
    let count: Option<usize> = kwargs.get("count")?;
    let mandatory: Option<usize> = kwargs.get("mandatory_count")?;
    kwargs.assert_all_used()?;
    let text = python_str(&value);
    let pattern = pattern.unwrap_or_default();
    let regex = compile("regex_replace", &pattern, ignorecase, multiline)?;
    let count = count.unwrap_or(0);
    let matches = match count {
        0 => regex.find_iter(&text).count(),
        n => regex.find_iter(&text).take(n).count(),
    };
    if let Some(mandatory) = mandatory.filter(|m| *m != 0) {
        if mandatory != matches {
            return Err(invalid(format!(
                "regex_replace: '{pattern}' should match {mandatory} times, but matches {matches} times in '{text}'"
            )));
        }
    }
    let replacement = python_replacement(&replacement.unwrap_or_default());
    Ok(regex
        .replacen(&text, count, replacement.as_str())
        .into_owned())
}

/// A Python `re.sub` replacement in the `regex` crate's syntax.
fn python_replacement(python: &str) -> String {
    let mut out = String::with_capacity(python.len());
    let mut chars = python.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut group = String::new();
                    while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                        group.push(d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{group}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some(escape @ ('n' | 't' | 'r' | '\\')) => {
                    chars.next();
                    out.push(match escape {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        _ => '\\',
                    });
                }
                _ => out.push('\\'),
            },
            other => out.push(other),
        }
    }
    out
}

/// `regex_escape`: Python's `re.escape`.
fn regex_escape(value: Value, kind: Option<String>) -> Result<String, Error> {
    if kind.as_deref().is_some_and(|k| k != "python") {
        return Err(invalid(
            "regex_escape: runbook escapes for Python regular expressions only",
        ));
    }
    let mut out = String::new();
    for c in python_str(&value).chars() {
        if "()[]{}?*+-|^$\\.&~# \t\n\r\u{b}\u{c}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(out)
}

/// Python's `os.path.basename`.
fn basename(path: &str) -> &str {
    &path[path.rfind('/').map_or(0, |i| i + 1)..]
}

/// Python's `os.path.dirname`: trailing slashes go, unless the head is
/// all slashes.
fn dirname(path: &str) -> String {
    let head = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    if !head.is_empty() && head.bytes().any(|b| b != b'/') {
        head.trim_end_matches('/').to_string()
    } else {
        head.to_string()
    }
}

/// `hash(kind='sha1')`: the hex digest of the text's UTF-8 bytes.
fn hash(text: &str, kind: &str) -> Result<String, Error> {
    use sha2::Digest as _;
    let bytes = text.as_bytes();
    let digest: Vec<u8> = match kind {
        "md5" => {
            use md5::Digest as _;
            md5::Md5::digest(bytes).to_vec()
        }
        "sha1" => {
            use sha1::Digest as _;
            sha1::Sha1::digest(bytes).to_vec()
        }
        "sha224" => sha2::Sha224::digest(bytes).to_vec(),
        "sha256" => sha2::Sha256::digest(bytes).to_vec(),
        "sha384" => sha2::Sha384::digest(bytes).to_vec(),
        "sha512" => sha2::Sha512::digest(bytes).to_vec(),
        other => {
            return Err(invalid(format!(
                "hash: unsupported hash type {other} (runbook has md5, sha1, sha224, sha256, sha384 and sha512)"
            )))
        }
    };
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_python_splits_them() {
        for (path, base, dir) in [
            ("/etc/ansible/hosts.yml", "hosts.yml", "/etc/ansible"),
            ("/etc/", "", "/etc"),
            ("file", "file", ""),
            ("/", "", "/"),
            ("//a//b", "b", "//a"),
            ("//", "", "//"),
            ("", "", ""),
        ] {
            assert_eq!(basename(path), base, "{path}");
            assert_eq!(dirname(path), dir, "{path}");
        }
    }
}
