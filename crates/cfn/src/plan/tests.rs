//! Plans of whole templates, including the repository's real ones.

use std::collections::BTreeSet;

use indexmap::IndexMap;
use serde_json::json;

use super::*;
use crate::parse;

const S3: &str = include_str!("../../../../templates/cicd_s3_buckets.template");
const KMS: &str = include_str!("../../../../templates/cicd_kms_key.template");
const IAM: &str = include_str!("../../../../templates/cicd_iam_roles.template");
const SETTINGS: &str = include_str!("../../../../templates/cicd_mgmt_settings.template");

const ACCOUNT: &str = "111111111111";

fn pseudo() -> Pseudo {
    Pseudo {
        account_id: Some(ACCOUNT.into()),
        region: Some("eu-west-1".into()),
        stack_name: Some("cicd-s3".into()),
        partition: None,
    }
}

fn known(pairs: &[(&str, &str)]) -> IndexMap<String, ParamInput> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), ParamInput::Known(v.to_string())))
        .collect()
}

fn s3_params(prefix: &str) -> IndexMap<String, ParamInput> {
    known(&[
        ("BucketNamePrefix", prefix),
        ("NonProdAccountId", "222222222222"),
        ("ProdAccountId", "333333333333"),
        ("KmsKeyArn", "arn:aws:kms:eu-west-1:111111111111:key/k"),
        ("NonProdRoleIds", ""),
        ("ProdRoleIds", ""),
    ])
}

fn run(
    old: &Template,
    old_params: &IndexMap<String, ParamInput>,
    outputs: &[DeployedOutput],
    new: &Template,
    new_params: &IndexMap<String, ParamInput>,
    pseudo: &Pseudo,
) -> Plan {
    let deployed = Deployed {
        template: old,
        parameters: old_params,
        outputs,
    };
    let desired = Desired {
        template: new,
        parameters: new_params,
    };
    match plan(&deployed, &desired, pseudo) {
        Ok(p) => p,
        Err(e) => panic!("plan failed: {e}"),
    }
}

fn resource<'a>(plan: &'a Plan, id: &str) -> &'a ResourceChange {
    match plan.resources.iter().find(|r| r.logical_id == id) {
        Some(r) => r,
        None => panic!("{id} not in {:#?}", plan.resources),
    }
}

fn ids(plan: &Plan) -> Vec<(&str, Action)> {
    plan.resources
        .iter()
        .map(|r| (r.logical_id.as_str(), r.action))
        .collect()
}

fn modify(replacement: Replacement) -> Action {
    Action::Modify { replacement }
}

fn paths(change: &ResourceChange) -> Vec<String> {
    change.changes.iter().map(|c| c.path.to_string()).collect()
}

fn value(text: &str) -> Option<PlanValue> {
    Some(PlanValue::Known(json!(text)))
}

#[test]
fn same_template_and_values_plan_nothing() {
    for text in [S3, KMS, IAM, SETTINGS] {
        let t = parse(text).unwrap();
        let params: IndexMap<String, ParamInput> = t
            .parameters
            .iter()
            .filter(|(_, p)| p.default.is_none())
            .map(|(n, _)| (n.clone(), ParamInput::Known("222222222222".into())))
            .collect();
        let p = run(&t, &params, &[], &t, &params, &pseudo());
        assert!(p.is_empty(), "{p:#?}");
        assert_eq!(p.parameters, []);
        assert_eq!(p.export_changes, []);
        // Without the account id too: unknown but equal on both sides.
        let p = run(&t, &params, &[], &t, &params, &Pseudo::default());
        assert!(p.is_empty(), "{p:#?}");
    }
}

