//! Static evaluation of template expressions: intrinsic functions are
//! worked out as far as parameter values, pseudo parameters and mappings
//! allow; what CloudFormation only knows while applying (resource
//! attributes, imports, availability zones, values of earlier tasks) stays
//! an [`Unknown`] that remembers its expression, so two sides can still be
//! compared.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use indexmap::IndexMap;
use serde_json::{json, Map};

use crate::{Json, Template};

/// An evaluated template value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
    List(Vec<Val>),
    Map(IndexMap<String, Val>),
    /// Known only while CloudFormation applies the template.
    Unknown(Unknown),
}

/// A value known only after apply: the expression with everything known
/// filled in, and what it depends on that may change between two sides.
///
/// Strings made of literals and `Ref`/`GetAtt`/pseudo-parameter values are
/// normalised to `{"Fn::Sub": "text ${Name} ${Res.Attr}"}`, so that
/// `!Join`, `!Sub` and `!Ref` spellings of one value compare equal.
#[derive(Debug, Clone, PartialEq)]
pub struct Unknown {
    pub expr: Json,
    pub deps: BTreeSet<Dep>,
}

/// Something an unknown value depends on that a plan may change.
/// Pseudo parameters, imports and availability zones are the same on both
/// sides of an update and are not dependencies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dep {
    /// A resource's `Ref` or `GetAtt` value.
    Resource(String),
    /// A parameter whose value is not known here.
    Parameter(String),
}

impl Val {
    /// The value as JSON; unknown parts as their expressions.
    pub fn to_json(&self) -> Json {
        match self {
            Val::Null => Json::Null,
            Val::Bool(b) => Json::Bool(*b),
            Val::Number(n) => Json::Number(n.clone()),
            Val::Str(s) => Json::String(s.clone()),
            Val::List(items) => Json::Array(items.iter().map(Val::to_json).collect()),
            Val::Map(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect::<Map<_, _>>(),
            ),
            Val::Unknown(u) => u.expr.clone(),
        }
    }

    /// A literal JSON value (a mapping entry, a parameter default).
    pub fn from_json(value: &Json) -> Val {
        match value {
            Json::Null => Val::Null,
            Json::Bool(b) => Val::Bool(*b),
            Json::Number(n) => Val::Number(n.clone()),
            Json::String(s) => Val::Str(s.clone()),
            Json::Array(items) => Val::List(items.iter().map(Val::from_json).collect()),
            Json::Object(map) => Val::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Val::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Whether any part of the value is unknown.
    pub fn has_unknown(&self) -> bool {
        match self {
            Val::Unknown(_) => true,
            Val::List(items) => items.iter().any(Val::has_unknown),
            Val::Map(map) => map.values().any(Val::has_unknown),
            _ => false,
        }
    }

    /// Everything unknown parts of the value depend on.
    pub fn deps(&self) -> BTreeSet<Dep> {
        let mut out = BTreeSet::new();
        self.collect_deps(&mut out);
        out
    }

    fn collect_deps(&self, out: &mut BTreeSet<Dep>) {
        match self {
            Val::Unknown(u) => out.extend(u.deps.iter().cloned()),
            Val::List(items) => items.iter().for_each(|v| v.collect_deps(out)),
            Val::Map(map) => map.values().for_each(|v| v.collect_deps(out)),
            _ => {}
        }
    }

    /// The text of a scalar, as CloudFormation passes scalars to resources
    /// (`80` and `"80"`, `true` and `"true"` are the same value).
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Val::Str(s) => Some(s.clone()),
            Val::Number(n) => Some(n.to_string()),
            Val::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// An unknown value with no dependencies and no way to be known here.
fn opaque(expr: Json, deps: BTreeSet<Dep>) -> Val {
    Val::Unknown(Unknown { expr, deps })
}

/// A piece of a string being built by `Fn::Sub`/`Fn::Join`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    /// `${Name}` or `${Resource.Attribute}`: a value known after apply.
    Hole(String),
}

/// The pieces of a normalised string-valued unknown
/// (`{"Fn::Sub": "text"}` with no variables).
pub fn sub_pieces(value: &Val) -> Option<Vec<Piece>> {
    let Val::Unknown(u) = value else {
        return None;
    };
    let text = u.expr.as_object()?.get("Fn::Sub")?.as_str()?;
    parse_sub(text)
}

/// Splits a `Fn::Sub` string into literals and `${...}` holes (`${!x}` is
/// the literal `${x}`). `None` for an unterminated `${`.
pub fn parse_sub(text: &str) -> Option<Vec<Piece>> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        lit.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            lit.push_str("${");
            lit.push_str(literal);
            lit.push('}');
        } else {
            if !lit.is_empty() {
                out.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            out.push(Piece::Hole(name.trim().to_string()));
        }
        rest = &after[end + 1..];
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Some(out)
}

/// Builds a string from known text and holes; a string-valued unknown that
/// is not made of holes spoils it (the caller then keeps the function).
#[derive(Default)]
struct Text {
    pieces: Vec<Piece>,
    deps: BTreeSet<Dep>,
    spoiled: bool,
}

impl Text {
    fn push_str(&mut self, s: &str) {
        if let Some(Piece::Lit(last)) = self.pieces.last_mut() {
            last.push_str(s);
        } else if !s.is_empty() {
            self.pieces.push(Piece::Lit(s.to_string()));
        }
    }

