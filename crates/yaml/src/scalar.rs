//! Scalars read exactly as Ansible reads them.
//!
//! Ansible loads YAML with PyYAML's YAML 1.1 `Resolver` (which decides a
//! plain scalar's type by regular expressions) and `SafeConstructor` (which
//! turns the text into a value). This module is a hand-written copy of both,
//! checked against the real thing by `tests/ansible_scalars.rs`.
//!
//! What Python has and JSON has not:
//! - integers of any size: kept in `Value::Int` when they fit an `i64`, else
//!   in `Value::BigInt` as exact decimal digits. Python refuses to convert
//!   integers of more than 4300 decimal digits to or from text, so those are
//!   errors here.
//! - `inf`/`nan`: kept as `Value::Float`; see `Node::to_json`.
//! - dates and datetimes (`2001-12-14`, `2001-12-14 21:59:43.10 -5`): read
//!   as strings holding what Ansible passes to a module, `isoformat()`
//!   (`2001-12-14`, `2001-12-14T21:59:43.100000-05:00`). Impossible dates
//!   are errors, as in Ansible.

use crate::error::YamlErrorKind;
use crate::node::Value;

pub(crate) type ScalarError = (YamlErrorKind, String);

/// What a plain (unquoted, untagged) scalar resolves to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plain {
    Value(Value),
    /// A timestamp, as the `isoformat()` text of the date or datetime.
    Timestamp(String),
    /// `<<`: a merge key in a key position, an error anywhere else.
    Merge,
}

/// Python's limit on the digits of an integer read from or written as
/// decimal text (`sys.get_int_max_str_digits()`).
const MAX_INT_DIGITS: usize = 4300;
/// Base-10⁹ limbs that hold `MAX_INT_DIGITS` digits with room to spare; a
/// number growing past this is refused before it costs any real time.
const MAX_LIMBS: usize = MAX_INT_DIGITS / 9 + 2;

fn invalid(message: String) -> ScalarError {
    (YamlErrorKind::InvalidScalar, message)
}

/// Resolves a plain scalar as PyYAML's `Resolver` and `SafeConstructor` do.
pub(crate) fn resolve_plain(text: &str) -> Result<Plain, ScalarError> {
    let Some(&first) = text.as_bytes().first() else {
        return Ok(Plain::Value(Value::Null));
    };
    if b"yYnNtTfFoO".contains(&first) && is_bool(text) {
        return Ok(Plain::Value(Value::Bool(construct_bool(text)?)));
    }
    if b"-+0123456789.".contains(&first) && is_float(text) {
        return Ok(Plain::Value(construct_float(text)?));
    }
    if b"-+0123456789".contains(&first) && is_int(text) {
        return Ok(Plain::Value(construct_int(text)?));
    }
    if text == "<<" {
        return Ok(Plain::Merge);
    }
    if matches!(text, "~" | "null" | "Null" | "NULL") {
        return Ok(Plain::Value(Value::Null));
    }
    if first.is_ascii_digit() {
        if let Some(ts) = parse_timestamp(text) {
            if ts.time.is_some() || (ts.month_digits == 2 && ts.day_digits == 2) {
                return ts.isoformat().map(Plain::Timestamp);
            }
        }
    }
    if text == "=" {
        return Err((
            YamlErrorKind::UnsupportedTag,
            "a plain `=` is YAML 1.1's `value` type, which Ansible cannot load; quote it to make it a string".into(),
        ));
    }
    Ok(Plain::Value(Value::String(text.to_string())))
}

/// Resolves a plain scalar of a document that is valid JSON: Ansible reads
/// such documents with Python's `json` module, whose numbers differ from
/// YAML 1.1's (`1e5` is a float, not a string).
pub(crate) fn resolve_json_plain(text: &str) -> Result<Plain, ScalarError> {
    match text {
        "true" => Ok(Plain::Value(Value::Bool(true))),
        "false" => Ok(Plain::Value(Value::Bool(false))),
        "null" => Ok(Plain::Value(Value::Null)),
        _ if text.contains(['.', 'e', 'E']) => match text.parse::<f64>() {
            Ok(f) => Ok(Plain::Value(Value::Float(f))),
            Err(_) => resolve_plain(text),
        },
        _ => {
            let (negative, digits) = match text.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, text),
            };
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                let mut n = Big::from_digits(digits, 10)?;
                n.negative = negative;
                Ok(Plain::Value(n.into_value()?))
            } else {
                resolve_plain(text)
            }
        }
    }
}

