//! A unified diff of two templates, both written as YAML in long form, so
//! that JSON-versus-YAML and short-form-versus-long-form spelling does not
//! show as a change. Defaults of `NoEcho` parameters are masked.
//! Multi-line strings are written as literal blocks so that a changed
//! line of an inline policy shows as that line.

use std::collections::BTreeSet;

use serde_json::Map;
use similar::TextDiff;

use crate::{Json, Template};

/// What CloudFormation shows for `NoEcho` values, used here as the mask.
pub const MASK: &str = "****";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextDiffOptions {
    /// Lines of context around each change.
    pub context: usize,
    /// Sort mapping keys, so that reordering sections, resources or
    /// properties (which means nothing to CloudFormation) does not show.
    pub sort_keys: bool,
}

impl Default for TextDiffOptions {
    fn default() -> Self {
        TextDiffOptions {
            context: 3,
            sort_keys: false,
        }
    }
}

/// The unified diff from the deployed to the desired template (headers
/// `deployed` and `desired`); empty when they read the same.
pub fn template_diff(deployed: &Template, desired: &Template, options: &TextDiffOptions) -> String {
    // A parameter that is NoEcho on either side has its default masked on
    // both, so the diff cannot show it either way.
    let no_echo: BTreeSet<&str> = deployed
        .parameters
        .iter()
        .chain(&desired.parameters)
        .filter(|(_, p)| p.no_echo)
        .map(|(n, _)| n.as_str())
        .collect();
    let old = normalised(deployed, &no_echo, options.sort_keys);
    let new = normalised(desired, &no_echo, options.sort_keys);
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(options.context)
        .header("deployed", "desired")
        .to_string()
}

/// The template as YAML, with `NoEcho` defaults masked.
pub fn normalised(template: &Template, no_echo: &BTreeSet<&str>, sort_keys: bool) -> String {
    let mut body = template.body.clone();
    if let Some(params) = body.get_mut("Parameters").and_then(Json::as_object_mut) {
        for (name, decl) in params.iter_mut() {
            if !no_echo.contains(name.as_str()) {
                continue;
            }
            if let Some(default) = decl.as_object_mut().and_then(|d| d.get_mut("Default")) {
                *default = Json::String(MASK.to_string());
            }
        }
    }
    if sort_keys {
        body = sorted(body);
    }
    let mut out = String::new();
    write_node(&body, 0, &mut out);
    out
}

/// Block-style YAML like `runbook_yaml::to_yaml_string` (whose quoting it
/// uses for scalars), except that multi-line strings (inline policies,
/// scripts) are written as literal blocks, one line per line, so a diff
/// shows the lines that changed instead of one long quoted line.
fn write_node(value: &Json, indent: usize, out: &mut String) {
    match value {
        Json::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                out.push_str(&" ".repeat(indent));
                out.push_str(&scalar(&Json::String(key.clone())));
                out.push(':');
                write_child(v, indent, out);
            }
        }
        Json::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&" ".repeat(indent));
                out.push('-');
                match item {
                    Json::Object(map) if !map.is_empty() => {
                        // The first key goes on the dash line.
                        let mut nested = String::new();
                        write_node(item, indent + 2, &mut nested);
                        out.push(' ');
                        out.push_str(nested.trim_start());
                    }
                    _ => write_child(item, indent, out),
                }
            }
        }
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn write_child(value: &Json, indent: usize, out: &mut String) {
    match value {
        Json::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_node(value, indent + 2, out);
        }
        Json::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_node(value, indent + 2, out);
        }
        Json::String(s) if is_block(s) => {
            let body = s.trim_end_matches('\n');
            let chomp = match s.len() - body.len() {
                0 => "-",
                1 => "",
                _ => "+",
            };
            // An indentation indicator when the text starts with a space.
            let indicator = if body.starts_with(' ') { "2" } else { "" };
            out.push_str(&format!(" |{indicator}{chomp}\n"));
            for line in s.split_inclusive('\n') {
                if line != "\n" {
                    out.push_str(&" ".repeat(indent + 2));
                }
                out.push_str(line);
            }
            if !s.ends_with('\n') {
                out.push('\n');
            }
        }
        scalar_value => {
            out.push(' ');
            out.push_str(&scalar(scalar_value));
            out.push('\n');
        }
    }
}

fn is_block(s: &str) -> bool {
    s.trim_end_matches('\n').contains('\n') && !s.chars().any(|c| c.is_control() && c != '\n')
}

fn scalar(value: &Json) -> String {
    match value {
        Json::Object(_) => "{}".to_string(),
        Json::Array(_) => "[]".to_string(),
        other => runbook_yaml::to_yaml_string(other)
            .trim_end_matches('\n')
            .to_string(),
    }
}

