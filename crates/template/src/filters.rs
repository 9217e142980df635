//! Ansible's filters and tests that minijinja lacks or defines differently.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use crate::Json;

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_filter("bool", to_bool);
    env.add_filter("int", to_int);
    env.add_filter("to_json", to_json);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("from_json", from_json);
    env.add_filter("to_yaml", to_yaml);
    env.add_filter("to_nice_yaml", to_yaml);
    env.add_filter("combine", combine);
    env.add_filter("mandatory", mandatory);
    env.add_filter("ternary", ternary);
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);
    env.add_test("skipped", |v: Value| flag(&v, "skipped"));
    env.add_test("changed", |v: Value| flag(&v, "changed"));
    env.add_test("failed", |v: Value| flag(&v, "failed"));
    env.add_test("succeeded", |v: Value| !flag(&v, "failed"));
    env.add_test("success", |v: Value| !flag(&v, "failed"));
    // Python's `str()`: `2.5e+20`, `None`, `{'a': 1}`.
    env.add_filter("string", |v: Value| crate::pyrepr::python_str(&v));
    crate::filters_text::register(env);
    crate::filters_list::register(env);
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

fn as_json(value: &Value) -> Result<Json, Error> {
    serde_json::to_value(value).map_err(|e| invalid(format!("cannot convert value: {e}")))
}

/// `default(value, default='', boolean=false)`: with `boolean`, falsy values
/// count as undefined too.
fn default(value: Value, fallback: Option<Value>, boolean: Option<bool>) -> Value {
    let missing = value.is_undefined() || (boolean.unwrap_or(false) && !value.is_true());
    if missing {
        fallback.unwrap_or_else(|| Value::from(""))
    } else {
        value
    }
}

/// Ansible's `bool`: `yes`, `on`, `1`, `true` (any case) are true.
fn to_bool(value: Value) -> bool {
    match value.kind() {
        ValueKind::Bool => value.is_true(),
        ValueKind::Number => value.as_i64() == Some(1),
        ValueKind::String => {
            let text = value
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            matches!(text.as_str(), "yes" | "on" | "1" | "true" | "y" | "t")
        }
        _ => false,
    }
}

/// Ansible's `int`: what does not parse becomes `default` (0).
fn to_int(value: Value, default: Option<i64>, kwargs: Kwargs) -> Result<i64, Error> {
    let base: Option<u32> = kwargs.get("base")?;
    kwargs.assert_all_used()?;
    let default = default.unwrap_or(0);
    Ok(match value.kind() {
        ValueKind::Bool => i64::from(value.is_true()),
        ValueKind::Number => value
            .as_i64()
            .or_else(|| as_json(&value).ok()?.as_f64().map(|f| f as i64))
            .unwrap_or(default),
        ValueKind::String => {
            let text = value.as_str().unwrap_or_default().trim();
            match base {
                Some(base) => {
                    let digits = text
                        .trim_start_matches("0x")
                        .trim_start_matches("0o")
                        .trim_start_matches("0b");
                    i64::from_str_radix(digits, base).unwrap_or(default)
                }
                None => text
                    .parse::<i64>()
                    .ok()
                    .or_else(|| text.parse::<f64>().ok().map(|f| f as i64))
                    .unwrap_or(default),
            }
        }
        _ => default,
    })
}

/// Python's `json.dumps` layout (`", "` and `": "` separators), as Ansible's
/// `to_json` prints.
fn to_json(value: Value) -> Result<String, Error> {
    let json = as_json(&value)?;
    let mut out = String::new();
    python_json(&json, &mut out);
    Ok(out)
}

