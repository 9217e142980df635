//! Checks of the parameter values a task gives against the template's
//! `Parameters`, as CloudFormation would make them before an update, so a
//! plan can say "this will be rejected" instead of "this will change".

use indexmap::IndexMap;

use super::ParamInput;
use crate::{Json, Template};

/// A problem CloudFormation would reject the stack update for.
///
/// `value` is the offending value (or list item) for display; it is `None`
/// for `NoEcho` parameters, whose values must never be shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamProblem {
    pub parameter: String,
    pub kind: ParamProblemKind,
    pub value: Option<String>,
    /// For list types, the index of the offending item.
    pub item: Option<usize>,
    /// The template's `ConstraintDescription`, which CloudFormation shows
    /// instead of the bare constraint.
    pub constraint_description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamProblemKind {
    /// The task gives a parameter the template does not declare.
    UnknownParameter {
        suggestion: Option<String>,
    },
    /// A parameter without `Default` that the task does not give.
    Missing,
    NotAllowedValue {
        allowed: Vec<String>,
    },
    PatternMismatch {
        pattern: String,
    },
    TooShort {
        min: u64,
        length: usize,
    },
    TooLong {
        max: u64,
        length: usize,
    },
    /// Not a number, for `Number` and `List<Number>`.
    NotANumber,
    TooSmall {
        min: f64,
    },
    TooLarge {
        max: f64,
    },
}

/// A check that could not be made for a parameter, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedCheck {
    pub parameter: String,
    pub checks: Vec<Check>,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    AllowedValues,
    AllowedPattern,
    Length,
    Range,
    NumberShape,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The value is known only after earlier tasks have been applied.
    UnknownValue,
    /// `use_previous_value`: the value is the stack's, which we do not see.
    UsePreviousValue,
    /// An SSM parameter type: the value given is a parameter name that
    /// CloudFormation resolves at deploy time.
    ResolvedAtDeploy,
    /// The template's `AllowedPattern` uses Java regex syntax that the
    /// `regex` crate does not support (look-around, back-references, ...).
    UnsupportedPattern { pattern: String },
}

/// What [`check_parameters`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParamReport {
    pub problems: Vec<ParamProblem>,
    pub skipped: Vec<SkippedCheck>,
}

impl ParamReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The constraints of one declared parameter, read from the template body
/// (the `Parameter` of lib.rs only keeps what other crates need).
#[derive(Debug, Clone, Default)]
struct Spec {
    kind: String,
    default: Option<String>,
    no_echo: bool,
    allowed_values: Option<Vec<String>>,
    allowed_pattern: Option<String>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    min_value: Option<f64>,
    max_value: Option<f64>,
    constraint_description: Option<String>,
}

