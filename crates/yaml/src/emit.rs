//! A small block-style YAML writer for `to_yaml` and reports.

use serde_json::Value as Json;

/// Writes `value` as block-style YAML ending in a newline.
pub fn to_yaml_string(value: &Json) -> String {
    let mut out = String::new();
    match value {
        Json::Object(map) if !map.is_empty() => write_map(map, 0, &mut out),
        Json::Array(items) if !items.is_empty() => write_seq(items, 0, &mut out),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

fn write_map(map: &serde_json::Map<String, Json>, indent: usize, out: &mut String) {
    for (key, value) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&quote(key));
        out.push(':');
        write_child(value, indent, out);
    }
}

fn write_seq(items: &[Json], indent: usize, out: &mut String) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            Json::Object(map) if !map.is_empty() => {
                // The first key goes on the dash line, the rest under it.
                let mut nested = String::new();
                write_map(map, indent + 2, &mut nested);
                out.push(' ');
                out.push_str(nested.trim_start());
            }
            _ => write_child(item, indent, out),
        }
    }
}

fn write_child(value: &Json, indent: usize, out: &mut String) {
    match value {
        Json::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(map, indent + 2, out);
        }
        Json::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(items, indent + 2, out);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn scalar_text(value: &Json) -> String {
    match value {
        Json::Null => "null".to_string(),
        Json::String(s) => quote(s),
        Json::Object(_) => "{}".to_string(),
        Json::Array(_) => "[]".to_string(),
        Json::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() => yaml_float(f),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// A float as PyYAML writes one: YAML 1.1 needs a dot (`1.0e+23`, not
/// `1e+23`, which reads back as a string).
fn yaml_float(f: f64) -> String {
    match crate::scalar::python_float_repr(f).as_str() {
        "inf" => ".inf".to_string(),
        "-inf" => "-.inf".to_string(),
        "nan" => ".nan".to_string(),
        text if !text.contains('.') => text.replacen('e', ".0e", 1),
        text => text.to_string(),
    }
}

/// Quotes a string when a YAML 1.1 reader would take it for something else.
fn quote(s: &str) -> String {
    let reparsed = crate::parse(s).ok().map(|n| n.value);
    let plain_ok = !s.is_empty()
        && matches!(reparsed, Some(crate::Value::String(ref t)) if t == s)
        // A date reads back as the same text, but Ansible reads a date.
        && matches!(
            crate::scalar::resolve_plain(s),
            Ok(crate::scalar::Plain::Value(crate::Value::String(_)))
        )
        && !s.starts_with(|c: char| c.is_whitespace() || "-?:,[]{}#&*!|>'\"%@`".contains(c))
        && !s.ends_with(char::is_whitespace)
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains('\n');
    if plain_ok {
        s.to_string()
    } else {
        Json::String(s.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_through_the_parser() {
        let value = json!({"a": "x", "b": ["yes", 1, {"c": null, "d": "e: f"}], "g": {}, "h": ""});
        let text = to_yaml_string(&value);
        assert_eq!(crate::parse(&text).unwrap().to_json(), value, "{text}");
        for s in ["2001-12-14", "1e5", "0o17", "1:30", "=", "<<", "1.5e3", "~"] {
            let text = to_yaml_string(&json!({ "k": s }));
            assert_eq!(crate::parse(&text).unwrap().to_json()["k"], s, "{text}");
        }
        assert_eq!(
            to_yaml_string(&json!({"k": "2001-12-14"})),
            "k: \"2001-12-14\"\n"
        );
    }
}
