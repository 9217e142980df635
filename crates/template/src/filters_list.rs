//! Ansible's list and mapping filters, the `dict` function and
//! `json_query`.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use crate::compare::python_type;
use crate::Json;

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("flatten", flatten_filter);
    env.add_filter("product", product);
    env.add_filter("zip_longest", zip_longest);
    env.add_filter("subelements", subelements);
    env.add_filter("union", |a: Value, b: Value| -> Result<Value, Error> {
        let mut all = items(&a, "union")?;
        all.extend(items(&b, "union")?);
        Ok(Value::from(unique(all)))
    });
    env.add_filter("intersect", |a: Value, b: Value| -> Result<Value, Error> {
        let b = items(&b, "intersect")?;
        let kept = items(&a, "intersect")?
            .into_iter()
            .filter(|x| b.contains(x));
        Ok(Value::from(unique(kept.collect())))
    });
    env.add_filter("difference", |a: Value, b: Value| -> Result<Value, Error> {
        let b = items(&b, "difference")?;
        let kept = items(&a, "difference")?
            .into_iter()
            .filter(|x| !b.contains(x));
        Ok(Value::from(unique(kept.collect())))
    });
    env.add_filter(
        "symmetric_difference",
        |a: Value, b: Value| -> Result<Value, Error> {
            let (a, b) = (
                items(&a, "symmetric_difference")?,
                items(&b, "symmetric_difference")?,
            );
            let kept = a
                .iter()
                .filter(|x| !b.contains(x))
                .chain(b.iter().filter(|x| !a.contains(x)))
                .cloned()
                .collect();
            Ok(Value::from(unique(kept)))
        },
    );
    env.add_filter("json_query", json_query);
    env.add_filter("community.general.json_query", json_query);
    env.add_function("dict", dict);
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// The items of a list (or anything iterable but a string or mapping).
fn items(value: &Value, filter: &str) -> Result<Vec<Value>, Error> {
    match value.kind() {
        ValueKind::Seq | ValueKind::Iterable => Ok(value.try_iter()?.collect()),
        _ => Err(invalid(format!(
            "{filter} expects a list, got {} `{value}`",
            python_type(value)
        ))),
    }
}

fn is_list(value: &Value) -> bool {
    matches!(value.kind(), ValueKind::Seq | ValueKind::Iterable)
}