    /// Appends a value; `false` when it is not string-like at all (a list
    /// or a map), which CloudFormation rejects.
    fn push(&mut self, value: &Val) -> bool {
        if let Some(text) = value.scalar_text() {
            self.push_str(&text);
            return true;
        }
        match value {
            Val::Unknown(u) => {
                self.deps.extend(u.deps.iter().cloned());
                match sub_pieces(value) {
                    Some(pieces) => {
                        for piece in pieces {
                            match piece {
                                Piece::Lit(s) => self.push_str(&s),
                                hole => self.pieces.push(hole),
                            }
                        }
                    }
                    None => self.spoiled = true,
                }
                true
            }
            Val::Null => true,
            _ => false,
        }
    }

    fn finish(self) -> Option<Val> {
        if self.spoiled {
            return None;
        }
        if !self.pieces.iter().any(|p| matches!(p, Piece::Hole(_))) {
            let mut out = String::new();
            for piece in &self.pieces {
                if let Piece::Lit(s) = piece {
                    out.push_str(s);
                }
            }
            return Some(Val::Str(out));
        }
        Some(opaque(
            json!({ "Fn::Sub": sub_text(&self.pieces) }),
            self.deps,
        ))
    }
}

/// Concatenates string-like values (known text and string-valued
/// unknowns); `None` when a part is not string-like.
pub fn concat(parts: &[Val]) -> Option<Val> {
    let mut text = Text::default();
    for part in parts {
        if matches!(part, Val::Null) || !text.push(part) {
            return None;
        }
    }
    text.finish()
}

/// Writes pieces back as a `Fn::Sub` string.
pub fn sub_text(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Lit(s) => out.push_str(&s.replace("${", "${!")),
            Piece::Hole(name) => {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
            }
        }
    }
    out
}

/// A hole for a value known after apply, in normalised form.
pub fn hole(name: &str, deps: BTreeSet<Dep>) -> Val {
    opaque(json!({ "Fn::Sub": format!("${{{name}}}") }), deps)
}

/// Values of pseudo parameters the caller knows. Missing ones are unknown
/// but the same on both sides of an update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pseudo {
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub stack_name: Option<String>,
    /// Derived from the region when not given (`cn-*` is `aws-cn`,
    /// `us-gov-*` is `aws-us-gov`, else `aws`).
    pub partition: Option<String>,
}

impl Pseudo {
    fn partition(&self) -> Option<String> {
        self.partition.clone().or_else(|| {
            let region = self.region.as_deref()?;
            Some(if region.starts_with("cn-") {
                "aws-cn".into()
            } else if region.starts_with("us-gov-") {
                "aws-us-gov".into()
            } else {
                "aws".into()
            })
        })
    }

    /// The value of a pseudo parameter: `None` for `AWS::NoValue`, an
    /// unknown for ones not given, `Err` for a name that is not one.
    fn value(&self, name: &str) -> Result<Option<Val>, ()> {
        let known = |v: Option<String>| {
            Some(
                v.map(Val::Str)
                    .unwrap_or_else(|| hole(name, BTreeSet::new())),
            )
        };
        Ok(match name {
            "AWS::NoValue" => None,
            "AWS::AccountId" => known(self.account_id.clone()),
            "AWS::Region" => known(self.region.clone()),
            "AWS::StackName" => known(self.stack_name.clone()),
            "AWS::Partition" => known(self.partition()),
            "AWS::URLSuffix" => known(self.partition().map(|p| {
                if p == "aws-cn" {
                    "amazonaws.com.cn".into()
                } else {
                    "amazonaws.com".into()
                }
            })),
            "AWS::StackId" => known(None),
            "AWS::NotificationARNs" => Some(opaque(json!({"Ref": name}), BTreeSet::new())),
            _ => return Err(()),
        })
    }
}

/// Why an expression could not be evaluated; CloudFormation would reject
/// the template for each of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("{function}: malformed arguments")]
    BadArguments { function: String },
    #[error("`{name}` is neither a parameter, a resource nor a pseudo parameter")]
    UnresolvedReference { name: String },
    #[error("condition `{name}` is not defined")]
    UndefinedCondition { name: String },
    #[error("condition `{name}` refers to itself")]
    ConditionCycle { name: String },
    #[error("Fn::FindInMap: no {map}/{top}/{second} in Mappings")]
    MappingNotFound {
        map: String,
        top: String,
        second: String,
    },
    #[error("Fn::Select: index {index} out of range for {len} items")]
    IndexOutOfRange { index: usize, len: usize },
}

/// A condition's value; unknown when it depends on values known after
/// apply (or on pseudo parameters the caller did not give).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    Known(bool),
    Unknown(BTreeSet<Dep>),
}

/// The `Ref` and `GetAtt` values of a resource that are known here (from
/// stack outputs, or predicted from its name property).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceValues {
    pub reference: Option<Val>,
    pub attributes: HashMap<String, Val>,
}

/// Evaluates expressions of one template with one set of parameter values.
pub struct Evaluator<'a> {
    template: &'a Template,
    /// Parameter values; `None` when known only after apply.
    params: IndexMap<String, Option<String>>,
    pseudo: &'a Pseudo,
    resources: HashMap<String, ResourceValues>,
    conditions: RefCell<HashMap<String, Option<Cond>>>,
}

fn bad(function: &str) -> EvalError {
    EvalError::BadArguments {
        function: function.to_string(),
    }
}