#[test]
fn bucket_name_prefix_change_replaces_both_buckets() {
    let t = parse(S3).unwrap();
    let p = run(
        &t,
        &s3_params("cicd"),
        &[],
        &t,
        &s3_params("cicd2"),
        &pseudo(),
    );
    assert_eq!(
        ids(&p),
        [
            ("ArtifactsBucket", modify(Replacement::True)),
            ("TemplatesBucket", modify(Replacement::True)),
            ("ArtifactsBucketPolicy", modify(Replacement::True)),
            ("TemplatesBucketPolicy", modify(Replacement::True)),
        ]
    );
    let bucket = resource(&p, "ArtifactsBucket");
    assert_eq!(bucket.resource_type, "AWS::S3::Bucket");
    assert_eq!(paths(bucket), ["BucketName"]);
    let change = &bucket.changes[0];
    assert_eq!(change.old, value("cicd-artifacts-111111111111-eu-west-1"));
    assert_eq!(change.new, value("cicd2-artifacts-111111111111-eu-west-1"));
    assert!(change.certain);
    assert_eq!(change.replacement, Replacement::True);
    assert_eq!(
        bucket.causes,
        BTreeSet::from([Cause::Parameter("BucketNamePrefix".into())])
    );
    assert!(bucket.stateful);
    assert_eq!(bucket.deletion_policy, Some(Policy::Retain));
    assert_eq!(bucket.update_replace_policy, Some(Policy::Retain));
    assert_eq!(bucket.data_at_risk(), None);

    // The policies follow the bucket: its new name is known.
    let policy = resource(&p, "ArtifactsBucketPolicy");
    assert_eq!(
        policy.causes,
        BTreeSet::from([Cause::Resource("ArtifactsBucket".into())])
    );
    let bucket_ref = &policy.changes[0];
    assert_eq!(bucket_ref.path.to_string(), "Bucket");
    assert_eq!(
        bucket_ref.new,
        value("cicd2-artifacts-111111111111-eu-west-1")
    );
    assert_eq!(bucket_ref.replacement, Replacement::True);
    assert!(paths(policy).contains(&"PolicyDocument.Statement[0].Resource[1]".to_string()));
    let arn = policy
        .changes
        .iter()
        .find(|c| c.path.to_string() == "PolicyDocument.Statement[0].Resource[1]")
        .unwrap();
    assert_eq!(
        arn.new,
        value("arn:aws:s3:::cicd2-artifacts-111111111111-eu-west-1/*")
    );
    assert_eq!(arn.replacement, Replacement::False);

    // Outputs carrying bucket names get their new values.
    let out = |name: &str| {
        p.outputs
            .iter()
            .find(|o| o.name == name)
            .unwrap()
            .value
            .clone()
    };
    assert_eq!(
        out("ArtifactsBucketName"),
        OutputValue::Known("cicd2-artifacts-111111111111-eu-west-1".into())
    );
    assert_eq!(
        out("TemplatesBucketArn"),
        OutputValue::Known("arn:aws:s3:::cicd2-templates-111111111111-eu-west-1".into())
    );
    assert_eq!(p.output_changes.len(), 4);
    assert!(p.output_changes.iter().all(|c| c.certain));
    let exports: Vec<_> = p
        .export_changes
        .iter()
        .map(|e| (e.name.as_deref().unwrap_or("?"), e.kind))
        .collect();
    assert_eq!(
        exports,
        [
            (
                "CICD::S3::Artifacts::Name",
                ExportChangeKind::ValueChanges { certain: true }
            ),
            (
                "CICD::S3::Artifacts::Arn",
                ExportChangeKind::ValueChanges { certain: true }
            ),
            (
                "CICD::S3::Templates::Name",
                ExportChangeKind::ValueChanges { certain: true }
            ),
            (
                "CICD::S3::Templates::Arn",
                ExportChangeKind::ValueChanges { certain: true }
            ),
        ]
    );
    assert_eq!(
        p.parameters,
        [ParameterChange {
            name: "BucketNamePrefix".into(),
            old: value("cicd"),
            new: value("cicd2"),
            certain: true
        }]
    );
}

