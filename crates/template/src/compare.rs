//! `<`, `<=`, `>`, `>=` as Python (and so Ansible) evaluates them.
//!
//! Numbers (and booleans, which are numbers in Python) order among
//! themselves, strings among themselves, lists among lists and tuples among
//! tuples, element by element. Anything else, `'1' > 20` above all, is an
//! error naming both types, as Python's `TypeError` does. Equality is left
//! to minijinja: values of different types are simply unequal, as in Python.
//!
//! [`crate::compile`] routes the comparison instructions of every template
//! through the filters registered here.

use std::cmp::Ordering;

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

/// The hidden filters for `a OP b`, by operator.
pub(crate) const ORDERING: [(&str, &str); 4] = [
    ("<", "__runbook_lt"),
    ("<=", "__runbook_le"),
    (">", "__runbook_gt"),
    (">=", "__runbook_ge"),
];

/// The hidden filters for one link of a chained comparison, by the name of
/// minijinja's operator: they take `[a, b]` and give `[a OP b, b]`.
pub(crate) const CHAINED: [(&str, &str); 4] = [
    ("Lt", "__runbook_chained_lt"),
    ("Lte", "__runbook_chained_le"),
    ("Gt", "__runbook_chained_gt"),
    ("Gte", "__runbook_chained_ge"),
];

#[derive(Clone, Copy)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    const ALL: [Op; 4] = [Op::Lt, Op::Le, Op::Gt, Op::Ge];

    fn symbol(self) -> &'static str {
        ORDERING[self as usize].0
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Lt => ordering.is_lt(),
            Op::Le => ordering.is_le(),
            Op::Gt => ordering.is_gt(),
            Op::Ge => ordering.is_ge(),
        }
    }
}

pub(crate) fn register(env: &mut Environment<'static>) {
    for op in Op::ALL {
        env.add_filter(ORDERING[op as usize].1, move |a: Value, b: Value| {
            compare(op, &a, &b)
        });
        env.add_filter(CHAINED[op as usize].1, move |pair: Value| {
            let a = pair.get_item_by_index(0)?;
            let b = pair.get_item_by_index(1)?;
            let holds = compare(op, &a, &b)?;
            Ok::<_, Error>(Value::from(vec![Value::from(holds), b]))
        });
    }
}

/// `a OP b` as Python evaluates it, for `OP` one of `<`, `<=`, `>`, `>=`;
/// the error is Python's `TypeError` message.
pub(crate) fn order(symbol: &str, a: &Value, b: &Value) -> Result<bool, String> {
    let op = Op::ALL
        .into_iter()
        .find(|op| op.symbol() == symbol)
        .ok_or_else(|| format!("`{symbol}` is not an ordering"))?;
    compare(op, a, b).map_err(|e| e.detail().unwrap_or_default().to_string())
}

/// `a OP b` as Python evaluates it.
fn compare(op: Op, a: &Value, b: &Value) -> Result<bool, Error> {
    if a.is_undefined() || b.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("undefined value compared with `{}`", op.symbol()),
        ));
    }
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return Ok(match (x, y) {
            (Number::Int(x), Number::Int(y)) => op.holds(x.cmp(&y)),
            // NaN is neither smaller nor greater than anything.
            (x, y) => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .is_some_and(|o| op.holds(o)),
        });
    }
    match (a.kind(), b.kind()) {
        (ValueKind::String, ValueKind::String) => {
            Ok(op.holds(a.as_str().unwrap_or("").cmp(b.as_str().unwrap_or(""))))
        }
        (ValueKind::Bytes, ValueKind::Bytes) => Ok(op.holds(a.as_bytes().cmp(&b.as_bytes()))),
        (ValueKind::Seq, ValueKind::Seq) if a.is_tuple() == b.is_tuple() => {
            // The first items that differ decide; else the shorter is less.
            let mut left = a.try_iter()?;
            let mut right = b.try_iter()?;
            loop {
                match (left.next(), right.next()) {
                    (Some(x), Some(y)) if x == y => continue,
                    (Some(x), Some(y)) => return compare(op, &x, &y),
                    (x, y) => return Ok(op.holds(x.is_some().cmp(&y.is_some()))),
                }
            }
        }
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "'{}' not supported between instances of '{}' and '{}'{}",
                op.symbol(),
                python_type(a),
                python_type(b),
                hint(a, b)
            ),
        )),
    }
}

fn hint(a: &Value, b: &Value) -> &'static str {
    let string_and_number = |x: &Value, y: &Value| {
        x.kind() == ValueKind::String && matches!(y.kind(), ValueKind::Number | ValueKind::Bool)
    };
    if string_and_number(a, b) || string_and_number(b, a) {
        " (a string from `-e` or a template stays a string: convert it with `| int` or `| float`)"
    } else {
        ""
    }
}

#[derive(Clone, Copy)]
enum Number {
    Int(i128),
    Float(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

fn number(value: &Value) -> Option<Number> {
    match value.kind() {
        ValueKind::Bool => Some(Number::Int(i128::from(value.is_true()))),
        ValueKind::Number if value.is_integer() => i128::try_from(value.clone())
            .ok()
            .map(Number::Int)
            .or_else(|| f64::try_from(value.clone()).ok().map(Number::Float)),
        ValueKind::Number => f64::try_from(value.clone()).ok().map(Number::Float),
        _ => None,
    }
}

/// The name Python gives the type of the value Ansible would hold.
pub(crate) fn python_type(value: &Value) -> &'static str {
    match value.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq if value.is_tuple() => "tuple",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        ValueKind::Iterable => "generator",
        ValueKind::Invalid => "invalid",
        _ => "object",
    }
}