impl<'a> Evaluator<'a> {
    /// `params` holds the value of each template parameter (`None`: known
    /// only after apply); a parameter missing from it uses its default.
    pub fn new(
        template: &'a Template,
        params: IndexMap<String, Option<String>>,
        pseudo: &'a Pseudo,
    ) -> Self {
        let mut all = IndexMap::new();
        for (name, decl) in &template.parameters {
            let value = match params.get(name) {
                Some(v) => v.clone(),
                None => decl.default.clone(),
            };
            // SSM parameters resolve at deploy time, to values we do not see.
            let value = value.filter(|_| !decl.resolves_at_deploy());
            all.insert(name.clone(), value);
        }
        Evaluator {
            template,
            params: all,
            pseudo,
            resources: HashMap::new(),
            conditions: RefCell::new(HashMap::new()),
        }
    }

    pub fn template(&self) -> &'a Template {
        self.template
    }

    /// Tells the evaluator what it knows of a resource's `Ref`/`GetAtt`.
    pub fn set_resource(&mut self, name: &str, values: ResourceValues) {
        self.resources.insert(name.to_string(), values);
    }

    pub fn resource(&self, name: &str) -> Option<&ResourceValues> {
        self.resources.get(name)
    }

    fn is_resource(&self, name: &str) -> bool {
        self.template
            .body
            .get("Resources")
            .and_then(|r| r.get(name))
            .is_some()
    }

    /// The value of a pseudo parameter (`None` for `AWS::NoValue`).
    pub fn pseudo(&self, name: &str) -> Option<Val> {
        self.pseudo.value(name).ok().flatten()
    }

    /// Evaluates an expression; `Ok(None)` is `AWS::NoValue` (the property
    /// or list item is left out).
    pub fn eval(&self, expr: &Json) -> Result<Option<Val>, EvalError> {
        match expr {
            Json::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    if let Some(v) = self.eval(item)? {
                        out.push(v);
                    }
                }
                Ok(Some(Val::List(out)))
            }
            Json::Object(map) => {
                if map.len() == 1 {
                    if let Some((key, args)) = map.iter().next() {
                        // `{"Condition": name}` outside `Conditions` is a
                        // plain mapping unless it names a condition.
                        let condition = key == "Condition"
                            && args.as_str().is_some_and(|c| {
                                self.template
                                    .body
                                    .get("Conditions")
                                    .and_then(|cs| cs.get(c))
                                    .is_some()
                            });
                        if key == "Ref" || condition || key.starts_with("Fn::") {
                            return self.function(key, args);
                        }
                    }
                }
                let mut out = IndexMap::new();
                for (k, v) in map {
                    if let Some(v) = self.eval(v)? {
                        out.insert(k.clone(), v);
                    }
                }
                Ok(Some(Val::Map(out)))
            }
            other => Ok(Some(Val::from_json(other))),
        }
    }

    /// Evaluates where a value is required (`AWS::NoValue` is `Null`).
    fn value(&self, expr: &Json) -> Result<Val, EvalError> {
        Ok(self.eval(expr)?.unwrap_or(Val::Null))
    }

    /// The value of `Ref name` (parameter, pseudo parameter or resource).
    pub fn reference(&self, name: &str) -> Result<Option<Val>, EvalError> {
        if let Ok(v) = self.pseudo.value(name) {
            return Ok(v);
        }
        if let Some(value) = self.params.get(name) {
            let decl = self.template.parameters.get(name);
            let is_list = decl.is_some_and(|d| {
                d.kind == "CommaDelimitedList"
                    || d.kind.starts_with("List<")
                    || d.kind.starts_with("AWS::SSM::Parameter::Value<List<")
            });
            return Ok(Some(match value {
                Some(v) if is_list => Val::List(
                    v.split(',')
                        .map(|s| Val::Str(s.trim().to_string()))
                        .collect(),
                ),
                Some(v) => Val::Str(v.clone()),
                None => {
                    let deps = BTreeSet::from([Dep::Parameter(name.to_string())]);
                    if is_list {
                        opaque(json!({"Ref": name}), deps)
                    } else {
                        hole(name, deps)
                    }
                }
            }));
        }
        if self.is_resource(name) {
            let known = self.resources.get(name).and_then(|r| r.reference.clone());
            return Ok(Some(known.unwrap_or_else(|| {
                hole(name, BTreeSet::from([Dep::Resource(name.to_string())]))
            })));
        }
        Err(EvalError::UnresolvedReference {
            name: name.to_string(),
        })
    }

    /// The value of `Fn::GetAtt [resource, attribute]`.
    pub fn attribute(&self, resource: &str, attribute: &str) -> Result<Val, EvalError> {
        if !self.is_resource(resource) {
            return Err(EvalError::UnresolvedReference {
                name: resource.to_string(),
            });
        }
        let known = self
            .resources
            .get(resource)
            .and_then(|r| r.attributes.get(attribute).cloned());
        Ok(known.unwrap_or_else(|| {
            hole(
                &format!("{resource}.{attribute}"),
                BTreeSet::from([Dep::Resource(resource.to_string())]),
            )
        }))
    }

    fn function(&self, name: &str, args: &Json) -> Result<Option<Val>, EvalError> {
        let list = || args.as_array().ok_or_else(|| bad(name));
        Ok(Some(match name {
            "Ref" => {
                let target = args.as_str().ok_or_else(|| bad(name))?;
                return self.reference(target);
            }
            "Condition" => {
                let cond = args.as_str().ok_or_else(|| bad(name))?;
                cond_val(self.condition(cond)?, args)
            }
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => {
                let expr = json!({ name: args });
                cond_val(self.cond_expr(&expr)?, &expr)
            }
            "Fn::If" => {
                let items = list()?;
                let [cond, then, other] = items.as_slice() else {
                    return Err(bad(name));
                };
                let cond_name = cond.as_str().ok_or_else(|| bad(name))?;
                return match self.condition(cond_name)? {
                    Cond::Known(true) => self.eval(then),
                    Cond::Known(false) => self.eval(other),
                    Cond::Unknown(mut deps) => {
                        let branch = |e: &Json| -> Result<Json, EvalError> {
                            Ok(match self.eval(e)? {
                                Some(v) => v.to_json(),
                                None => json!({"Ref": "AWS::NoValue"}),
                            })
                        };
                        for e in [then, other] {
                            if let Some(v) = self.eval(e)? {
                                deps.extend(v.deps());
                            }
                        }
                        Ok(Some(opaque(
                            json!({"Fn::If": [cond_name, branch(then)?, branch(other)?]}),
                            deps,
                        )))
                    }
                };
            }
            "Fn::Sub" => self.sub(args)?,
            "Fn::Join" => {
                let items = list()?;
                let [delimiter, parts] = items.as_slice() else {
                    return Err(bad(name));
                };
                let delimiter = self.value(delimiter)?;
                let parts = self.value(parts)?;
                match (&delimiter, &parts) {
                    (Val::Str(d), Val::List(items)) => {
                        let mut text = Text::default();
                        for (i, item) in items.iter().enumerate() {
                            if i > 0 {
                                text.push_str(d);
                            }
                            if !text.push(item) {
                                return Err(bad(name));
                            }
                        }
                        let deps = parts.deps();
                        text.finish()
                            .unwrap_or_else(|| opaque(json!({name: [d, parts.to_json()]}), deps))
                    }
                    (Val::Unknown(_), _) | (_, Val::Unknown(_)) => {
                        let mut deps = delimiter.deps();
                        deps.extend(parts.deps());
                        opaque(json!({name: [delimiter.to_json(), parts.to_json()]}), deps)
                    }
                    _ => return Err(bad(name)),
                }
            }
            "Fn::Select" => {
                let items = list()?;
                let [index, from] = items.as_slice() else {
                    return Err(bad(name));
                };
                let index = self.value(index)?;
                let from = self.value(from)?;
                let position = index
                    .scalar_text()
                    .map(|t| t.trim().parse::<usize>().map_err(|_| bad(name)))
                    .transpose()?;
                match (position, &from) {
                    (Some(i), Val::List(items)) => match items.get(i) {
                        Some(v) => v.clone(),
                        None => {
                            return Err(EvalError::IndexOutOfRange {
                                index: i,
                                len: items.len(),
                            })
                        }
                    },
                    (_, Val::Unknown(_)) | (None, Val::List(_))
                        if index.has_unknown() || from.has_unknown() =>
                    {
                        let mut deps = index.deps();
                        deps.extend(from.deps());
                        opaque(json!({name: [index.to_json(), from.to_json()]}), deps)
                    }
                    _ => return Err(bad(name)),
                }
            }
            "Fn::Split" => {
                let items = list()?;
                let [delimiter, source] = items.as_slice() else {
                    return Err(bad(name));
                };
                let delimiter = self.value(delimiter)?;
                let source = self.value(source)?;
                match (delimiter.as_str(), source.scalar_text()) {
                    (Some(d), Some(s)) if !d.is_empty() => {
                        Val::List(s.split(d).map(|p| Val::Str(p.to_string())).collect())
                    }
                    _ if delimiter.has_unknown() || source.has_unknown() => {
                        let mut deps = delimiter.deps();
                        deps.extend(source.deps());
                        opaque(json!({name: [delimiter.to_json(), source.to_json()]}), deps)
                    }
                    _ => return Err(bad(name)),
                }
            }
            "Fn::FindInMap" => self.find_in_map(list()?)?,
            "Fn::Base64" => {
                let value = self.value(args)?;
                match value.scalar_text() {
                    Some(text) => Val::Str(base64(text.as_bytes())),
                    None if value.has_unknown() => {
                        opaque(json!({name: value.to_json()}), value.deps())
                    }
                    None => return Err(bad(name)),
                }
            }
            "Fn::GetAtt" => {
                let (resource, attribute) = match args {
                    Json::String(s) => s.split_once('.').ok_or_else(|| bad(name))?,
                    Json::Array(items) if items.len() == 2 => {
                        let resource = items[0].as_str().ok_or_else(|| bad(name))?;
                        let attribute = self.value(&items[1])?;
                        match attribute.as_str() {
                            Some(_) => {}
                            None => return Err(bad(name)),
                        }
                        return self
                            .attribute(resource, attribute.as_str().unwrap_or_default())
                            .map(Some);
                    }
                    _ => return Err(bad(name)),
                };
                self.attribute(resource, attribute)?
            }
            // Values of other stacks and of the region: unknown here, but
            // the same on both sides when their arguments are.
            _ => {
                let value = self.value(args)?;
                opaque(json!({name: value.to_json()}), value.deps())
            }
        }))
    }

    fn sub(&self, args: &Json) -> Result<Val, EvalError> {
        let (text, vars) = match args {
            Json::String(s) => (s.as_str(), None),
            Json::Array(items) if items.len() == 2 => (
                items[0].as_str().ok_or_else(|| bad("Fn::Sub"))?,
                Some(items[1].as_object().ok_or_else(|| bad("Fn::Sub"))?),
            ),
            _ => return Err(bad("Fn::Sub")),
        };
        let pieces = parse_sub(text).ok_or_else(|| bad("Fn::Sub"))?;
        let mut out = Text::default();
        // Holes whose values cannot be written as holes (an unknown that is
        // not a plain string) stay variables of the residual `Fn::Sub`.
        let mut kept_vars = Map::new();
        for piece in pieces {
            let name = match piece {
                Piece::Lit(s) => {
                    out.push_str(&s);
                    continue;
                }
                Piece::Hole(name) => name,
            };
            let value = match vars.and_then(|v| v.get(&name)) {
                Some(expr) => self.value(expr)?,
                None => match name.split_once('.') {
                    Some((resource, attribute)) if !name.starts_with("AWS::") => {
                        self.attribute(resource, attribute)?
                    }
                    _ => self.reference(&name)?.unwrap_or(Val::Null),
                },
            };
            if matches!(value, Val::Unknown(_)) && sub_pieces(&value).is_none() {
                out.deps.extend(value.deps());
                out.pieces.push(Piece::Hole(name.clone()));
                kept_vars.insert(name, value.to_json());
            } else if !out.push(&value) {
                return Err(bad("Fn::Sub"));
            }
        }
        if kept_vars.is_empty() {
            return out.finish().ok_or_else(|| bad("Fn::Sub"));
        }
        Ok(opaque(
            json!({"Fn::Sub": [sub_text(&out.pieces), Json::Object(kept_vars)]}),
            out.deps,
        ))
    }

    fn find_in_map(&self, items: &[Json]) -> Result<Val, EvalError> {
        const NAME: &str = "Fn::FindInMap";
        if items.len() < 3 || items.len() > 4 {
            return Err(bad(NAME));
        }
        let keys = items[..3]
            .iter()
            .map(|e| self.value(e))
            .collect::<Result<Vec<_>, _>>()?;
        let texts: Vec<Option<String>> = keys.iter().map(Val::scalar_text).collect();
        let (Some(map), Some(top), Some(second)) = (&texts[0], &texts[1], &texts[2]) else {
            if keys.iter().any(Val::has_unknown) {
                let deps = keys.iter().flat_map(Val::deps).collect();
                let mut args: Vec<Json> = keys.iter().map(Val::to_json).collect();
                args.extend(items.get(3).cloned());
                return Ok(opaque(json!({ NAME: args }), deps));
            }
            return Err(bad(NAME));
        };
        let found = self
            .template
            .body
            .get("Mappings")
            .and_then(|m| m.get(map))
            .and_then(|m| m.get(top))
            .and_then(|m| m.get(second));
        match (found, items.get(3)) {
            (Some(value), _) => self.value(value),
            (None, Some(options)) => match options.get("DefaultValue") {
                Some(default) => self.value(default),
                None => Err(bad(NAME)),
            },
            (None, None) => Err(EvalError::MappingNotFound {
                map: map.clone(),
                top: top.clone(),
                second: second.clone(),
            }),
        }
    }

    /// The value of a condition of the `Conditions` section.
    pub fn condition(&self, name: &str) -> Result<Cond, EvalError> {
        if let Some(state) = self.conditions.borrow().get(name) {
            return match state {
                Some(cond) => Ok(cond.clone()),
                None => Err(EvalError::ConditionCycle {
                    name: name.to_string(),
                }),
            };
        }
        let expr = self
            .template
            .body
            .get("Conditions")
            .and_then(|c| c.get(name))
            .ok_or_else(|| EvalError::UndefinedCondition {
                name: name.to_string(),
            })?;
        self.conditions.borrow_mut().insert(name.to_string(), None);
        let result = self.cond_expr(expr);
        match &result {
            Ok(cond) => {
                self.conditions
                    .borrow_mut()
                    .insert(name.to_string(), Some(cond.clone()));
            }
            Err(_) => {
                self.conditions.borrow_mut().remove(name);
            }
        }
        result
    }

    fn cond_expr(&self, expr: &Json) -> Result<Cond, EvalError> {
        let Some((function, args)) = expr
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.iter().next())
        else {
            return match expr {
                Json::Bool(b) => Ok(Cond::Known(*b)),
                _ => Err(bad("Conditions")),
            };
        };
        let operands = || -> Result<Vec<Cond>, EvalError> {
            args.as_array()
                .ok_or_else(|| bad(function))?
                .iter()
                .map(|e| self.cond_expr(e))
                .collect()
        };
        match function.as_str() {
            "Condition" => self.condition(args.as_str().ok_or_else(|| bad(function))?),
            "Fn::Equals" => {
                let items = args.as_array().ok_or_else(|| bad(function))?;
                let [a, b] = items.as_slice() else {
                    return Err(bad(function));
                };
                let (a, b) = (self.value(a)?, self.value(b)?);
                Ok(match compare_within(&a, &b) {
                    Some(equal) => Cond::Known(equal),
                    None => {
                        let mut deps = a.deps();
                        deps.extend(b.deps());
                        Cond::Unknown(deps)
                    }
                })
            }
            "Fn::Not" => {
                let ops = operands()?;
                let [op] = ops.as_slice() else {
                    return Err(bad(function));
                };
                Ok(match op {
                    Cond::Known(b) => Cond::Known(!b),
                    unknown => unknown.clone(),
                })
            }
            "Fn::And" | "Fn::Or" => {
                // Three-valued logic: one false decides And, one true Or.
                let decisive = function == "Fn::Or";
                let mut deps = BTreeSet::new();
                let mut unknown = false;
                for op in operands()? {
                    match op {
                        Cond::Known(b) if b == decisive => return Ok(Cond::Known(decisive)),
                        Cond::Known(_) => {}
                        Cond::Unknown(d) => {
                            unknown = true;
                            deps.extend(d);
                        }
                    }
                }
                Ok(if unknown {
                    Cond::Unknown(deps)
                } else {
                    Cond::Known(!decisive)
                })
            }
            _ => {
                // Some other function that yields "true"/"false".
                let value = self.value(expr)?;
                match value.scalar_text().as_deref() {
                    Some("true") => Ok(Cond::Known(true)),
                    Some("false") => Ok(Cond::Known(false)),
                    _ if value.has_unknown() => Ok(Cond::Unknown(value.deps())),
                    _ => Err(bad(function)),
                }
            }
        }
    }
}