#[test]
fn bucket_name_prefix_change_without_account_id() {
    // Offline: account and region unknown, yet the literal part of the
    // name differs, so the replacement is certain; outputs stay unknown.
    let t = parse(S3).unwrap();
    let none = Pseudo::default();
    let p = run(&t, &s3_params("cicd"), &[], &t, &s3_params("cicd2"), &none);
    let bucket = resource(&p, "ArtifactsBucket");
    assert_eq!(bucket.action, modify(Replacement::True));
    assert_eq!(
        bucket.changes[0].new,
        Some(PlanValue::Unknown(json!({
            "Fn::Sub": "cicd2-artifacts-${AWS::AccountId}-${AWS::Region}"
        })))
    );
    let name = p
        .outputs
        .iter()
        .find(|o| o.name == "ArtifactsBucketName")
        .unwrap();
    assert!(matches!(name.value, OutputValue::Unknown(_)), "{name:?}");

    // With the deployed outputs, old values are real and still differ.
    let outputs = [DeployedOutput {
        key: "ArtifactsBucketName".into(),
        value: "cicd-artifacts-111111111111-eu-west-1".into(),
        export_name: Some("CICD::S3::Artifacts::Name".into()),
    }];
    let p = run(
        &t,
        &s3_params("cicd"),
        &outputs,
        &t,
        &s3_params("cicd2"),
        &none,
    );
    let change = p
        .output_changes
        .iter()
        .find(|c| c.name == "ArtifactsBucketName")
        .unwrap();
    assert_eq!(change.old, value("cicd-artifacts-111111111111-eu-west-1"));
    assert!(change.certain);
}

#[test]
fn non_create_only_change_is_an_update_in_place() {
    let old = parse(S3).unwrap();
    let new = parse(&S3.replacen("Status: Enabled", "Status: Suspended", 1)).unwrap();
    let params = s3_params("cicd");
    let p = run(&old, &params, &[], &new, &params, &pseudo());
    assert_eq!(ids(&p), [("ArtifactsBucket", modify(Replacement::False))]);
    let bucket = resource(&p, "ArtifactsBucket");
    assert_eq!(paths(bucket), ["VersioningConfiguration.Status"]);
    assert_eq!(bucket.changes[0].old, value("Enabled"));
    assert_eq!(bucket.changes[0].new, value("Suspended"));
    assert_eq!(bucket.causes, BTreeSet::from([Cause::Template]));
    assert!(p.output_changes.is_empty() && p.export_changes.is_empty());
}

#[test]
fn adding_and_removing_resources() {
    let old = parse(KMS).unwrap();
    let added = KMS.replace(
        "Outputs:",
        "  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: alerts\n\nOutputs:",
    );
    let new = parse(&added).unwrap();
    let params = known(&[
        ("NonProdAccountId", "222222222222"),
        ("ProdAccountId", "333333333333"),
    ]);
    let p = run(&old, &params, &[], &new, &params, &pseudo());
    assert_eq!(ids(&p), [("Topic", Action::Add)]);
    assert_eq!(resource(&p, "Topic").resource_type, "AWS::SNS::Topic");

    let p = run(&new, &params, &[], &old, &params, &pseudo());
    assert_eq!(ids(&p), [("Topic", Action::Remove)]);
    let removed = resource(&p, "Topic");
    assert_eq!(removed.resource_type, "AWS::SNS::Topic");
    assert_eq!(removed.data_at_risk(), None, "a topic holds no data");
}

#[test]
fn removing_a_stateful_resource_without_retain_is_a_risk() {
    let old = parse(
        "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n    DeletionPolicy: Delete\n  Other:\n    Type: AWS::SNS::Topic\n",
    )
    .unwrap();
    let new = parse("Resources:\n  Other:\n    Type: AWS::SNS::Topic\n").unwrap();
    let none = IndexMap::new();
    let p = run(&old, &none, &[], &new, &none, &pseudo());
    let logs = resource(&p, "Logs");
    assert_eq!(logs.action, Action::Remove);
    assert_eq!(logs.deletion_policy, Some(Policy::Delete));
    assert_eq!(logs.data_at_risk(), Some(DataRisk::Removed));
}