/// Constructs a scalar tagged with a standard tag (`!!int 7`). `None` when
/// the tag is not one this loader constructs from a scalar.
pub(crate) fn construct_tagged(suffix: &str, text: &str) -> Option<Result<Value, ScalarError>> {
    Some(match suffix {
        "str" => Ok(Value::String(text.to_string())),
        "null" => Ok(Value::Null),
        "bool" => construct_bool(text).map(Value::Bool),
        "int" => construct_int(text),
        "float" => construct_float(text),
        "timestamp" => match parse_timestamp(text) {
            Some(ts) => ts.isoformat().map(Value::String),
            None => Err(invalid(
                "it is tagged !!timestamp but is not a date or datetime".into(),
            )),
        },
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// The resolver's regular expressions, as matchers.

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at..]
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.eat_if(|b| b == byte)
    }

    fn eat_if(&mut self, pred: impl Fn(u8) -> bool) -> bool {
        match self.peek() {
            Some(b) if pred(b) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    fn eat_while(&mut self, pred: impl Fn(u8) -> bool) -> usize {
        let start = self.at;
        while self.eat_if(&pred) {}
        self.at - start
    }

    fn eat_sign(&mut self) {
        self.eat_if(|b| b == b'-' || b == b'+');
    }

    /// `(?::[0-5]?[0-9])+`, followed by something other than a digit.
    fn sexagesimal_tail(&mut self) -> bool {
        let mut segments = 0;
        while self.eat(b':') {
            let start = self.at;
            match self.eat_while(|b| b.is_ascii_digit()) {
                1 => {}
                2 if self.bytes[start] <= b'5' => {}
                _ => return false,
            }
            segments += 1;
        }
        segments > 0
    }

    /// `(?:[eE][-+][0-9]+)?`; false when an exponent starts but is malformed.
    fn exponent(&mut self) -> bool {
        if !self.eat_if(|b| b == b'e' || b == b'E') {
            return true;
        }
        self.eat_if(|b| b == b'-' || b == b'+') && self.eat_while(|b| b.is_ascii_digit()) > 0
    }
}

fn digit_or_underscore(b: u8) -> bool {
    b.is_ascii_digit() || b == b'_'
}

fn is_bool(text: &str) -> bool {
    matches!(
        text,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

fn is_float(text: &str) -> bool {
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let mut c = Cursor::new(text);
    if c.eat(b'.') {
        // `\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?` (no sign) or `\.inf`.
        if matches!(c.rest(), b"inf" | b"Inf" | b"INF") {
            return true;
        }
        if !c.eat_if(|b| b.is_ascii_digit()) {
            return false;
        }
        c.eat_while(digit_or_underscore);
        return c.exponent() && c.done();
    }
    c.eat_sign();
    if matches!(c.rest(), b".inf" | b".Inf" | b".INF") {
        return true;
    }
    if !c.eat_if(|b| b.is_ascii_digit()) {
        return false;
    }
    c.eat_while(digit_or_underscore);
    if c.eat(b'.') {
        c.eat_while(digit_or_underscore);
        return c.exponent() && c.done();
    }
    if !(c.sexagesimal_tail() && c.eat(b'.')) {
        return false;
    }
    c.eat_while(digit_or_underscore);
    c.done()
}

fn is_int(text: &str) -> bool {
    let mut c = Cursor::new(text);
    c.eat_sign();
    let rest = c.rest();
    if rest.starts_with(b"0b") {
        c.at += 2;
        return c.eat_while(|b| matches!(b, b'0' | b'1' | b'_')) > 0 && c.done();
    }
    if rest.starts_with(b"0x") {
        c.at += 2;
        return c.eat_while(|b| b.is_ascii_hexdigit() || b == b'_') > 0 && c.done();
    }
    if c.eat(b'0') {
        return c.done() || (c.eat_while(|b| matches!(b, b'0'..=b'7' | b'_')) > 0 && c.done());
    }
    if !c.eat_if(|b| matches!(b, b'1'..=b'9')) {
        return false;
    }
    c.eat_while(digit_or_underscore);
    c.done() || (c.sexagesimal_tail() && c.done())
}

// ---------------------------------------------------------------------------
// The constructor.

fn construct_bool(text: &str) -> Result<bool, ScalarError> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(true),
        "no" | "false" | "off" => Ok(false),
        _ => Err(invalid(
            "it is not a boolean (Ansible's booleans: yes/no, true/false, on/off)".into(),
        )),
    }
}

/// `SafeConstructor.construct_yaml_int`.
fn construct_int(text: &str) -> Result<Value, ScalarError> {
    let value = text.replace('_', "");
    let (negative, body) = split_sign(&value);
    if value.is_empty() {
        return Err(invalid("an empty scalar is not an integer".into()));
    }
    let mut n = if body == "0" {
        Big::zero()
    } else if let Some(bin) = body.strip_prefix("0b") {
        python_int(bin, 2, text)?
    } else if let Some(hex) = body.strip_prefix("0x") {
        python_int(hex, 16, text)?
    } else if body.starts_with('0') {
        python_int(body, 8, text)?
    } else if body.contains(':') {
        let mut total = Big::zero();
        for part in body.split(':') {
            let part = python_int(part, 10, text)?;
            total.mul_add(60, 0)?;
            total.add_signed(&part)?;
        }
        total
    } else {
        python_int(body, 10, text)?
    };
    if negative {
        n.negative = !n.negative;
    }
    n.into_value()
}

/// Python's `int(text, base)`: surrounding whitespace, one sign, and for
/// bases other than 10 the matching `0b`/`0o`/`0x` prefix are allowed.
fn python_int(text: &str, base: u32, original: &str) -> Result<Big, ScalarError> {
    let not_int = || {
        invalid(format!(
            "it is not an integer (Python: invalid literal for int() with base {base}: {:?})",
            shorten(original)
        ))
    };
    let (negative, mut digits) = split_sign(text.trim());
    let prefix = match base {
        2 => "0b",
        8 => "0o",
        16 => "0x",
        _ => "",
    };
    if !prefix.is_empty() && digits.len() >= 2 && digits[..2].eq_ignore_ascii_case(prefix) {
        digits = &digits[2..];
    }
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
        return Err(not_int());
    }
    let mut n = Big::from_digits(digits, base)?;
    n.negative = negative;
    Ok(n)
}

/// At most 40 characters of a scalar, for messages.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn split_sign(text: &str) -> (bool, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

/// `SafeConstructor.construct_yaml_float`.
fn construct_float(text: &str) -> Result<Value, ScalarError> {
    let value = text.replace('_', "").to_ascii_lowercase();
    if value.is_empty() {
        return Err(invalid("an empty scalar is not a number".into()));
    }
    let (negative, body) = split_sign(&value);
    let sign = |f: f64| if negative { -f } else { f };
    let f = if body == ".inf" {
        sign(f64::INFINITY)
    } else if body == ".nan" {
        f64::NAN
    } else if body.contains(':') {
        // value += digit*base; base *= 60, from the last part, with `base`
        // a Python int converted to float at each step.
        let mut total = 0.0;
        let mut base = Big::from_digits("1", 10)?;
        for part in body.rsplit(':') {
            let digit = python_float(part, text)?;
            total += digit * base.to_f64()?;
            base.mul_add(60, 0)?;
        }
        sign(total)
    } else {
        sign(python_float(body, text)?)
    };
    Ok(Value::Float(f))
}

/// Python's `float(text)`.
fn python_float(text: &str, original: &str) -> Result<f64, ScalarError> {
    text.trim()
        .parse::<f64>()
        .map_err(|_| invalid(format!("it is not a number: {:?}", shorten(original))))
}

/// Python's `repr()` of a float: the shortest text that reads back as the
/// same number, in positional notation from 1e-4 up to 1e16.
pub(crate) fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // `{:e}` gives the shortest round-trip digits: `-1.2345e-7`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        if exp < 0 {
            let zeros = "0".repeat((-exp - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        } else {
            let point = exp as usize + 1;
            if digits.len() <= point {
                let zeros = "0".repeat(point - digits.len());
                format!("{sign}{digits}{zeros}.0")
            } else {
                format!("{sign}{}.{}", &digits[..point], &digits[point..])
            }
        }
    } else {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs())
    }
}

