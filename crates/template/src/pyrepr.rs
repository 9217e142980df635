//! Values as Ansible prints them into text: Python's `str()`, with
//! containers in Python's `repr()` (`{'a': None, 'b': [1.0, True]}`).

use std::fmt::Write;

use minijinja::value::{Value, ValueKind};

/// What `{{ value }}` writes into text. As Ansible's finalize does, `None`
/// writes nothing.
pub(crate) fn emitted(value: &Value) -> String {
    if value.is_none() {
        String::new()
    } else {
        python_str(value)
    }
}

/// Python's `str(value)`.
pub(crate) fn python_str(value: &Value) -> String {
    match value.kind() {
        ValueKind::String => value.as_str().unwrap_or_default().to_string(),
        _ => {
            let mut out = String::new();
            repr(value, &mut out);
            out
        }
    }
}

/// Python's `repr(value)`.
pub(crate) fn python_repr(value: &Value) -> String {
    let mut out = String::new();
    repr(value, &mut out);
    out
}

/// Python's `repr(value)`. Tuples print as lists, as Ansible turns them
/// into lists.
fn repr(value: &Value, out: &mut String) {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if value.is_true() { "True" } else { "False" }),
        ValueKind::Number if value.is_integer() => {
            let _ = write!(out, "{value}");
        }
        ValueKind::Number => match f64::try_from(value.clone()) {
            Ok(f) => out.push_str(&float_repr(f)),
            Err(_) => {
                let _ = write!(out, "{value}");
            }
        },
        ValueKind::String => string_repr(value.as_str().unwrap_or_default(), out),
        ValueKind::Bytes => {
            out.push('b');
            string_repr(
                &String::from_utf8_lossy(value.as_bytes().unwrap_or_default()),
                out,
            );
        }
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            if let Ok(items) = value.try_iter() {
                for (i, item) in items.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    repr(&item, out);
                }
            }
            out.push(']');
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(keys) = value.try_iter() {
                for (i, key) in keys.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    repr(&key, out);
                    out.push_str(": ");
                    repr(&value.get_item(&key).unwrap_or(Value::UNDEFINED), out);
                }
            }
            out.push('}');
        }
        _ => {
            let _ = write!(out, "{value}");
        }
    }
}

/// Python's quoting: single quotes unless the text has a single quote and
/// no double quote.
fn string_repr(text: &str, out: &mut String) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Python's `repr(float)`: the shortest text that reads back as the same
/// number, in exponent form below 1e-4 and from 1e16 on.
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes a number");
    if (-4..16).contains(&exponent) {
        let fixed = f.to_string();
        if fixed.contains('.') {
            fixed
        } else {
            fixed + ".0"
        }
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_python_writes_them() {
        for (f, python) in [
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (2.5e20, "2.5e+20"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e-7, "1e-07"),
            (0.0001, "0.0001"),
            (1.5e-5, "1.5e-05"),
            (123456.789, "123456.789"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(float_repr(f), python, "{f}");
        }
    }

    #[test]
    fn containers_as_python_writes_them() {
        let value = crate::value_of(serde_json::json!(
            {"a": [1, 2.5, null, true], "it's": "say \"hi\"", "q": "it's"}
        ));
        assert_eq!(
            python_str(&value),
            r#"{'a': [1, 2.5, None, True], "it's": 'say "hi"', 'q': "it's"}"#
        );
        assert_eq!(emitted(&Value::from(())), "");
        assert_eq!(python_str(&Value::from(())), "None");
    }
}