fn cond_val(cond: Cond, expr: &Json) -> Val {
    match cond {
        Cond::Known(b) => Val::Bool(b),
        Cond::Unknown(deps) => opaque(json!({"Condition": expr}), deps),
    }
}

/// `Fn::Equals` within one side: `None` when it cannot be told.
fn compare_within(a: &Val, b: &Val) -> Option<bool> {
    match compare(a, b, &|_: &Dep| false) {
        Cmp::Same => Some(true),
        Cmp::Differs => Some(false),
        Cmp::Maybe => None,
    }
}

/// How two values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cmp {
    Same,
    /// May or may not differ: depends on values known after apply.
    Maybe,
    Differs,
}

impl Cmp {
    /// Combines parts: any certain difference decides, then any maybe.
    fn and(self, other: Cmp) -> Cmp {
        self.max(other)
    }
}

/// Compares values of two sides. `changing` tells which dependencies may
/// have a different value on the second side (replaced resources,
/// parameters whose value changed or is unknown).
///
/// Approximation: two strings with the same holes in the same order whose
/// literal text differs are taken to differ.
pub fn compare(a: &Val, b: &Val, changing: &dyn Fn(&Dep) -> bool) -> Cmp {
    match (a, b) {
        (Val::Unknown(x), Val::Unknown(y)) => {
            let stable = !x.deps.iter().chain(&y.deps).any(changing);
            if x.expr == y.expr && stable {
                return Cmp::Same;
            }
            match (sub_pieces(a), sub_pieces(b)) {
                (Some(p), Some(q)) if stable => {
                    let holes = |ps: &[Piece]| -> Vec<String> {
                        ps.iter()
                            .filter_map(|p| match p {
                                Piece::Hole(h) => Some(h.clone()),
                                Piece::Lit(_) => None,
                            })
                            .collect()
                    };
                    if holes(&p) == holes(&q) {
                        Cmp::Differs
                    } else {
                        Cmp::Maybe
                    }
                }
                (Some(p), Some(q)) => {
                    // Differing fixed prefixes or suffixes differ whatever
                    // the holes hold.
                    if fixed_ends_differ(&p, &q) {
                        Cmp::Differs
                    } else {
                        Cmp::Maybe
                    }
                }
                _ => Cmp::Maybe,
            }
        }
        (Val::Unknown(_), known) | (known, Val::Unknown(_)) => {
            let unknown = if matches!(a, Val::Unknown(_)) { a } else { b };
            match (sub_pieces(unknown), known.scalar_text()) {
                (Some(pieces), Some(text)) if !glob_match(&pieces, &text) => Cmp::Differs,
                _ if matches!(known, Val::List(_) | Val::Map(_))
                    && sub_pieces(unknown).is_some() =>
                {
                    Cmp::Differs
                }
                _ => Cmp::Maybe,
            }
        }
        (Val::List(x), Val::List(y)) => {
            if x.len() != y.len() {
                // An unknown item may be a list that a function flattens
                // or `AWS::NoValue`; otherwise lengths decide.
                return if x.iter().chain(y).any(Val::has_unknown) {
                    Cmp::Maybe
                } else {
                    Cmp::Differs
                };
            }
            x.iter()
                .zip(y)
                .fold(Cmp::Same, |acc, (p, q)| acc.and(compare(p, q, changing)))
        }
        (Val::Map(x), Val::Map(y)) => {
            let mut acc = Cmp::Same;
            for (k, v) in x {
                acc = acc.and(match y.get(k) {
                    Some(w) => compare(v, w, changing),
                    None => absent_vs(v),
                });
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    acc = acc.and(absent_vs(w));
                }
            }
            acc
        }
        (Val::Null, Val::Null) => Cmp::Same,
        _ => match (a.scalar_text(), b.scalar_text()) {
            (Some(s), Some(t)) if s == t => Cmp::Same,
            _ => Cmp::Differs,
        },
    }
}