#[test]
fn alias_change_replaces_the_alias_and_its_output() {
    let t = parse(KMS).unwrap();
    let mut old_params = known(&[
        ("NonProdAccountId", "222222222222"),
        ("ProdAccountId", "333333333333"),
    ]);
    let mut new_params = old_params.clone();
    old_params.insert(
        "KeyAliasName".into(),
        ParamInput::Known("alias/cicd/artifacts".into()),
    );
    new_params.insert(
        "KeyAliasName".into(),
        ParamInput::Known("alias/cicd/new".into()),
    );
    let p = run(&t, &old_params, &[], &t, &new_params, &pseudo());
    assert_eq!(ids(&p), [("KeyAlias", modify(Replacement::True))]);
    let alias = p
        .outputs
        .iter()
        .find(|o| o.name == "KmsKeyAliasName")
        .unwrap();
    assert_eq!(alias.value, OutputValue::Known("alias/cicd/new".into()));
    let arn = p.outputs.iter().find(|o| o.name == "KmsKeyArn").unwrap();
    assert_eq!(arn.value, OutputValue::Unchanged(None));
    assert_eq!(
        p.export_changes,
        [ExportChange {
            name: Some("CICD::KMS::Key::Alias".into()),
            output: "KmsKeyAliasName".into(),
            kind: ExportChangeKind::ValueChanges { certain: true }
        }]
    );
}

#[test]
fn account_ids_flip_conditions_inside_a_policy() {
    // The prod account becomes the stack's own account: its statement
    // goes away through Fn::If / AWS::NoValue.
    let t = parse(S3).unwrap();
    let mut new_params = s3_params("cicd");
    new_params.insert("ProdAccountId".into(), ParamInput::Known(ACCOUNT.into()));
    let p = run(&t, &s3_params("cicd"), &[], &t, &new_params, &pseudo());
    assert_eq!(
        ids(&p),
        [
            ("ArtifactsBucketPolicy", modify(Replacement::False)),
            ("TemplatesBucketPolicy", modify(Replacement::False)),
        ]
    );
    let policy = resource(&p, "ArtifactsBucketPolicy");
    assert_eq!(paths(policy), ["PolicyDocument.Statement"]);
    assert_eq!(
        policy.causes,
        BTreeSet::from([Cause::Parameter("ProdAccountId".into())])
    );
}

#[test]
fn values_known_after_apply() {
    let t = parse(S3).unwrap();
    let mut new_params = s3_params("cicd");
    new_params.insert("KmsKeyArn".into(), ParamInput::Unknown);
    let p = run(&t, &s3_params("cicd"), &[], &t, &new_params, &pseudo());
    assert_eq!(
        ids(&p),
        [
            ("ArtifactsBucket", modify(Replacement::False)),
            ("TemplatesBucket", modify(Replacement::False)),
        ]
    );
    let change = &resource(&p, "ArtifactsBucket").changes[0];
    assert_eq!(
        change.path.to_string(),
        "BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID"
    );
    assert!(!change.certain);
    assert_eq!(
        change.new,
        Some(PlanValue::Unknown(json!({"Fn::Sub": "${KmsKeyArn}"})))
    );
    assert_eq!(
        p.parameters[0].new,
        Some(PlanValue::Unknown(json!({"Ref": "KmsKeyArn"})))
    );

    // Feeding a create-only property: the replacement is conditional.
    let mut new_params = s3_params("cicd");
    new_params.insert("BucketNamePrefix".into(), ParamInput::Unknown);
    let p = run(&t, &s3_params("cicd"), &[], &t, &new_params, &pseudo());
    let bucket = resource(&p, "ArtifactsBucket");
    assert_eq!(bucket.action, modify(Replacement::Conditional));
    assert_eq!(bucket.data_at_risk(), None);

    // Keeping the previous value changes nothing.
    let mut new_params = s3_params("cicd");
    new_params.insert("BucketNamePrefix".into(), ParamInput::UsePrevious);
    let p = run(&t, &s3_params("cicd"), &[], &t, &new_params, &pseudo());
    assert!(p.is_empty(), "{p:#?}");
}

const CHAIN: &str = r#"
Parameters:
  Fifo: {Type: String, Default: "false"}
  Create: {Type: String, Default: "yes"}
  Secret: {Type: String, NoEcho: true, Default: old-secret}
Conditions:
  Creating: !Equals [!Ref Create, "yes"]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      FifoTopic: !Ref Fifo
      DisplayName: !Ref Secret
  Subscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Topic
      Protocol: email
      Endpoint: a@example.com
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Condition: Creating
    Properties:
      AlarmActions: [!Ref Topic]
      Threshold: 1
  Thing:
    Type: Custom::Thing
    Properties:
      ServiceToken: arn:aws:lambda:eu-west-1:111111111111:function:f
      Size: 1
  Table:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Snapshot
    Properties:
      KeySchema: [{AttributeName: id, KeyType: HASH}]