fn scalar(value: &Json) -> Option<String> {
    match value {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(value: &Json) -> Option<f64> {
    match value {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => parse_number(s),
        _ => None,
    }
}

/// CloudFormation numbers: integers and decimals (no `inf`/`NaN`, which
/// Rust's parser would accept).
fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn specs(template: &Template) -> IndexMap<String, Spec> {
    let mut out = IndexMap::new();
    let Some(section) = template.body.get("Parameters").and_then(Json::as_object) else {
        return out;
    };
    for (name, decl) in section {
        let get = |k: &str| decl.get(k);
        let declared = template.parameters.get(name);
        out.insert(
            name.clone(),
            Spec {
                kind: declared
                    .map(|p| p.kind.clone())
                    .unwrap_or_else(|| "String".into()),
                default: declared.and_then(|p| p.default.clone()),
                no_echo: declared.is_some_and(|p| p.no_echo),
                allowed_values: get("AllowedValues")
                    .and_then(Json::as_array)
                    .map(|items| items.iter().filter_map(scalar).collect()),
                allowed_pattern: get("AllowedPattern").and_then(scalar),
                min_length: get("MinLength").and_then(number).map(|n| n as u64),
                max_length: get("MaxLength").and_then(number).map(|n| n as u64),
                min_value: get("MinValue").and_then(number),
                max_value: get("MaxValue").and_then(number),
                constraint_description: get("ConstraintDescription").and_then(scalar),
            },
        );
    }
    out
}

impl Spec {
    fn is_list(&self) -> bool {
        self.kind == "CommaDelimitedList" || self.kind.starts_with("List<")
    }

    fn is_number(&self) -> bool {
        self.kind == "Number" || self.kind == "List<Number>"
    }

    /// The checks this parameter's declaration asks for.
    fn checks(&self) -> Vec<Check> {
        let mut out = Vec::new();
        if self.allowed_values.is_some() {
            out.push(Check::AllowedValues);
        }
        if self.allowed_pattern.is_some() {
            out.push(Check::AllowedPattern);
        }
        if self.min_length.is_some() || self.max_length.is_some() {
            out.push(Check::Length);
        }
        if self.min_value.is_some() || self.max_value.is_some() {
            out.push(Check::Range);
        }
        if self.is_number() {
            out.push(Check::NumberShape);
        }
        out
    }
}

/// The closest declared name, for "did you mean". Case-insensitive, since
/// a wrong case is the commonest slip and CloudFormation names are
/// case-sensitive.
fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a String>) -> Option<String> {
    let lower = name.to_lowercase();
    candidates
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

/// CloudFormation matches `AllowedPattern` against the whole value (Java's
/// `String.matches`), so the pattern is anchored.
fn whole_value_regex(pattern: &str) -> Option<regex::Regex> {
    regex::Regex::new(&format!("^(?:{pattern})$")).ok()
}

/// Checks `given` against `template`'s parameter declarations.
///
/// Values known only after apply (`ParamInput::Unknown`) and previous
/// values (`ParamInput::UsePrevious`) cannot be checked: the checks their
/// declaration asks for are listed in `skipped`.
pub fn check_parameters(template: &Template, given: &IndexMap<String, ParamInput>) -> ParamReport {
    let specs = specs(template);
    let mut report = ParamReport::default();
    for name in given.keys() {
        if !specs.contains_key(name) {
            report.problems.push(ParamProblem {
                parameter: name.clone(),
                kind: ParamProblemKind::UnknownParameter {
                    suggestion: suggest(name, specs.keys().filter(|k| !given.contains_key(*k))),
                },
                value: None,
                item: None,
                constraint_description: None,
            });
        }
    }
    for (name, spec) in &specs {
        let problem = |kind, value: Option<&str>, item| ParamProblem {
            parameter: name.clone(),
            kind,
            value: if spec.no_echo {
                None
            } else {
                value.map(str::to_string)
            },
            item,
            constraint_description: spec.constraint_description.clone(),
        };
        let default = spec.default.as_ref().map(|d| ParamInput::Known(d.clone()));
        // Without a value, CloudFormation uses (and checks) the default.
        let value = match given.get(name).or(default.as_ref()) {
            None => {
                report
                    .problems
                    .push(problem(ParamProblemKind::Missing, None, None));
                continue;
            }
            Some(ParamInput::Known(v)) => v,
            Some(input) => {
                let checks = spec.checks();
                if !checks.is_empty() {
                    report.skipped.push(SkippedCheck {
                        parameter: name.clone(),
                        checks,
                        reason: if *input == ParamInput::UsePrevious {
                            SkipReason::UsePreviousValue
                        } else {
                            SkipReason::UnknownValue
                        },
                    });
                }
                continue;
            }
        };
        if spec.kind.starts_with("AWS::SSM::Parameter::Value") {
            let checks = spec.checks();
            if !checks.is_empty() {
                report.skipped.push(SkippedCheck {
                    parameter: name.clone(),
                    checks,
                    reason: SkipReason::ResolvedAtDeploy,
                });
            }
            continue;
        }
        let items: Vec<(Option<usize>, &str)> = if spec.is_list() {
            if value.is_empty() {
                Vec::new()
            } else {
                value
                    .split(',')
                    .map(str::trim)
                    .enumerate()
                    .map(|(i, v)| (Some(i), v))
                    .collect()
            }
        } else {
            vec![(None, value.as_str())]
        };
        let pattern = match &spec.allowed_pattern {
            Some(p) => match whole_value_regex(p) {
                Some(re) => Some(re),
                None => {
                    report.skipped.push(SkippedCheck {
                        parameter: name.clone(),
                        checks: vec![Check::AllowedPattern],
                        reason: SkipReason::UnsupportedPattern { pattern: p.clone() },
                    });
                    None
                }
            },
            None => None,
        };
        for (item, v) in items {
            if let Some(allowed) = &spec.allowed_values {
                if !allowed.iter().any(|a| a == v) {
                    let kind = ParamProblemKind::NotAllowedValue {
                        // The allowed values are in the template for anyone
                        // to read; only the given value is secret.
                        allowed: allowed.clone(),
                    };
                    report.problems.push(problem(kind, Some(v), item));
                }
            }
            if let (Some(re), Some(p)) = (&pattern, &spec.allowed_pattern) {
                if !re.is_match(v) {
                    let kind = ParamProblemKind::PatternMismatch { pattern: p.clone() };
                    report.problems.push(problem(kind, Some(v), item));
                }
            }
            // Java's String.length counts UTF-16 units.
            let length = v.encode_utf16().count();
            if let Some(min) = spec.min_length {
                if (length as u64) < min {
                    let kind = ParamProblemKind::TooShort { min, length };
                    report.problems.push(problem(kind, Some(v), item));
                }
            }
            if let Some(max) = spec.max_length {
                if (length as u64) > max {
                    let kind = ParamProblemKind::TooLong { max, length };
                    report.problems.push(problem(kind, Some(v), item));
                }
            }
            if spec.is_number() {
                match parse_number(v) {
                    None => {
                        report
                            .problems
                            .push(problem(ParamProblemKind::NotANumber, Some(v), item))
                    }
                    Some(n) => {
                        if let Some(min) = spec.min_value.filter(|min| n < *min) {
                            let kind = ParamProblemKind::TooSmall { min };
                            report.problems.push(problem(kind, Some(v), item));
                        }
                        if let Some(max) = spec.max_value.filter(|max| n > *max) {
                            let kind = ParamProblemKind::TooLarge { max };
                            report.problems.push(problem(kind, Some(v), item));
                        }
                    }
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    const TEMPLATE: &str = r#"
Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prod]
  Prefix:
    Type: String
    Default: cicd
    AllowedPattern: "[a-z0-9][a-z0-9-]{0,19}"
    ConstraintDescription: lowercase letters, digits and hyphens
  Password:
    Type: String
    NoEcho: true
    MinLength: 8
    MaxLength: 12
  Count:
    Type: Number
    Default: 2
    MinValue: 1
    MaxValue: 10
  Ports:
    Type: List<Number>
    Default: "80"
    MaxValue: 65535
  Zones:
    Type: CommaDelimitedList
    Default: a
    AllowedValues: [a, b, c]
  Ami:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /ami
    AllowedPattern: "/.*"
  Fancy:
    Type: String
    Default: x
    AllowedPattern: "(?=x)x"
Resources: {}
"#;

    fn known(pairs: &[(&str, &str)]) -> IndexMap<String, ParamInput> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), ParamInput::Known(v.to_string())))
            .collect()
    }

    fn kinds(report: &ParamReport) -> Vec<(String, ParamProblemKind)> {
        report
            .problems
            .iter()
            .map(|p| (p.parameter.clone(), p.kind.clone()))
            .collect()
    }

    #[test]
    fn valid_values_pass() {
        let t = parse(TEMPLATE).unwrap();
        let report = check_parameters(
            &t,
            &known(&[
                ("Env", "dev"),
                ("Password", "secret123"),
                ("Count", "10"),
                ("Ports", "80, 443"),
                ("Zones", "a,b"),
            ]),
        );
        assert_eq!(kinds(&report), []);
        assert!(report.is_ok());
        // Defaults are checked too; an SSM name resolves at deploy time and
        // the look-ahead pattern cannot be checked here.
        assert_eq!(report.skipped[0].reason, SkipReason::ResolvedAtDeploy);
        assert_eq!(
            report.skipped[1..],
            [SkippedCheck {
                parameter: "Fancy".into(),
                checks: vec![Check::AllowedPattern],
                reason: SkipReason::UnsupportedPattern {
                    pattern: "(?=x)x".into()
                }
            }]
        );
    }

    #[test]
    fn unknown_and_missing_names() {
        let t = parse(TEMPLATE).unwrap();
        let report = check_parameters(&t, &known(&[("env", "dev"), ("Nope", "1")]));
        assert_eq!(
            kinds(&report),
            [
                (
                    "env".into(),
                    ParamProblemKind::UnknownParameter {
                        suggestion: Some("Env".into())
                    }
                ),
                (
                    "Nope".into(),
                    ParamProblemKind::UnknownParameter { suggestion: None }
                ),
                ("Env".into(), ParamProblemKind::Missing),
                ("Password".into(), ParamProblemKind::Missing),
            ]
        );
    }

    #[test]
    fn constraint_violations() {
        let t = parse(TEMPLATE).unwrap();
        let report = check_parameters(
            &t,
            &known(&[
                ("Env", "test"),
                ("Prefix", "Bad_Prefix"),
                ("Password", "short"),
                ("Count", "11"),
                ("Ports", "80,x,70000"),
                ("Zones", "a, d"),
            ]),
        );
        assert_eq!(
            kinds(&report),
            [
                (
                    "Env".into(),
                    ParamProblemKind::NotAllowedValue {
                        allowed: vec!["dev".into(), "prod".into()]
                    }
                ),
                (
                    "Prefix".into(),
                    ParamProblemKind::PatternMismatch {
                        pattern: "[a-z0-9][a-z0-9-]{0,19}".into()
                    }
                ),
                (
                    "Password".into(),
                    ParamProblemKind::TooShort { min: 8, length: 5 }
                ),
                ("Count".into(), ParamProblemKind::TooLarge { max: 10.0 }),
                ("Ports".into(), ParamProblemKind::NotANumber),
                ("Ports".into(), ParamProblemKind::TooLarge { max: 65535.0 }),
                (
                    "Zones".into(),
                    ParamProblemKind::NotAllowedValue {
                        allowed: vec!["a".into(), "b".into(), "c".into()]
                    }
                ),
            ]
        );
        let prefix = &report.problems[1];
        assert_eq!(prefix.value.as_deref(), Some("Bad_Prefix"));
        assert_eq!(
            prefix.constraint_description.as_deref(),
            Some("lowercase letters, digits and hyphens")
        );
        let zones = report.problems.last().unwrap();
        assert_eq!((zones.item, zones.value.as_deref()), (Some(1), Some("d")));
    }

    #[test]
    fn pattern_matches_the_whole_value() {
        let t =
            parse("Parameters:\n  P:\n    Type: String\n    AllowedPattern: '[a-z]+'\n").unwrap();
        let report = check_parameters(&t, &known(&[("P", "abc1")]));
        assert_eq!(report.problems.len(), 1);
        let report = check_parameters(&t, &known(&[("P", "abc")]));
        assert!(report.is_ok());
        // Java's inline flags work too.
        let t = parse("Parameters:\n  P:\n    Type: String\n    AllowedPattern: '(?i)[a-z]+'\n")
            .unwrap();
        let report = check_parameters(&t, &known(&[("P", "ABC")]));
        assert_eq!(report, ParamReport::default());
    }

    #[test]
    fn no_echo_values_never_appear() {
        let t = parse(TEMPLATE).unwrap();
        let report = check_parameters(
            &t,
            &known(&[("Env", "dev"), ("Password", "much-too-long-secret")]),
        );
        assert_eq!(
            kinds(&report),
            [(
                "Password".into(),
                ParamProblemKind::TooLong {
                    max: 12,
                    length: 20
                }
            )]
        );
        assert_eq!(report.problems[0].value, None);
        assert!(!format!("{report:?}").contains("much-too-long-secret"));
    }

    #[test]
    fn unknown_values_are_skipped_with_their_checks() {
        let t = parse(TEMPLATE).unwrap();
        let mut given = known(&[("Env", "dev")]);
        given.insert("Password".into(), ParamInput::Unknown);
        given.insert("Count".into(), ParamInput::UsePrevious);
        given.insert("Ami".into(), ParamInput::Known("/other".into()));
        let report = check_parameters(&t, &given);
        assert!(report.is_ok());
        let skipped: Vec<_> = report
            .skipped
            .iter()
            .map(|s| (s.parameter.as_str(), s.checks.clone(), s.reason.clone()))
            .collect();
        assert_eq!(
            skipped,
            [
                ("Password", vec![Check::Length], SkipReason::UnknownValue),
                (
                    "Count",
                    vec![Check::Range, Check::NumberShape],
                    SkipReason::UsePreviousValue
                ),
                (
                    "Ami",
                    vec![Check::AllowedPattern],
                    SkipReason::ResolvedAtDeploy
                ),
                (
                    "Fancy",
                    vec![Check::AllowedPattern],
                    SkipReason::UnsupportedPattern {
                        pattern: "(?=x)x".into()
                    }
                ),
            ]
        );
    }

    #[test]
    fn real_template_constraints() {
        let text = include_str!("../../../../templates/cicd_s3_buckets.template");
        let t = parse(text).unwrap();
        let report = check_parameters(
            &t,
            &known(&[
                ("BucketNamePrefix", "cicd2"),
                ("NonProdAccountId", "222222222222"),
                ("ProdAccountId", "3333"),
                ("KmsKeyArn", "arn:aws:kms:eu-west-1:111111111111:key/abc"),
            ]),
        );
        assert_eq!(
            kinds(&report),
            [(
                "ProdAccountId".into(),
                ParamProblemKind::PatternMismatch {
                    pattern: "^[0-9]{12}$".into()
                }
            )]
        );
    }
}