fn sorted(value: Json) -> Json {
    match value {
        Json::Object(map) => {
            let mut entries: Vec<(String, Json)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Json::Array(items) => Json::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    const YAML: &str = r#"
Parameters:
  Password:
    Type: String
    NoEcho: true
    Default: hunter2
  Name:
    Type: String
    Default: cicd
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${Name}-bucket"
      Tags:
        - Key: a
          Value: !Ref Password
"#;

    const JSON: &str = r#"{
  "Parameters": {
    "Password": {"Type": "String", "NoEcho": true, "Default": "hunter2"},
    "Name": {"Type": "String", "Default": "cicd"}
  },
  "Resources": {
    "Bucket": {
      "Type": "AWS::S3::Bucket",
      "Properties": {
        "BucketName": {"Fn::Sub": "${Name}-bucket"},
        "Tags": [{"Key": "a", "Value": {"Ref": "Password"}}]
      }
    }
  }
}"#;

    #[test]
    fn json_and_yaml_spellings_are_the_same() {
        let (y, j) = (parse(YAML).unwrap(), parse(JSON).unwrap());
        assert_eq!(template_diff(&y, &j, &TextDiffOptions::default()), "");
    }

    #[test]
    fn shows_changes_and_masks_no_echo_defaults() {
        let old = parse(YAML).unwrap();
        let text = YAML
            .replace("Default: hunter2", "Default: swordfish")
            .replace("-bucket", "-artifacts");
        let new = parse(&text).unwrap();
        let diff = template_diff(&old, &new, &TextDiffOptions::default());
        assert!(diff.starts_with("--- deployed\n+++ desired\n"), "{diff}");
        assert!(
            diff.contains(
                "       BucketName:\n-        Fn::Sub: ${Name}-bucket\n+        Fn::Sub: ${Name}-artifacts\n"
            ),
            "{diff}"
        );
        assert!(
            !diff.contains("hunter2") && !diff.contains("swordfish"),
            "{diff}"
        );
        // Only a NoEcho default changed: nothing to show.
        let only_secret = parse(&YAML.replace("hunter2", "swordfish")).unwrap();
        assert_eq!(
            template_diff(&old, &only_secret, &TextDiffOptions::default()),
            ""
        );
    }

    #[test]
    fn masks_when_no_echo_on_either_side() {
        let old = parse(&YAML.replace("NoEcho: true", "NoEcho: false")).unwrap();
        let new = parse(YAML).unwrap();
        let diff = template_diff(&old, &new, &TextDiffOptions::default());
        assert!(!diff.contains("hunter2"), "{diff}");
        assert!(
            diff.contains("-    NoEcho: false\n+    NoEcho: true\n"),
            "{diff}"
        );
    }

    #[test]
    fn multi_line_strings_diff_by_line() {
        let kms = include_str!("../../../../templates/cicd_kms_key.template");
        let old = parse(kms).unwrap();
        let new = parse(&kms.replace("\"kms:*\"", "\"kms:Describe*\"")).unwrap();
        let diff = template_diff(&old, &new, &TextDiffOptions::default());
        let changed: Vec<&str> = diff
            .lines()
            .filter(|l| {
                (l.starts_with('-') || l.starts_with('+'))
                    && !l.starts_with("--- ")
                    && !l.starts_with("+++ ")
            })
            .collect();
        let trimmed: Vec<(char, &str)> = changed
            .iter()
            .filter_map(|l| Some((l.chars().next()?, l.get(1..)?.trim())))
            .collect();
        assert_eq!(
            trimmed,
            [
                ('-', "\"Action\": \"kms:*\","),
                ('+', "\"Action\": \"kms:Describe*\",")
            ],
            "{diff}"
        );
        // The block reads back as the same string.
        let text = normalised(&old, &BTreeSet::new(), false);
        assert_eq!(parse(&text).unwrap().body, old.body);
    }

    #[test]
    fn normalised_yaml_reads_back_the_same() {
        let texts = [
            include_str!("../../../../templates/cicd_kms_key.template"),
            include_str!("../../../../templates/cicd_s3_buckets.template"),
            include_str!("../../../../templates/cicd_iam_roles.template"),
            include_str!("../../../../templates/cicd_mgmt_settings.template"),
            r#"{"A": " lead\nx", "B": "x\n\n", "C": ["a\n b\n", "\n\nx"], "D": "tab\there\nx", "E": "a\n\nb"}"#,
        ];
        for text in texts {
            let t = parse(text).unwrap();
            let yaml = normalised(&t, &BTreeSet::new(), false);
            assert_eq!(parse(&yaml).unwrap().body, t.body, "{yaml}");
        }
    }

    #[test]
    fn key_order_only_shows_unless_sorted() {
        let old = parse("A: 1\nB: 2\n").unwrap();
        let new = parse("B: 2\nA: 1\n").unwrap();
        assert_ne!(template_diff(&old, &new, &TextDiffOptions::default()), "");
        let sorted = TextDiffOptions {
            sort_keys: true,
            ..TextDiffOptions::default()
        };
        assert_eq!(template_diff(&old, &new, &sorted), "");
    }
}