fn python_json(json: &Json, out: &mut String) {
    match json {
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_json(item, out);
            }
            out.push(']');
        }
        Json::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Json::String(k.clone()).to_string());
                out.push_str(": ");
                python_json(v, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `to_nice_json`: sorted keys, four-space indent.
fn to_nice_json(value: Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    kwargs.assert_all_used()?;
    let json = sort_keys(as_json(&value)?);
    let indent = " ".repeat(indent.unwrap_or(4));
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    serde::Serialize::serialize(&json, &mut ser).map_err(|e| invalid(e.to_string()))?;
    String::from_utf8(buf).map_err(|e| invalid(e.to_string()))
}

fn sort_keys(json: Json) -> Json {
    match json {
        Json::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Json::Array(items) => Json::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

fn from_json(text: String) -> Result<Value, Error> {
    let json: Json = serde_json::from_str(&text).map_err(|e| invalid(format!("from_json: {e}")))?;
    Ok(crate::value_of(&json))
}

fn to_yaml(value: Value) -> Result<String, Error> {
    Ok(runbook_yaml::to_yaml_string(&as_json(&value)?))
}

/// `combine(*dicts, recursive=false, list_merge='replace')`. Lists of
/// mappings are taken apart one level (`[a, b] | combine`).
fn combine(
    base: Value,
    others: minijinja::value::Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let recursive: Option<bool> = kwargs.get("recursive")?;
    let list_merge: Option<String> = kwargs.get("list_merge")?;
    if let Some(other) = kwargs
        .args()
        .find(|k| !matches!(*k, "recursive" | "list_merge"))
    {
        return Err(invalid(format!(
            "combine: 'recursive' and 'list_merge' are the only valid keyword arguments, not '{other}'"
        )));
    }
    let list_merge = list_merge.unwrap_or_else(|| "replace".to_string());
    if !matches!(
        list_merge.as_str(),
        "replace" | "keep" | "append" | "prepend" | "append_rp" | "prepend_rp"
    ) {
        return Err(invalid(format!(
            "combine: 'list_merge' argument can only be equal to 'replace', 'keep', 'append', 'prepend', 'append_rp' or 'prepend_rp', not '{list_merge}'"
        )));
    }
    let mut dicts = Vec::new();
    for term in std::iter::once(&base).chain(others.iter()) {
        let json = as_json(term)?;
        match json {
            Json::Null => {}
            Json::Array(items) => dicts.extend(items.into_iter().filter(|i| !i.is_null())),
            other => dicts.push(other),
        }
    }
    let mut dicts = dicts.into_iter();
    let Some(mut merged) = dicts.next() else {
        return Ok(crate::value_of(Json::Object(Default::default())));
    };
    for other in dicts {
        if !merged.is_object() || !other.is_object() {
            return Err(invalid(format!(
                "combine: failed to combine variables, expected dicts but got a '{}' and a '{}'",
                json_type(&merged),
                json_type(&other)
            )));
        }
        merge(&mut merged, other, recursive.unwrap_or(false), &list_merge);
    }
    Ok(crate::value_of(&merged))
}

fn json_type(json: &Json) -> &'static str {
    match json {
        Json::Null => "NoneType",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_f64() => "float",
        Json::Number(_) => "int",
        Json::String(_) => "str",
        Json::Array(_) => "list",
        Json::Object(_) => "dict",
    }
}

/// Ansible's `merge_hash`: `from` over `into`.
fn merge(into: &mut Json, from: Json, recursive: bool, list_merge: &str) {
    match (into, from) {
        (Json::Object(a), Json::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        if recursive {
                            merge(existing, v, recursive, list_merge)
                        } else {
                            *existing = v;
                        }
                    }
                    Some(Json::Array(existing)) if v.is_array() => {
                        let Json::Array(new) = v else { continue };
                        match list_merge {
                            "keep" => {}
                            "append" => existing.extend(new),
                            "prepend" => {
                                let old = std::mem::take(existing);
                                *existing = new.into_iter().chain(old).collect();
                            }
                            "append_rp" => {
                                existing.retain(|x| !new.contains(x));
                                existing.extend(new);
                            }
                            "prepend_rp" => {
                                let old = std::mem::take(existing);
                                let kept: Vec<Json> =
                                    old.into_iter().filter(|x| !new.contains(x)).collect();
                                *existing = new.into_iter().chain(kept).collect();
                            }
                            _ => *existing = new,
                        }
                    }
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, from) => *slot = from,
    }
}

fn mandatory(value: Value, msg: Option<String>) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            msg.unwrap_or_else(|| "mandatory variable not defined".to_string()),
        ));
    }
    Ok(value)
}

fn flag(value: &Value, name: &str) -> bool {
    value.get_attr(name).map(|v| v.is_true()).unwrap_or(false)
}