/// A value present on one side only: an unknown may still turn out to be
/// `AWS::NoValue`.
pub(crate) fn absent_vs(value: &Val) -> Cmp {
    if matches!(value, Val::Unknown(_)) {
        Cmp::Maybe
    } else {
        Cmp::Differs
    }
}

fn fixed_ends_differ(p: &[Piece], q: &[Piece]) -> bool {
    let lit = |piece: Option<&Piece>| match piece {
        Some(Piece::Lit(s)) => s.clone(),
        _ => String::new(),
    };
    let (p0, q0) = (lit(p.first()), lit(q.first()));
    let (p1, q1) = (lit(p.last()), lit(q.last()));
    !(p0.starts_with(&q0) || q0.starts_with(&p0)) || !(p1.ends_with(&q1) || q1.ends_with(&p1))
}

/// Whether `text` could be the value of a string with holes (each hole
/// matching any text).
pub fn glob_match(pieces: &[Piece], text: &str) -> bool {
    let lits: Vec<&str> = pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(s) => s.as_str(),
            Piece::Hole(_) => "",
        })
        .collect();
    let starts_with_hole = matches!(pieces.first(), Some(Piece::Hole(_)));
    let ends_with_hole = matches!(pieces.last(), Some(Piece::Hole(_)));
    let literal: Vec<&str> = lits.into_iter().filter(|s| !s.is_empty()).collect();
    if literal.is_empty() {
        return true;
    }
    let mut rest = text;
    for (i, lit) in literal.iter().enumerate() {
        let first = i == 0;
        let last = i + 1 == literal.len();
        if first && !starts_with_hole {
            match rest.strip_prefix(lit) {
                Some(r) => rest = r,
                None => return false,
            }
            if last && !ends_with_hole {
                return rest.is_empty();
            }
            continue;
        }
        if last && !ends_with_hole {
            return rest.ends_with(lit);
        }
        match rest.find(lit) {
            Some(at) => rest = &rest[at + lit.len()..],
            None => return false,
        }
    }
    true
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    const TEMPLATE: &str = r#"
Parameters:
  Prefix: {Type: String, Default: cicd}
  Subnets: {Type: CommaDelimitedList, Default: "a, b,c"}
  Later: {Type: String}
  Env: {Type: String, Default: prod}
