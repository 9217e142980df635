//! Reading CloudFormation templates: parameters (defaults, NoEcho, types),
//! exports and imports, and resolving export/import names statically.
//!
//! Short-form tags (`!Ref`, `!Sub`, ...) are expanded into their long form
//! (`{"Ref": ...}`, `{"Fn::Sub": ...}`) so everything downstream sees one
//! shape, whether the template was YAML or JSON.
//!
//! [`plan`] works out, without calling AWS, what a stack update would do.

pub mod plan;

use indexmap::IndexMap;
use runbook_yaml::{Node, Span, Value};
use serde_json::{json, Map};

pub type Json = serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// Where in the template; `None` for problems with the whole file.
    pub span: Option<Span>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub kind: String,
    pub default: Option<String>,
    pub no_echo: bool,
}

impl Parameter {
    /// SSM-backed parameters resolve at deploy time, so comparing the value
    /// we pass says nothing about whether the stack would change.
    pub fn resolves_at_deploy(&self) -> bool {
        self.kind.starts_with("AWS::SSM::Parameter::Value")
    }
}

/// A name expression (of an export or import) and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct NameExpr {
    pub expr: Json,
    pub span: Span,
    /// The output's logical id, for exports.
    pub output: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub parameters: IndexMap<String, Parameter>,
    pub exports: Vec<NameExpr>,
    pub imports: Vec<NameExpr>,
    /// Uses `Transform` (macros, SAM): only CloudFormation can tell what it
    /// expands to.
    pub has_transform: bool,
    /// The whole template in long form.
    pub body: Json,
}

/// Values that `!Sub` and `!Ref` may name, for resolving names statically.
#[derive(Debug, Clone, Default)]
pub struct NameContext {
    pub stack_name: String,
    pub region: String,
    /// The account id, or a stand-in that is the same for every stack of
    /// one account (offline we do not know ids, only profiles).
    pub account_id: String,
    pub partition: String,
    /// Parameter values given to the stack (defaults are applied from the
    /// template when a value is missing).
    pub parameters: IndexMap<String, String>,
}

pub fn parse(text: &str) -> Result<Template, TemplateError> {
    let root = runbook_yaml::parse(text).map_err(|e| TemplateError {
        span: Some(e.span),
        message: e.message,
    })?;
    if root.as_map().is_none() {
        return Err(TemplateError {
            span: Some(root.span),
            message: format!("a template must be a mapping, found {}", root.kind()),
        });
    }
    let mut imports = Vec::new();
    collect_imports(&root, &mut imports)?;
    let body = long_form(&root)?;
    let parameters = parameters(&root)?;
    let exports = exports(&root)?;
    let has_transform = root.get("Transform").is_some() || contains_key(&body, "Fn::Transform");
    Ok(Template {
        parameters,
        exports,
        imports,
        has_transform,
        body,
    })
}

fn contains_key(value: &Json, key: &str) -> bool {
    match value {
        Json::Object(map) => map.contains_key(key) || map.values().any(|v| contains_key(v, key)),
        Json::Array(items) => items.iter().any(|v| contains_key(v, key)),
        _ => false,
    }
}

fn parameters(root: &Node) -> Result<IndexMap<String, Parameter>, TemplateError> {
    let mut out = IndexMap::new();
    let Some(section) = root.get("Parameters") else {
        return Ok(out);
    };
    let Some(map) = section.as_map() else {
        return Err(TemplateError {
            span: Some(section.span),
            message: "`Parameters` must be a mapping".into(),
        });
    };
    for (key, value) in map.iter() {
        let kind = value
            .get("Type")
            .map(|t| t.scalar_text())
            .unwrap_or_else(|| "String".into());
        let default = value.get("Default").map(|d| match &d.value {
            Value::Seq(items) => items
                .iter()
                .map(Node::scalar_text)
                .collect::<Vec<_>>()
                .join(","),
            _ => d.scalar_text(),
        });
        let no_echo = value.get("NoEcho").is_some_and(|n| match &n.value {
            Value::Bool(b) => *b,
            Value::String(s) => s.eq_ignore_ascii_case("true"),
            _ => false,
        });
        out.insert(
            key.scalar_text(),
            Parameter {
                kind,
                default,
                no_echo,
            },
        );
    }
    Ok(out)
}

fn exports(root: &Node) -> Result<Vec<NameExpr>, TemplateError> {
    let mut out = Vec::new();
    let Some(outputs) = root.get("Outputs").and_then(Node::as_map) else {
        return Ok(out);
    };
    for (key, output) in outputs.iter() {
        if let Some(name) = output.get("Export").and_then(|e| e.get("Name")) {
            out.push(NameExpr {
                expr: long_form(name)?,
                span: name.span,
                output: Some(key.scalar_text()),
            });
        }
    }
    Ok(out)
}