/// `ternary(true_value, false_value, none_value=None)`: Ansible's inline if.
fn ternary(value: Value, when_true: Value, when_false: Value, when_none: Option<Value>) -> Value {
    match when_none {
        Some(none) if value.is_none() || value.is_undefined() => none,
        _ if value.is_true() => when_true,
        _ => when_false,
    }
}

/// The `key_name` / `value_name` options of `dict2items` and `items2dict`.
fn entry_names(kwargs: &Kwargs) -> Result<(String, String), Error> {
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    Ok((
        key_name.unwrap_or_else(|| "key".into()),
        value_name.unwrap_or_else(|| "value".into()),
    ))
}

/// `dict2items(key_name='key', value_name='value')`: a mapping as a list of
/// `{key, value}` entries, in the mapping's order.
fn dict2items(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let (key_name, value_name) = entry_names(&kwargs)?;
    let Json::Object(map) = as_json(&value)? else {
        return Err(invalid(format!(
            "dict2items requires a mapping, got {}",
            value.kind()
        )));
    };
    let items: Vec<Json> = map
        .into_iter()
        .map(|(k, v)| {
            let mut entry = serde_json::Map::new();
            entry.insert(key_name.clone(), Json::String(k));
            entry.insert(value_name.clone(), v);
            Json::Object(entry)
        })
        .collect();
    Ok(crate::value_of(&items))
}

/// `items2dict(key_name='key', value_name='value')`: the reverse of
/// `dict2items`.
fn items2dict(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let (key_name, value_name) = entry_names(&kwargs)?;
    let Json::Array(items) = as_json(&value)? else {
        return Err(invalid(format!(
            "items2dict requires a list, got {}",
            value.kind()
        )));
    };
    let mut map = serde_json::Map::new();
    for item in items {
        let (Some(key), Some(val)) = (item.get(&key_name), item.get(&value_name)) else {
            return Err(invalid(format!(
                "items2dict: every item needs `{key_name}` and `{value_name}`, got {item}"
            )));
        };
        let key = match key {
            Json::String(text) => text.clone(),
            other => other.to_string(),
        };
        map.insert(key, val.clone());
    }
    Ok(crate::value_of(Json::Object(map)))
}

/// Standard base64; decoding takes it with or without padding, as
/// Ansible users write it both ways.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// `b64encode`: standard base64 of the text's UTF-8 bytes, padded.
fn b64encode(text: String) -> String {
    use base64::Engine as _;
    BASE64.encode(text.as_bytes())
}