/// Items in first-seen order, each once. (Ansible goes through a Python
/// set where it can, whose order is arbitrary.)
fn unique(all: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(all.len());
    for item in all {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// `flatten(levels=None, skip_nulls=true)`: lists inside the list opened,
/// all the way down or `levels` deep. With `skip_nulls`, `None`, `'None'`
/// and `'null'` items go.
fn flatten_filter(
    list: Value,
    levels: Option<Value>,
    skip_nulls: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let levels = match levels.or(kwargs.get::<Option<Value>>("levels")?) {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) => Some(
            i64::try_from(v.clone())
                .map_err(|_| invalid(format!("flatten: levels must be a number, got `{v}`")))?,
        ),
    };
    let skip_nulls = match skip_nulls {
        Some(skip) => skip,
        None => kwargs.get::<Option<bool>>("skip_nulls")?.unwrap_or(true),
    };
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    flatten(&items(&list, "flatten")?, levels, skip_nulls, &mut out)?;
    Ok(Value::from(out))
}

fn flatten(
    list: &[Value],
    levels: Option<i64>,
    skip_nulls: bool,
    out: &mut Vec<Value>,
) -> Result<(), Error> {
    for item in list {
        if skip_nulls && (item.is_none() || matches!(item.as_str(), Some("None" | "null"))) {
            continue;
        }
        match levels {
            _ if !is_list(item) => out.push(item.clone()),
            None => flatten(&items(item, "flatten")?, None, skip_nulls, out)?,
            Some(n) if n >= 1 => flatten(&items(item, "flatten")?, Some(n - 1), skip_nulls, out)?,
            Some(_) => out.push(item.clone()),
        }
    }
    Ok(())
}

/// `product(*lists, repeat=1)`: Python's `itertools.product`.
fn product(first: Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let repeat: Option<usize> = kwargs.get("repeat")?;
    kwargs.assert_all_used()?;
    let mut pools = vec![items(&first, "product")?];
    for other in others.iter() {
        pools.push(items(other, "product")?);
    }
    let pools: Vec<Vec<Value>> = (0..repeat.unwrap_or(1))
        .flat_map(|_| pools.iter().cloned())
        .collect();
    let mut combos: Vec<Vec<Value>> = vec![Vec::new()];
    for pool in &pools {
        combos = combos
            .iter()
            .flat_map(|combo| {
                pool.iter().map(move |item| {
                    let mut next = combo.clone();
                    next.push(item.clone());
                    next
                })
            })
            .collect();
    }
    Ok(Value::from(
        combos.into_iter().map(Value::from).collect::<Vec<_>>(),
    ))
}

/// `zip_longest(*lists, fillvalue=None)`: Python's `itertools.zip_longest`.
fn zip_longest(first: Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let fill: Option<Value> = kwargs.get("fillvalue")?;
    kwargs.assert_all_used()?;
    let fill = fill.unwrap_or(Value::from(()));
    let mut lists = vec![items(&first, "zip_longest")?];
    for other in others.iter() {
        lists.push(items(other, "zip_longest")?);
    }
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    let rows = (0..longest)
        .map(|i| {
            Value::from(
                lists
                    .iter()
                    .map(|list| list.get(i).cloned().unwrap_or_else(|| fill.clone()))
                    .collect::<Vec<_>>(),
            )
        })
        .collect::<Vec<_>>();
    Ok(Value::from(rows))
}

/// `subelements(key, skip_missing=false)`: each item of a list (or each
/// value of a mapping) paired with each element of its list at `key`
/// (`'a.b'` goes down mappings).
fn subelements(
    obj: Value,
    key: Value,
    skip_missing: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let skip_missing = match skip_missing {
        Some(skip) => skip,
        None => kwargs.get::<Option<bool>>("skip_missing")?.unwrap_or(false),
    };
    kwargs.assert_all_used()?;
    let elements: Vec<Value> = match obj.kind() {
        ValueKind::Map => obj
            .try_iter()?
            .map(|k| obj.get_item(&k))
            .collect::<Result<_, _>>()?,
        ValueKind::Seq => obj.try_iter()?.collect(),
        _ => {
            return Err(invalid(
                "subelements: obj must be a list of dicts or a nested dict",
            ))
        }
    };
    let path: Vec<Value> = match key.kind() {
        ValueKind::String => key
            .as_str()
            .unwrap_or_default()
            .split('.')
            .map(Value::from)
            .collect(),
        ValueKind::Seq => key.try_iter()?.collect(),
        _ => {
            return Err(invalid(
                "subelements: subelements must be a list or a string",
            ))
        }
    };
    let mut out = Vec::new();
    'elements: for element in elements {
        let mut values = element.clone();
        for step in &path {
            if values.kind() != ValueKind::Map {
                return Err(invalid(format!(
                    "subelements: the key {} should point to a dictionary, got {}",
                    crate::pyrepr::python_str(step),
                    crate::pyrepr::python_repr(&values)
                )));
            }
            match values.get_item(step) {
                Ok(found) if !found.is_undefined() => values = found,
                _ if skip_missing => continue 'elements,
                _ => {
                    return Err(invalid(format!(
                        "subelements: could not find {} key in iterated item {}",
                        crate::pyrepr::python_repr(step),
                        crate::pyrepr::python_repr(&values)
                    )))
                }
            }
        }
        if values.kind() != ValueKind::Seq {
            return Err(invalid(format!(
                "subelements: the key {} should point to a list, got {}",
                crate::pyrepr::python_repr(&key),
                crate::pyrepr::python_repr(&values)
            )));
        }
        for value in values.try_iter()? {
            out.push(Value::from(vec![element.clone(), value]));
        }
    }
    Ok(Value::from(out))
}