Mappings:
  Sizes:
    prod: {Instance: m5.large}
    dev: {Instance: t3.micro}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Equals [!Ref Later, x]]
  Either: !Or [!Condition IsProd, !Equals [!Ref Later, x]]
  Loop: !Condition Loop
Resources:
  Bucket:
    Type: AWS::S3::Bucket
Outputs:
  Sub: {Value: !Sub "${Prefix}-${AWS::Region}-${AWS::AccountId}"}
  SubVars: {Value: !Sub ["${A}/${B}", {A: !Ref Prefix, B: !GetAtt Bucket.Arn}]}
  Join: {Value: !Join ["-", [!Ref Prefix, !Ref Bucket]]}
  Select: {Value: !Select [1, !Ref Subnets]}
  Split: {Value: !Split [",", "x,y"]}
  If: {Value: !If [IsProd, big, !Ref "AWS::NoValue"]}
  IfUnknown: {Value: !If [Both, !Ref Later, small]}
  Map: {Value: !FindInMap [Sizes, !Ref Env, Instance]}
  B64: {Value: !Base64 "hello!"}
  Import: {Value: !ImportValue Shared::Vpc}
  Azs: {Value: !GetAZs ""}
  Literal: {Value: !Sub "${!Literal}-${Prefix}"}
"#;

    fn evaluator<'a>(t: &'a Template, pseudo: &'a Pseudo) -> Evaluator<'a> {
        Evaluator::new(t, IndexMap::from([("Later".to_string(), None)]), pseudo)
    }

    fn output(e: &Evaluator, name: &str) -> Result<Option<Val>, EvalError> {
        e.eval(&e.template().body["Outputs"][name]["Value"])
    }

    fn s(text: &str) -> Val {
        Val::Str(text.into())
    }

    #[test]
    fn evaluates_intrinsics() {
        let t = parse(TEMPLATE).unwrap();
        let pseudo = Pseudo {
            account_id: Some("111111111111".into()),
            region: Some("eu-west-1".into()),
            ..Pseudo::default()
        };
        let e = evaluator(&t, &pseudo);
        let get = |name| output(&e, name).unwrap();
        assert_eq!(get("Sub"), Some(s("cicd-eu-west-1-111111111111")));
        assert_eq!(get("Select"), Some(s("b")));
        assert_eq!(get("Split"), Some(Val::List(vec![s("x"), s("y")])));
        assert_eq!(get("If"), Some(s("big")));
        assert_eq!(get("Map"), Some(s("m5.large")));
        assert_eq!(get("B64"), Some(s("aGVsbG8h")));
        assert_eq!(get("Literal"), Some(s("${Literal}-cicd")));
        assert_eq!(e.pseudo("AWS::Partition"), Some(s("aws")));
        assert_eq!(e.condition("NotProd"), Ok(Cond::Known(false)));
        assert_eq!(e.condition("Either"), Ok(Cond::Known(true)));
        assert_eq!(
            e.condition("Both"),
            Ok(Cond::Unknown(BTreeSet::from([Dep::Parameter(
                "Later".into()
            )])))
        );
        assert_eq!(
            e.condition("Loop"),
            Err(EvalError::ConditionCycle {
                name: "Loop".into()
            })
        );
    }

    #[test]
    fn unknowns_keep_their_expression() {
        let t = parse(TEMPLATE).unwrap();
        let pseudo = Pseudo::default();
        let e = evaluator(&t, &pseudo);
        let get = |name| output(&e, name).unwrap().unwrap();
        let bucket = BTreeSet::from([Dep::Resource("Bucket".into())]);
        assert_eq!(
            get("Sub"),
            opaque(
                json!({"Fn::Sub": "cicd-${AWS::Region}-${AWS::AccountId}"}),
                BTreeSet::new()
            )
        );
        // Join, Sub with variables and GetAtt normalise to one form.
        assert_eq!(
            get("Join"),
            opaque(json!({"Fn::Sub": "cicd-${Bucket}"}), bucket.clone())
        );
        assert_eq!(
            get("SubVars"),
            opaque(json!({"Fn::Sub": "cicd/${Bucket.Arn}"}), bucket)
        );
        assert_eq!(
            get("IfUnknown"),
            opaque(
                json!({"Fn::If": ["Both", {"Fn::Sub": "${Later}"}, "small"]}),
                BTreeSet::from([Dep::Parameter("Later".into())])
            )
        );
        assert_eq!(
            get("Import"),
            opaque(json!({"Fn::ImportValue": "Shared::Vpc"}), BTreeSet::new())
        );
        assert!(matches!(get("Azs"), Val::Unknown(_)));
    }

    #[test]
    fn no_value_and_errors() {
        let t = parse(TEMPLATE).unwrap();
        let pseudo = Pseudo::default();
        let mut e = evaluator(&t, &pseudo);
        e.params.insert("Env".into(), Some("dev".into()));
        assert_eq!(output(&e, "If"), Ok(None));
        let list = e.eval(&json!(["a", {"Ref": "AWS::NoValue"}, "b"])).unwrap();
        assert_eq!(list, Some(Val::List(vec![s("a"), s("b")])));
        assert_eq!(
            e.eval(&json!({"Ref": "Nope"})),
            Err(EvalError::UnresolvedReference {
                name: "Nope".into()
            })
        );
        assert_eq!(
            e.eval(&json!({"Fn::Select": [5, ["a"]]})),
            Err(EvalError::IndexOutOfRange { index: 5, len: 1 })
        );
        assert!(matches!(
            e.eval(&json!({"Fn::FindInMap": ["Sizes", "qa", "Instance"]})),
            Err(EvalError::MappingNotFound { .. })
        ));
        assert_eq!(
            e.eval(&json!({"Fn::FindInMap": ["Sizes", "qa", "Instance", {"DefaultValue": "x"}]})),
            Ok(Some(s("x")))
        );
        assert_eq!(
            e.eval(&json!({"Condition": {"StringEquals": {"a": "b"}}})),
            Ok(Some(Val::Map(IndexMap::from([(
                "Condition".to_string(),
                Val::Map(IndexMap::from([(
                    "StringEquals".to_string(),
                    Val::Map(IndexMap::from([("a".to_string(), s("b"))]))
                )]))
            )]))))
        );
        assert!(matches!(
            e.eval(&json!({"Fn::Join": "x"})),
            Err(EvalError::BadArguments { .. })
        ));
    }

    #[test]
    fn compares_across_sides() {
        let never = |_: &Dep| false;
        let always = |_: &Dep| true;
        let u = |text: &str| opaque(json!({"Fn::Sub": text}), BTreeSet::new());
        let r = |text: &str| {
            opaque(
                json!({"Fn::Sub": text}),
                BTreeSet::from([Dep::Resource("R".into())]),
            )
        };
        assert_eq!(
            compare(&s("80"), &Val::Number(80.into()), &never),
            Cmp::Same
        );
        assert_eq!(compare(&s("a"), &s("b"), &never), Cmp::Differs);
        assert_eq!(
            compare(&u("a-${AWS::AccountId}"), &u("a-${AWS::AccountId}"), &never),
            Cmp::Same
        );
        assert_eq!(
            compare(
                &u("cicd-${AWS::AccountId}"),
                &u("cicd2-${AWS::AccountId}"),
                &never
            ),
            Cmp::Differs
        );
        assert_eq!(compare(&r("${R}"), &r("${R}"), &always), Cmp::Maybe);
        assert_eq!(compare(&r("x/${R}"), &r("y/${R}"), &always), Cmp::Differs);
        assert_eq!(
            compare(&s("cicd-1"), &u("cicd-${AWS::AccountId}"), &never),
            Cmp::Maybe
        );
        assert_eq!(
            compare(&s("cicd-1"), &u("cicd2-${AWS::AccountId}"), &never),
            Cmp::Differs
        );
        let list = |items: Vec<Val>| Val::List(items);
        assert_eq!(
            compare(
                &list(vec![s("a"), s("b")]),
                &list(vec![s("a"), u("${X}")]),
                &never
            ),
            Cmp::Maybe
        );
        assert_eq!(
            compare(
                &list(vec![s("a"), s("b")]),
                &list(vec![s("c"), u("${X}")]),
                &never
            ),
            Cmp::Differs
        );
    }

    #[test]
    fn glob() {
        let p = parse_sub("a-${X}-b").unwrap();
        assert!(glob_match(&p, "a-1-b"));
        assert!(!glob_match(&p, "a-1-c"));
        assert!(glob_match(&parse_sub("${X}").unwrap(), "anything"));
        assert!(glob_match(&parse_sub("${X}:${Y}").unwrap(), "a:b"));
        assert!(!glob_match(&parse_sub("${X}:${Y}").unwrap(), "ab"));
    }
}