/// `b64decode`: standard base64 (padding optional) to UTF-8 text.
fn b64decode(text: String) -> Result<String, Error> {
    use base64::Engine as _;
    let bytes = BASE64
        .decode(text.trim())
        .map_err(|err| invalid(format!("b64decode: not base64: {err}")))?;
    String::from_utf8(bytes).map_err(|_| invalid("b64decode: the decoded bytes are not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use crate::{Engine, Layer, Scope};
    use serde_json::json;

    fn render(template: &str, vars: serde_json::Value) -> serde_json::Value {
        let mut scope = Scope::new();
        scope.push_lower(Layer::concrete(
            vars.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ));
        Engine::new(std::path::Path::new("."))
            .render(&json!(template), &scope)
            .unwrap()
    }

    #[test]
    fn default_filter() {
        assert_eq!(render("{{ x | default('a') }}", json!({})), json!("a"));
        assert_eq!(render("{{ x | d('a') }}", json!({"x": ""})), json!(""));
        assert_eq!(
            render("{{ x | default('a', true) }}", json!({"x": ""})),
            json!("a")
        );
        assert_eq!(
            render("{{ x.y | default('a') }}", json!({"x": {}})),
            json!("a")
        );
    }

    #[test]
    fn type_filters() {
        assert_eq!(render("{{ 'Yes' | bool }}", json!({})), json!(true));
        assert_eq!(render("{{ 'off' | bool }}", json!({})), json!(false));
        assert_eq!(render("{{ '42' | int }}", json!({})), json!(42));
        assert_eq!(render("{{ 'x' | int }}", json!({})), json!(0));
        assert_eq!(render("{{ 5 | string }}", json!({})), json!("5"));
        assert_eq!(render("{{ ' A ' | trim | lower }}", json!({})), json!("a"));
        assert_eq!(
            render("{{ 'a-b' | replace('-', '_') | upper }}", json!({})),
            json!("A_B")
        );
    }

    #[test]
    fn regex_replace_python_groups() {
        assert_eq!(
            render(
                // As YAML's "\\d" and "\\1" hand them over: Ansible reads
                // backslashes in string literals inside {{ }} as they are.
                r"{{ 'ab12' | regex_replace('([a-z]+)(\d+)', '\2-\1') }}",
                json!({})
            ),
            json!("12-ab")
        );
        assert_eq!(
            render("{{ 'a$b' | regex_replace('b', 'c') }}", json!({})),
            json!("a$c")
        );
    }

    #[test]
    fn json_and_yaml_filters() {
        assert_eq!(
            render("{{ {'a': [1, 2]} | to_json }}", json!({})),
            json!("{\"a\": [1, 2]}")
        );
        assert_eq!(
            render("{{ '{\"a\": 1}' | from_json }}", json!({})),
            json!({"a": 1})
        );
        assert_eq!(
            render("{{ {'b': 1, 'a': 2} | to_nice_json }}", json!({})),
            json!("{\n    \"a\": 2,\n    \"b\": 1\n}")
        );
        assert_eq!(
            render("{{ {'a': 'x'} | to_yaml }}", json!({})),
            json!("a: x\n")
        );
    }

    #[test]
    fn combine_and_join() {
        assert_eq!(
            render(
                "{{ a | combine(b) }}",
                json!({"a": {"x": {"y": 1}}, "b": {"x": {"z": 2}}})
            ),
            json!({"x": {"z": 2}})
        );
        assert_eq!(
            render(
                "{{ a | combine(b, recursive=true) }}",
                json!({"a": {"x": {"y": 1}}, "b": {"x": {"z": 2}}})
            ),
            json!({"x": {"y": 1, "z": 2}})
        );
        assert_eq!(
            render("{{ l | join(',') }}", json!({"l": ["a", "b"]})),
            json!("a,b")
        );
    }

    #[test]
    fn result_tests() {
        let vars = json!({"r": {"changed": true, "failed": false}, "s": {"skipped": true}});
        assert_eq!(render("{{ r is changed }}", vars.clone()), json!(true));
        assert_eq!(render("{{ r is failed }}", vars.clone()), json!(false));
        assert_eq!(render("{{ r is succeeded }}", vars.clone()), json!(true));
        assert_eq!(render("{{ s is skipped }}", vars.clone()), json!(true));
        assert_eq!(render("{{ x is none }}", json!({"x": null})), json!(true));
        assert_eq!(render("{{ x is undefined }}", json!({})), json!(true));
    }

    #[test]
    fn ternary_dict2items_items2dict_and_base64() {
        let vars = json!({"on": true, "off": false, "nothing": null, "cfg": {"a": 1, "b": [2]}});
        assert_eq!(
            render("{{ on | ternary('y', 'n') }}", vars.clone()),
            json!("y")
        );
        assert_eq!(
            render("{{ off | ternary('y', 'n') }}", vars.clone()),
            json!("n")
        );
        assert_eq!(
            render("{{ nothing | ternary('y', 'n', 'none') }}", vars.clone()),
            json!("none")
        );
        assert_eq!(
            render("{{ cfg | dict2items }}", vars.clone()),
            json!([{"key": "a", "value": 1}, {"key": "b", "value": [2]}])
        );
        assert_eq!(
            render(
                "{{ cfg | dict2items(key_name='k', value_name='v') | items2dict(key_name='k', value_name='v') }}",
                vars.clone()
            ),
            json!({"a": 1, "b": [2]})
        );
        for (plain, encoded) in [
            ("", ""),
            ("a", "YQ=="),
            ("ab", "YWI="),
            ("abc", "YWJj"),
            ("héllo", "aMOpbGxv"),
        ] {
            let v = json!({"p": plain, "e": encoded});
            assert_eq!(render("{{ p | b64encode }}", v.clone()), json!(encoded));
            assert_eq!(render("{{ e | b64decode }}", v), json!(plain));
        }
    }
}
