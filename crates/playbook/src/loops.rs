//! A loop's items, made from its rendered value the way each loop keyword
//! makes them in Ansible.

use indexmap::IndexMap;

use crate::model::{Loop, LoopKind};
use crate::Json;

/// The items of a loop whose value rendered to `value`.
pub fn items(kind: LoopKind, value: Json) -> Result<Vec<Json>, String> {
    match kind {
        LoopKind::Loop => match value {
            Json::Array(items) => Ok(items),
            other => Err(format!(
                "`loop` needs a list, but the value is {} (with_dict, dict2items or a list of the values help)",
                runbook_module::schema::json_kind(&other)
            )),
        },
        LoopKind::Items => Ok(match value {
            Json::Array(items) => items
                .into_iter()
                .flat_map(|item| match item {
                    Json::Array(inner) => inner,
                    other => vec![other],
                })
                .collect(),
            Json::Null => Vec::new(),
            other => vec![other],
        }),
        LoopKind::List => Ok(match value {
            Json::Array(items) => items,
            other => vec![other],
        }),
        LoopKind::Dict => match value {
            Json::Object(map) => Ok(map
                .into_iter()
                .map(|(key, value)| serde_json::json!({"key": key, "value": value}))
                .collect()),
            other => Err(format!(
                "`with_dict` needs a mapping, but the value is {}",
                runbook_module::schema::json_kind(&other)
            )),
        },
        LoopKind::Together => {
            let lists = lists_of(value, "with_together")?;
            let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
            Ok((0..longest)
                .map(|i| {
                    Json::Array(
                        lists
                            .iter()
                            .map(|l| l.get(i).cloned().unwrap_or(Json::Null))
                            .collect(),
                    )
                })
                .collect())
        }
        LoopKind::Nested => {
            let lists = lists_of(value, "with_nested")?;
            let mut product: Vec<Vec<Json>> = vec![Vec::new()];
            for list in lists {
                product = product
                    .into_iter()
                    .flat_map(|prefix| {
                        list.iter().map(move |item| {
                            let mut next = prefix.clone();
                            next.push(item.clone());
                            next
                        })
                    })
                    .collect();
            }
            Ok(product.into_iter().map(Json::Array).collect())
        }
        LoopKind::Sequence => {
            let terms: Vec<String> = match value {
                Json::Array(items) => items.iter().map(text).collect(),
                other => vec![text(&other)],
            };
            let mut out = Vec::new();
            for term in terms {
                out.extend(sequence(&term)?.into_iter().map(Json::String));
            }
            Ok(out)
        }
    }
}

fn text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A list of lists; a bare item counts as a list of one, as in Ansible.
fn lists_of(value: Json, keyword: &str) -> Result<Vec<Vec<Json>>, String> {
    match value {
        Json::Array(items) => Ok(items
            .into_iter()
            .map(|item| match item {
                Json::Array(inner) => inner,
                other => vec![other],
            })
            .collect()),
        other => Err(format!(
            "`{keyword}` needs a list of lists, but the value is {}",
            runbook_module::schema::json_kind(&other)
        )),
    }
}

/// The `sequence` lookup: `start=1 end=5 stride=1 format=%d`, `count=N`,
/// or the short form `[start-]end[/stride][:format]`.
fn sequence(term: &str) -> Result<Vec<String>, String> {
    let bad = |why: &str| format!("`with_sequence: {term}`: {why}");
    let number = |text: &str| -> Result<i64, String> {
        let text = text.trim();
        let parsed = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
            i64::from_str_radix(hex, 16)
        } else if let Some(oct) = text.strip_prefix("0o") {
            i64::from_str_radix(oct, 8)
        } else {
            text.parse()
        };
        parsed.map_err(|_| bad(&format!("`{text}` is not a number")))
    };
    let (mut start, mut end, mut stride, mut count, mut format) =
        (1i64, None, 1i64, None, "%d".to_string());
    if term.contains('=') {
        for word in term.split_whitespace() {
            let Some((key, value)) = word.split_once('=') else {
                return Err(bad(&format!("`{word}` is not key=value")));
            };
            match key {
                "start" => start = number(value)?,
                "end" => end = Some(number(value)?),
                "stride" => stride = number(value)?,
                "count" => count = Some(number(value)?),
                "format" => format = value.to_string(),
                other => return Err(bad(&format!("unknown option `{other}`"))),
            }
        }
    } else {
        let (range, fmt) = match term.split_once(':') {
            Some((r, f)) => (r, Some(f)),
            None => (term, None),
        };
        if let Some(f) = fmt {
            format = f.to_string();
        }
        let (range, step) = match range.split_once('/') {
            Some((r, s)) => (r, Some(number(s)?)),
            None => (range, None),
        };
        if let Some(s) = step {
            stride = s;
        }
        match range.split_once('-') {
            Some((a, b)) if !a.is_empty() => {
                start = number(a)?;
                end = Some(number(b)?);
            }
            _ => end = Some(number(range)?),
        }
    }
    if let Some(count) = count {
        if end.is_some() {
            return Err(bad("can't use both count and end"));
        }
        if count <= 0 {
            return Ok(Vec::new());
        }
        end = Some(start + (count - 1) * stride);
    }
    let Some(end) = end else {
        return Err(bad("must specify count or end"));
    };
    if stride == 0 {
        return Err(bad("stride must not be 0"));
    }
    if (stride > 0 && end < start) || (stride < 0 && end > start) {
        return Err(bad("to count backwards make stride negative"));
    }
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        out.push(printf(&format, i).map_err(|why| bad(&why))?);
        if out.len() > 100_000 {
            return Err(bad("more than 100000 items"));
        }
        i += stride;
    }
    Ok(out)
}