/// `dict(mapping_or_pairs=(), **kwargs)`: Python's `dict`.
fn dict(args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    if args.len() > 1 {
        return Err(invalid(format!(
            "dict expected at most 1 argument, got {}",
            args.len()
        )));
    }
    let mut pairs: Vec<(Value, Value)> = Vec::new();
    let mut set = |key: Value, value: Value| match pairs.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => pairs.push((key, value)),
    };
    if let Some(source) = args.first() {
        match source.kind() {
            ValueKind::Map => {
                for key in source.try_iter()? {
                    let value = source.get_item(&key)?;
                    set(key, value);
                }
            }
            ValueKind::Seq | ValueKind::Iterable => {
                for (i, pair) in source.try_iter()?.enumerate() {
                    let parts: Vec<Value> = match pair.kind() {
                        ValueKind::Seq | ValueKind::Iterable => pair.try_iter()?.collect(),
                        ValueKind::String => pair
                            .as_str()
                            .unwrap_or_default()
                            .chars()
                            .map(|c| Value::from(c.to_string()))
                            .collect(),
                        _ => {
                            return Err(invalid(format!(
                            "cannot convert dictionary update sequence element #{i} to a sequence"
                        )))
                        }
                    };
                    let [key, value] = <[Value; 2]>::try_from(parts).map_err(|parts| {
                        invalid(format!(
                            "dictionary update sequence element #{i} has length {}; 2 is required",
                            parts.len()
                        ))
                    })?;
                    set(key, value);
                }
            }
            _ => {
                return Err(invalid(format!(
                    "'{}' object is not iterable",
                    python_type(source)
                )))
            }
        }
    }
    for key in kwargs.args() {
        let value: Value = kwargs.get(key)?;
        set(Value::from(key), value);
    }
    Ok(Value::from_pairs(pairs))
}

/// `json_query(expr)`: a JMESPath query over the value.
fn json_query(data: Value, expr: String) -> Result<Value, Error> {
    let json: Json = serde_json::to_value(&data)
        .map_err(|e| invalid(format!("json_query: the value is not JSON data: {e}")))?;
    let compiled = jmespath::compile(&legacy_literals(&expr))
        .map_err(|e| invalid(format!("JMESPathError in json_query filter plugin: {e}")))?;
    let found = compiled
        .search(json)
        .map_err(|e| invalid(format!("JMESPathError in json_query filter plugin: {e}")))?;
    let found: Json =
        serde_json::to_value(&*found).map_err(|e| invalid(format!("json_query: {e}")))?;
    Ok(crate::value_of(found))
}

/// Python's jmespath (Ansible's) still reads a backtick literal that is not
/// JSON as a string (`` `cluster1` ``), as Ansible's own examples write
/// them; the Rust one does not. Such literals become JSON strings here.
fn legacy_literals(expr: &str) -> std::borrow::Cow<'_, str> {
    if !expr.contains('`') {
        return expr.into();
    }
    let mut out = String::with_capacity(expr.len() + 8);
    let mut chars = expr.chars();
    while let Some(c) = chars.next() {
        match c {
            // Raw strings and quoted names may hold backticks of their own.
            '\'' | '"' => {
                out.push(c);
                while let Some(inner) = chars.next() {
                    out.push(inner);
                    if inner == '\\' {
                        out.extend(chars.next());
                    } else if inner == c {
                        break;
                    }
                }
            }
            '`' => {
                let mut literal = String::new();
                while let Some(inner) = chars.next() {
                    match inner {
                        '\\' => match chars.next() {
                            Some('`') => literal.push('`'),
                            Some(other) => {
                                literal.push('\\');
                                literal.push(other);
                            }
                            None => literal.push('\\'),
                        },
                        '`' => break,
                        other => literal.push(other),
                    }
                }
                let json = if serde_json::from_str::<Json>(&literal).is_ok() {
                    literal
                } else {
                    Json::String(literal.trim_start().to_string()).to_string()
                };
                out.push('`');
                out.push_str(&json.replace('`', "\\`"));
                out.push('`');
            }
            other => out.push(other),
        }
    }
    out.into()
}