Outputs:
  TopicArn:
    Value: !Ref Topic
    Export: {Name: !Sub "${AWS::StackName}-topic"}
  SecretOut:
    Value: !Ref Secret
"#;

#[test]
fn replacement_propagates_to_references() {
    let t = parse(CHAIN).unwrap();
    let none = IndexMap::new();
    let p = run(&t, &none, &[], &t, &known(&[("Fifo", "true")]), &pseudo());
    assert_eq!(
        ids(&p),
        [
            ("Topic", modify(Replacement::True)),
            ("Subscription", modify(Replacement::Conditional)),
            ("Alarm", modify(Replacement::False)),
        ]
    );
    let sub = resource(&p, "Subscription");
    assert_eq!(
        sub.causes,
        BTreeSet::from([Cause::Resource("Topic".into())])
    );
    assert!(!sub.changes[0].certain);
    let alarm = resource(&p, "Alarm");
    assert_eq!(paths(alarm), ["AlarmActions[0]"]);
    let topic = p.outputs.iter().find(|o| o.name == "TopicArn").unwrap();
    assert!(matches!(topic.value, OutputValue::Unknown(_)));
    assert_eq!(
        p.export_changes,
        [ExportChange {
            name: Some("cicd-s3-topic".into()),
            output: "TopicArn".into(),
            kind: ExportChangeKind::ValueChanges { certain: false }
        }]
    );
}

#[test]
fn condition_flips_add_and_remove() {
    let t = parse(CHAIN).unwrap();
    let none = IndexMap::new();
    let p = run(&t, &none, &[], &t, &known(&[("Create", "no")]), &pseudo());
    assert_eq!(ids(&p), [("Alarm", Action::Remove)]);
    assert_eq!(
        resource(&p, "Alarm").causes,
        BTreeSet::from([Cause::Parameter("Create".into())])
    );
    let p = run(&t, &known(&[("Create", "no")]), &[], &t, &none, &pseudo());
    assert_eq!(ids(&p), [("Alarm", Action::Add)]);
    let mut unknown = IndexMap::new();
    unknown.insert("Create".to_string(), ParamInput::Unknown);
    let p = run(
        &t,
        &known(&[("Create", "no")]),
        &[],
        &t,
        &unknown,
        &pseudo(),
    );
    assert_eq!(ids(&p), [("Alarm", Action::Add)]);
    assert!(resource(&p, "Alarm").existence_uncertain);
}

#[test]
fn unknown_types_and_conditional_schema_paths() {
    let old = parse(CHAIN).unwrap();
    let new = parse(
        &CHAIN
            .replace("Size: 1", "Size: 2")
            .replace("AttributeName: id", "AttributeName: pk"),
    )
    .unwrap();
    let none = IndexMap::new();
    let p = run(&old, &none, &[], &new, &none, &pseudo());
    assert_eq!(
        ids(&p),
        [
            ("Thing", modify(Replacement::Unknown)),
            ("Table", modify(Replacement::Conditional)),
        ]
    );
    let table = resource(&p, "Table");
    assert_eq!(paths(table), ["KeySchema[0].AttributeName"]);
    assert_eq!(table.deletion_policy, Some(Policy::Snapshot));
    assert_eq!(table.data_at_risk(), Some(DataRisk::Replaced));
}

#[test]
fn attribute_only_changes() {
    let old = parse(CHAIN).unwrap();
    let new = parse(&CHAIN.replace(
        "  Subscription:\n    Type: AWS::SNS::Subscription\n",
        "  Subscription:\n    Type: AWS::SNS::Subscription\n    DependsOn: Table\n    Metadata: {Note: x}\n    UpdateReplacePolicy: Retain\n",
    ))
    .unwrap();
    let none = IndexMap::new();
    let p = run(&old, &none, &[], &new, &none, &pseudo());
    assert_eq!(ids(&p), [("Subscription", modify(Replacement::False))]);
    let sub = resource(&p, "Subscription");
    assert!(sub.changes.is_empty());
    assert_eq!(
        sub.attributes,
        [
            AttributeChange::Metadata,
            AttributeChange::UpdateReplacePolicy,
            AttributeChange::DependsOn
        ]
    );
    assert_eq!(sub.update_replace_policy, Some(Policy::Retain));
}