/// Python's `format % i` for the integer conversions a sequence uses.
fn printf(format: &str, value: i64) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut used = false;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut zero = false;
        let mut width = String::new();
        while let Some(&d) = chars.peek() {
            if d == '0' && width.is_empty() && !zero {
                zero = true;
                chars.next();
            } else if d.is_ascii_digit() {
                width.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let width: usize = width.parse().unwrap_or(0);
        let body = match chars.next() {
            Some('d') | Some('i') => value.to_string(),
            Some('x') => format!("{value:x}"),
            Some('X') => format!("{value:X}"),
            Some('o') => format!("{value:o}"),
            other => {
                return Err(format!(
                    "format `{format}`: `%{}` is not an integer conversion",
                    other.map(String::from).unwrap_or_default()
                ))
            }
        };
        used = true;
        if zero {
            out.push_str(&format!("{body:0>width$}"));
        } else {
            out.push_str(&format!("{body:>width$}"));
        }
    }
    if !used {
        return Err(format!("format `{format}` has no conversion"));
    }
    Ok(out)
}

/// The variables one item of a loop sets: the loop var, the index var and
/// `ansible_loop`, as `loop_control` asks.
pub fn item_vars(spec: &Loop, items: &[Json], index: usize) -> IndexMap<String, Json> {
    let mut vars = IndexMap::new();
    vars.insert(spec.loop_var.clone(), items[index].clone());
    if let Some(index_var) = &spec.index_var {
        vars.insert(index_var.clone(), Json::from(index));
    }
    if spec.extended {
        vars.insert("ansible_loop".into(), extended(items, index));
    }
    vars
}

/// `ansible_loop` for item `index` (`loop_control.extended`).
pub fn extended(items: &[Json], index: usize) -> Json {
    let length = items.len();
    let mut map = serde_json::Map::new();
    map.insert("allitems".into(), Json::Array(items.to_vec()));
    map.insert("first".into(), Json::Bool(index == 0));
    map.insert("index".into(), Json::from(index + 1));
    map.insert("index0".into(), Json::from(index));
    map.insert("last".into(), Json::Bool(index + 1 == length));
    map.insert("length".into(), Json::from(length));
    map.insert("revindex".into(), Json::from(length - index));
    map.insert("revindex0".into(), Json::from(length - index - 1));
    if index > 0 {
        map.insert("previtem".into(), items[index - 1].clone());
    }
    if index + 1 < length {
        map.insert("nextitem".into(), items[index + 1].clone());
    }
    Json::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loop_kinds() {
        assert_eq!(
            items(LoopKind::Loop, json!([1, [2]])).unwrap(),
            vec![json!(1), json!([2])]
        );
        assert!(items(LoopKind::Loop, json!("a")).is_err());
        assert_eq!(
            items(LoopKind::Items, json!([1, [2, 3]])).unwrap(),
            vec![json!(1), json!(2), json!(3)]
        );
        assert_eq!(
            items(LoopKind::Items, json!("a")).unwrap(),
            vec![json!("a")]
        );
        assert_eq!(
            items(LoopKind::Dict, json!({"a": 1})).unwrap(),
            vec![json!({"key": "a", "value": 1})]
        );
        assert_eq!(
            items(LoopKind::Together, json!([[1, 2], ["a"]])).unwrap(),
            vec![json!([1, "a"]), json!([2, null])]
        );
        assert_eq!(
            items(LoopKind::Nested, json!([[1, 2], ["a", "b"]])).unwrap(),
            vec![
                json!([1, "a"]),
                json!([1, "b"]),
                json!([2, "a"]),
                json!([2, "b"])
            ]
        );
    }

    #[test]
    fn sequences() {
        let seq = |t: &str| items(LoopKind::Sequence, json!(t)).unwrap();
        assert_eq!(
            seq("start=1 end=3"),
            vec![json!("1"), json!("2"), json!("3")]
        );
        assert_eq!(
            seq("count=2 format=web%02d"),
            vec![json!("web01"), json!("web02")]
        );
        assert_eq!(seq("4-8/2"), vec![json!("4"), json!("6"), json!("8")]);
        assert_eq!(
            seq("start=5 end=1 stride=-2"),
            vec![json!("5"), json!("3"), json!("1")]
        );
        assert!(items(LoopKind::Sequence, json!("start=5 end=1")).is_err());
    }

    #[test]
    fn extended_loop() {
        let all = [json!("a"), json!("b")];
        let first = extended(&all, 0);
        assert_eq!(first["first"], json!(true));
        assert_eq!(first["nextitem"], json!("b"));
        assert!(first.get("previtem").is_none());
        assert_eq!(extended(&all, 1)["revindex0"], json!(0));
    }
}