// ---------------------------------------------------------------------------
// Timestamps.

#[derive(Debug)]
struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    month_digits: usize,
    day_digits: usize,
    /// hour, minute, second, microsecond, offset in minutes (`None`: naive).
    time: Option<(u32, u32, u32, u32, Option<i32>)>,
}

/// The constructor's `timestamp_regexp`; the resolver's is the same with
/// the time required unless month and day have two digits each.
fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let mut c = Cursor::new(text);
    // `min` to `max` digits: their value and how many there were.
    let number = |c: &mut Cursor, min: usize, max: usize| -> Option<(u32, usize)> {
        let start = c.at;
        let mut value = 0;
        while c.at - start < max {
            match c.peek() {
                Some(b) if b.is_ascii_digit() => value = value * 10 + u32::from(b - b'0'),
                _ => break,
            }
            c.at += 1;
        }
        let len = c.at - start;
        (len >= min).then_some((value, len))
    };
    let (year, _) = number(&mut c, 4, 4)?;
    if !c.eat(b'-') {
        return None;
    }
    let (month, month_digits) = number(&mut c, 1, 2)?;
    if !c.eat(b'-') {
        return None;
    }
    let (day, day_digits) = number(&mut c, 1, 2)?;
    let mut ts = Timestamp {
        year,
        month,
        day,
        month_digits,
        day_digits,
        time: None,
    };
    if c.done() {
        return Some(ts);
    }
    if !(c.eat_if(|b| b == b'T' || b == b't') || c.eat_while(|b| b == b' ' || b == b'\t') > 0) {
        return None;
    }
    let (hour, _) = number(&mut c, 1, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let (minute, _) = number(&mut c, 2, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let (second, _) = number(&mut c, 2, 2)?;
    let mut micro = 0;
    if c.eat(b'.') {
        let start = c.at;
        c.eat_while(|b| b.is_ascii_digit());
        let fraction = &text[start..c.at];
        if !fraction.is_empty() {
            let mut six: String = fraction.chars().take(6).collect();
            while six.len() < 6 {
                six.push('0');
            }
            micro = six.parse().ok()?;
        }
    }
    let before_zone = c.at;
    c.eat_while(|b| b == b' ' || b == b'\t');
    let offset = if c.eat(b'Z') {
        Some(0)
    } else if let Some(sign) = c.peek().filter(|b| *b == b'-' || *b == b'+') {
        c.at += 1;
        let (h, _) = number(&mut c, 1, 2)?;
        let m = if c.eat(b':') {
            number(&mut c, 2, 2)?.0
        } else {
            0
        };
        let minutes = (h * 60 + m) as i32;
        Some(if sign == b'-' { -minutes } else { minutes })
    } else {
        c.at = before_zone;
        None
    };
    if !c.done() {
        return None;
    }
    ts.time = Some((hour, minute, second, micro, offset));
    Some(ts)
}

impl Timestamp {
    /// Python's `date`/`datetime` checks, then `isoformat()`.
    fn isoformat(&self) -> Result<String, ScalarError> {
        let fail = |why: &str| {
            Err(invalid(format!(
                "it is a timestamp, but not a valid one: {why} (quote it to make it a string)"
            )))
        };
        if let Some((_, _, _, _, Some(offset))) = self.time {
            if offset.abs() >= 24 * 60 {
                return fail("the UTC offset must be less than 24 hours");
            }
        }
        if !(1..=9999).contains(&self.year) {
            return fail(&format!("year {} is out of range", self.year));
        }
        if !(1..=12).contains(&self.month) {
            return fail("month must be in 1..12");
        }
        let leap = matches!(
            (self.year % 4, self.year % 100, self.year % 400),
            (0, 1.., _) | (_, _, 0)
        );
        let days = match self.month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if !(1..=days).contains(&self.day) {
            return fail("day is out of range for month");
        }
        let date = format!("{:04}-{:02}-{:02}", self.year, self.month, self.day);
        let Some((hour, minute, second, micro, offset)) = self.time else {
            return Ok(date);
        };
        if hour > 23 {
            return fail("hour must be in 0..23");
        }
        if minute > 59 {
            return fail("minute must be in 0..59");
        }
        if second > 59 {
            return fail("second must be in 0..59");
        }
        let mut out = format!("{date}T{hour:02}:{minute:02}:{second:02}");
        if micro > 0 {
            out.push_str(&format!(".{micro:06}"));
        }
        if let Some(offset) = offset {
            let sign = if offset < 0 { '-' } else { '+' };
            let abs = offset.abs();
            out.push_str(&format!("{sign}{:02}:{:02}", abs / 60, abs % 60));
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// Integers beyond i64, kept small on purpose: Python refuses more than 4300
// decimal digits, so every operation is bounded.

struct Big {
    negative: bool,
    /// Base 10⁹, least significant first.
    limbs: Vec<u32>,
}

const LIMB: u64 = 1_000_000_000;

fn too_large() -> ScalarError {
    invalid(format!(
        "the integer has more than {MAX_INT_DIGITS} digits, which Python (and so Ansible) refuses to convert"
    ))
}

impl Big {
    fn zero() -> Self {
        Big {
            negative: false,
            limbs: Vec::new(),
        }
    }

    fn from_digits(digits: &str, base: u32) -> Result<Self, ScalarError> {
        let significant = digits.trim_start_matches('0');
        // Refuse before converting: the decimal result would be too long.
        let max_digits = match base {
            2 => MAX_INT_DIGITS * 10 / 3 + 4,
            8 => MAX_INT_DIGITS * 10 / 9 + 4,
            16 => MAX_INT_DIGITS * 5 / 6 + 4,
            _ => MAX_INT_DIGITS,
        };
        if significant.len() > max_digits {
            return Err(too_large());
        }
        let mut n = Big::zero();
        for c in significant.chars() {
            let d = c.to_digit(base).ok_or_else(too_large)?;
            n.mul_add(base, d)?;
        }
        Ok(n)
    }

    fn mul_add(&mut self, mul: u32, add: u32) -> Result<(), ScalarError> {
        let mut carry = add as u64;
        for limb in &mut self.limbs {
            let v = *limb as u64 * mul as u64 + carry;
            *limb = (v % LIMB) as u32;
            carry = v / LIMB;
        }
        while carry > 0 {
            self.limbs.push((carry % LIMB) as u32);
            carry /= LIMB;
        }
        if self.limbs.len() > MAX_LIMBS {
            return Err(too_large());
        }
        Ok(())
    }

    /// Adds a number of the same or opposite sign (sexagesimal parts are
    /// non-negative unless a tagged scalar writes `1:-5`).
    fn add_signed(&mut self, other: &Big) -> Result<(), ScalarError> {
        if self.limbs.is_empty() {
            self.negative = other.negative;
        }
        if self.negative == other.negative {
            let mut carry = 0u64;
            for i in 0..self.limbs.len().max(other.limbs.len()) {
                let v = *self.limbs.get(i).unwrap_or(&0) as u64
                    + *other.limbs.get(i).unwrap_or(&0) as u64
                    + carry;
                if i < self.limbs.len() {
                    self.limbs[i] = (v % LIMB) as u32;
                } else {
                    self.limbs.push((v % LIMB) as u32);
                }
                carry = v / LIMB;
            }
            if carry > 0 {
                self.limbs.push(carry as u32);
            }
        } else {
            // |self| - |other|, or the reverse, keeping the larger's sign.
            let (big, small, negative) = if Big::cmp_abs(&self.limbs, &other.limbs).is_ge() {
                (self.limbs.clone(), &other.limbs, self.negative)
            } else {
                (other.limbs.clone(), &self.limbs, other.negative)
            };
            let mut out = big;
            let mut borrow = 0i64;
            for (i, limb) in out.iter_mut().enumerate() {
                let mut v = *limb as i64 - borrow - *small.get(i).unwrap_or(&0) as i64;
                borrow = 0;
                if v < 0 {
                    v += LIMB as i64;
                    borrow = 1;
                }
                *limb = v as u32;
            }
            self.limbs = out;
            self.negative = negative;
        }
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
        if self.limbs.len() > MAX_LIMBS {
            return Err(too_large());
        }
        Ok(())
    }

    fn cmp_abs(a: &[u32], b: &[u32]) -> std::cmp::Ordering {
        let trim = |x: &[u32]| x.len() - x.iter().rev().take_while(|l| **l == 0).count();
        let (la, lb) = (trim(a), trim(b));
        la.cmp(&lb)
            .then_with(|| a[..la].iter().rev().cmp(b[..lb].iter().rev()))
    }

    fn decimal(&self) -> String {
        let mut out = String::new();
        match self.limbs.split_last() {
            None => out.push('0'),
            Some((top, rest)) => {
                out.push_str(&top.to_string());
                for limb in rest.iter().rev() {
                    out.push_str(&format!("{limb:09}"));
                }
            }
        }
        out
    }

    /// Python's `float(int)`: correctly rounded, an error past `f64::MAX`.
    fn to_f64(&self) -> Result<f64, ScalarError> {
        let f: f64 = self.decimal().parse().unwrap_or(f64::INFINITY);
        if f.is_infinite() {
            return Err(invalid(
                "the number is too large to convert to float (Python: OverflowError)".into(),
            ));
        }
        Ok(if self.negative { -f } else { f })
    }

    fn into_value(self) -> Result<Value, ScalarError> {
        let digits = self.decimal();
        if digits.len() > MAX_INT_DIGITS {
            return Err(too_large());
        }
        let negative = self.negative && digits != "0";
        let text = if negative {
            format!("-{digits}")
        } else {
            digits
        };
        Ok(match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::BigInt(text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Value {
        match resolve_plain(text).unwrap() {
            Plain::Value(v) => v,
            Plain::Timestamp(t) => Value::String(format!("timestamp {t}")),
            Plain::Merge => Value::String("merge".into()),
        }
    }

    #[test]
    fn numbers_need_what_pyyaml_needs() {
        for s in [
            "1e40987", "123e4567", "5e10", "1e+5", "12e3", "0o17", "1.5e3", "-.5", "+.5",
        ] {
            assert_eq!(plain(s), Value::String(s.into()), "{s}");
        }
        assert_eq!(plain("0b101"), Value::Int(5));
        assert_eq!(plain("017"), Value::Int(15));
        assert_eq!(plain("1:30"), Value::Int(90));
        assert_eq!(plain("1_000"), Value::Int(1000));
        assert_eq!(plain("0x_1F"), Value::Int(31));
        assert_eq!(plain("1.5e+3"), Value::Float(1500.0));
        assert_eq!(plain("1:30.5"), Value::Float(90.5));
        assert_eq!(
            plain("99999999999999999999999"),
            Value::BigInt("99999999999999999999999".into())
        );
        assert_eq!(
            plain("-0x8000000000000001"),
            Value::BigInt("-9223372036854775809".into())
        );
        assert_eq!(plain("-0x8000000000000000"), Value::Int(i64::MIN));
        assert!(resolve_plain("0b_").is_err());
    }

    #[test]
    fn timestamps_become_isoformat() {
        assert_eq!(
            plain("2001-12-14"),
            Value::String("timestamp 2001-12-14".into())
        );
        assert_eq!(
            plain("2001-12-14 21:59:43.10 -5"),
            Value::String("timestamp 2001-12-14T21:59:43.100000-05:00".into())
        );
        assert_eq!(plain("2001-1-1"), Value::String("2001-1-1".into()));
        assert!(resolve_plain("2001-02-29").is_err());
    }

    #[test]
    fn float_repr_is_pythons() {
        for (f, s) in [
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-1.5e-7, "-1.5e-07"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1.5, "1.5"),
            (f64::MAX, "1.7976931348623157e+308"),
        ] {
            assert_eq!(python_float_repr(f), s);
        }
    }
}