#[test]
fn no_echo_values_are_masked() {
    let t = parse(CHAIN).unwrap();
    let old = known(&[("Secret", "****")]);
    let new = known(&[("Secret", "new-secret")]);
    let p = run(&t, &old, &[], &t, &new, &pseudo());
    assert_eq!(ids(&p), [("Topic", modify(Replacement::False))]);
    let change = &resource(&p, "Topic").changes[0];
    assert_eq!(
        (change.old.clone(), change.new.clone()),
        (Some(PlanValue::Masked), Some(PlanValue::Masked))
    );
    assert!(!change.certain, "the deployed secret is not known");
    let out = p.outputs.iter().find(|o| o.name == "SecretOut").unwrap();
    assert_eq!(out.value, OutputValue::Masked);
    assert_eq!(p.parameters[0].new, Some(PlanValue::Masked));
    let text = format!("{p:?}");
    assert!(
        !text.contains("new-secret") && !text.contains("old-secret"),
        "{text}"
    );
}

#[test]
fn removed_outputs_remove_exports() {
    let old = parse(CHAIN).unwrap();
    let new = parse(&CHAIN.replace("    Export: {Name: !Sub \"${AWS::StackName}-topic\"}\n", ""))
        .unwrap();
    let none = IndexMap::new();
    let outputs = [DeployedOutput {
        key: "TopicArn".into(),
        value: "arn:aws:sns:eu-west-1:111111111111:t".into(),
        export_name: Some("cicd-s3-topic".into()),
    }];
    let p = run(&old, &none, &outputs, &new, &none, &pseudo());
    assert!(p.resources.is_empty());
    assert_eq!(
        p.export_changes,
        [ExportChange {
            name: Some("cicd-s3-topic".into()),
            output: "TopicArn".into(),
            kind: ExportChangeKind::Removed
        }]
    );
    let topic = p.outputs.iter().find(|o| o.name == "TopicArn").unwrap();
    assert_eq!(
        topic.value,
        OutputValue::Known("arn:aws:sns:eu-west-1:111111111111:t".into()),
        "an output of an unchanged resource keeps its deployed value"
    );
    let new = parse(&CHAIN.replace("Outputs:\n  TopicArn:\n    Value: !Ref Topic\n    Export: {Name: !Sub \"${AWS::StackName}-topic\"}\n", "Outputs:\n")).unwrap();
    let p = run(&old, &none, &outputs, &new, &none, &pseudo());
    assert_eq!(p.output_changes[0].action, outputs::OutputAction::Remove);
    assert_eq!(p.export_changes[0].kind, ExportChangeKind::Removed);
}

#[test]
fn json_and_yaml_spellings_plan_nothing() {
    let yaml = parse("Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Join ['-', [a, !Ref 'AWS::Region']]\n      Port: 80\n").unwrap();
    let json = parse(r#"{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": "a-${AWS::Region}"}, "Port": "80"}}}}"#).unwrap();
    let none = IndexMap::new();
    for pseudo in [pseudo(), Pseudo::default()] {
        let p = run(&yaml, &none, &[], &json, &none, &pseudo);
        assert!(p.is_empty(), "{p:#?}");
    }
}

#[test]
fn new_stack_and_errors() {
    let empty = parse("{}").unwrap();
    let t = parse(CHAIN).unwrap();
    let none = IndexMap::new();
    let p = run(&empty, &none, &[], &t, &none, &pseudo());
    assert!(p.resources.iter().all(|r| r.action == Action::Add));
    assert_eq!(p.resources.len(), 5);

    let bad = parse("Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Ref Nope\n").unwrap();
    let deployed = Deployed {
        template: &empty,
        parameters: &none,
        outputs: &[],
    };
    let desired = Desired {
        template: &bad,
        parameters: &none,
    };
    assert_eq!(
        plan(&deployed, &desired, &pseudo()),
        Err(PlanError::Eval {
            side: Side::Desired,
            location: "Resources.B.Properties".into(),
            source: EvalError::UnresolvedReference {
                name: "Nope".into()
            }
        })
    );
}