fn collect_imports(node: &Node, out: &mut Vec<NameExpr>) -> Result<(), TemplateError> {
    if node.tag.as_deref() == Some("!ImportValue") {
        let mut plain = node.clone();
        plain.tag = None;
        out.push(NameExpr {
            expr: long_form(&plain)?,
            span: node.span,
            output: None,
        });
        return Ok(());
    }
    match &node.value {
        Value::Map(map) => {
            for (key, value) in map.iter() {
                if key.as_str() == Some("Fn::ImportValue") {
                    out.push(NameExpr {
                        expr: long_form(value)?,
                        span: value.span,
                        output: None,
                    });
                } else {
                    collect_imports(value, out)?;
                }
            }
        }
        Value::Seq(items) => {
            for item in items {
                collect_imports(item, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Expands short-form tags into CloudFormation's long form.
pub fn long_form(node: &Node) -> Result<Json, TemplateError> {
    let plain = || -> Result<Json, TemplateError> {
        Ok(match &node.value {
            Value::Seq(items) => {
                Json::Array(items.iter().map(long_form).collect::<Result<_, _>>()?)
            }
            Value::Map(map) => {
                let mut out = Map::new();
                for (k, v) in map.iter() {
                    out.insert(k.scalar_text(), long_form(v)?);
                }
                Json::Object(out)
            }
            _ => {
                let mut untagged = node.clone();
                untagged.tag = None;
                untagged.to_json()
            }
        })
    };
    let Some(tag) = node.tag.as_deref() else {
        return plain();
    };
    let inner = plain()?;
    let function = match tag {
        "!Ref" => return Ok(json!({ "Ref": inner })),
        "!Condition" => return Ok(json!({ "Condition": inner })),
        "!GetAtt" => {
            let args = match &inner {
                Json::String(s) => match s.split_once('.') {
                    Some((resource, attribute)) => json!([resource, attribute]),
                    None => {
                        return Err(TemplateError {
                            span: Some(node.span),
                            message: format!("!GetAtt `{s}` must be Resource.Attribute"),
                        })
                    }
                },
                other => other.clone(),
            };
            return Ok(json!({ "Fn::GetAtt": args }));
        }
        "!Sub" | "!Join" | "!ImportValue" | "!Select" | "!Split" | "!If" | "!Equals" | "!And"
        | "!Or" | "!Not" | "!FindInMap" | "!Base64" | "!Cidr" | "!GetAZs" | "!Transform"
        | "!Length" | "!ToJsonString" => format!("Fn::{}", &tag[1..]),
        other => {
            return Err(TemplateError {
                span: Some(node.span),
                message: format!("unknown CloudFormation tag `{other}`"),
            })
        }
    };
    let mut out = Map::new();
    out.insert(function, inner);
    Ok(Json::Object(out))
}

/// Resolves a name expression to a string, when it only uses literals,
/// pseudo parameters, parameters, `Fn::Sub`, `Fn::Join` and `Ref`.
pub fn resolve_name(expr: &Json, ctx: &NameContext, template: &Template) -> Option<String> {
    match expr {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Object(map) if map.len() == 1 => {
            let (function, args) = map.iter().next()?;
            match function.as_str() {
                "Ref" => lookup(args.as_str()?, ctx, template, &Map::new()),
                "Fn::Sub" => {
                    let (text, vars) = match args {
                        Json::String(s) => (s.as_str(), Map::new()),
                        Json::Array(items) if items.len() == 2 => {
                            (items[0].as_str()?, items[1].as_object()?.clone())
                        }
                        _ => return None,
                    };
                    substitute(text, ctx, template, &vars)
                }
                "Fn::Join" => {
                    let items = args.as_array()?;
                    let delimiter = items.first()?.as_str()?;
                    let parts = items.get(1)?.as_array()?;
                    let resolved: Option<Vec<String>> = parts
                        .iter()
                        .map(|p| resolve_name(p, ctx, template))
                        .collect();
                    Some(resolved?.join(delimiter))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn lookup(
    name: &str,
    ctx: &NameContext,
    template: &Template,
    vars: &Map<String, Json>,
) -> Option<String> {
    if let Some(value) = vars.get(name) {
        return resolve_name(value, ctx, template);
    }
    match name {
        "AWS::StackName" => Some(ctx.stack_name.clone()),
        "AWS::Region" => Some(ctx.region.clone()),
        "AWS::AccountId" => Some(ctx.account_id.clone()),
        "AWS::Partition" => Some(ctx.partition.clone()),
        "AWS::URLSuffix" => Some(if ctx.partition == "aws-cn" {
            "amazonaws.com.cn".into()
        } else {
            "amazonaws.com".into()
        }),
        _ => ctx
            .parameters
            .get(name)
            .cloned()
            .or_else(|| template.parameters.get(name)?.default.clone()),
    }
}

fn substitute(
    text: &str,
    ctx: &NameContext,
    template: &Template,
    vars: &Map<String, Json>,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else {
            out.push_str(&lookup(name, ctx, template, vars)?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// A template parameter value as amazon.aws sends it: lists joined with
/// commas, scalars as Python's `str()` prints them (`True`, `None`), and
/// `{value: ...}` unwrapped. `None` for `{use_previous_value: true}`.
pub fn parameter_value(value: &Json) -> Option<String> {
    match value {
        Json::Object(map) => {
            let previous = map.get("use_previous_value").is_some_and(|v| match v {
                Json::Bool(b) => *b,
                Json::String(s) => {
                    matches!(s.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1")
                }
                _ => false,
            });
            if previous {
                None
            } else {
                Some(python_str(map.get("value").unwrap_or(&Json::Null)))
            }
        }
        Json::Array(items) => Some(items.iter().map(python_str).collect::<Vec<_>>().join(",")),
        other => Some(python_str(other)),
    }
}

fn python_str(value: &Json) -> String {
    match value {
        Json::Null => "None".into(),
        Json::Bool(true) => "True".into(),
        Json::Bool(false) => "False".into(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parameter_values_as_amazon_aws_sends_them() {
        assert_eq!(parameter_value(&json!("x")).as_deref(), Some("x"));
        assert_eq!(parameter_value(&json!(true)).as_deref(), Some("True"));
        assert_eq!(parameter_value(&json!(3)).as_deref(), Some("3"));
        assert_eq!(parameter_value(&json!(["a", "b"])).as_deref(), Some("a,b"));
        assert_eq!(parameter_value(&json!({"value": 1})).as_deref(), Some("1"));
        assert_eq!(parameter_value(&json!({"use_previous_value": true})), None);
    }

    use super::*;

    const TEMPLATE: &str = r#"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Prefix:
    Type: String
    Default: cicd
  Secret:
    Type: String
    NoEcho: true
  Latest:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /x/y
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: !Sub "${Prefix} key"
      Other: !ImportValue Shared::Vpc::Id
      More:
        Fn::ImportValue: !Sub "${Prefix}::Bucket"
      Arn: !GetAtt Key.Arn
Outputs:
  KeyArn:
    Value: !GetAtt Key.Arn
    Export:
      Name: CICD::KMS::Key::Arn
  ByStack:
    Value: !Ref Key
    Export:
      Name: !Sub "${AWS::StackName}-${AWS::Region}-key"
  Joined:
    Value: !Ref Key
    Export:
      Name: !Join [":", [!Ref Prefix, !Ref "AWS::AccountId", "k"]]
  Unresolvable:
    Value: !Ref Key
    Export:
      Name: !GetAtt Key.Arn
"#;

    fn ctx() -> NameContext {
        NameContext {
            stack_name: "stack".into(),
            region: "eu-west-1".into(),
            account_id: "111111111111".into(),
            partition: "aws".into(),
            parameters: IndexMap::new(),
        }
    }

    #[test]
    fn reads_parameters() {
        let t = parse(TEMPLATE).unwrap();
        assert_eq!(t.parameters["Prefix"].default.as_deref(), Some("cicd"));
        assert!(t.parameters["Secret"].no_echo);
        assert!(t.parameters["Latest"].resolves_at_deploy());
        assert!(t.has_transform);
    }

    #[test]
    fn resolves_export_names() {
        let t = parse(TEMPLATE).unwrap();
        let names: Vec<Option<String>> = t
            .exports
            .iter()
            .map(|e| resolve_name(&e.expr, &ctx(), &t))
            .collect();
        assert_eq!(
            names,
            [
                Some("CICD::KMS::Key::Arn".to_string()),
                Some("stack-eu-west-1-key".to_string()),
                Some("cicd:111111111111:k".to_string()),
                None
            ]
        );
    }

    #[test]
    fn finds_imports_in_both_forms() {
        let t = parse(TEMPLATE).unwrap();
        let mut c = ctx();
        c.parameters.insert("Prefix".into(), "given".into());
        let names: Vec<Option<String>> = t
            .imports
            .iter()
            .map(|e| resolve_name(&e.expr, &c, &t))
            .collect();
        assert_eq!(
            names,
            [
                Some("Shared::Vpc::Id".to_string()),
                Some("given::Bucket".to_string())
            ]
        );
    }

    #[test]
    fn long_form_of_tags() {
        let t = parse("A: !GetAtt R.Arn\nB: !Sub ['${X}', {X: 1}]\nC: !Ref P\n").unwrap();
        assert_eq!(t.body["A"], json!({"Fn::GetAtt": ["R", "Arn"]}));
        assert_eq!(t.body["B"], json!({"Fn::Sub": ["${X}", {"X": 1}]}));
        assert_eq!(t.body["C"], json!({"Ref": "P"}));
    }

    #[test]
    fn json_templates_and_errors() {
        let t = parse(r#"{"Outputs": {"O": {"Value": "v", "Export": {"Name": {"Fn::Sub": "${AWS::Region}-x"}}}}}"#).unwrap();
        assert_eq!(
            resolve_name(&t.exports[0].expr, &ctx(), &t).as_deref(),
            Some("eu-west-1-x")
        );
        let err = parse("A: !Nope x\n").unwrap_err();
        assert_eq!(err.message, "unknown CloudFormation tag `!Nope`");
        assert_eq!(err.span.unwrap().line, 1);
        let err = parse("A: [1\n").unwrap_err();
        assert!(err.span.is_some());
    }
}
