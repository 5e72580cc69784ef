//! The `lambda-apigw` binary as deployed code reads its world: the SDK's configuration from
//! the environment (`AWS_ENDPOINT_URL_DYNAMODB` aimed at the embedded DynamoDB, dummy
//! credentials, no instance metadata), the table made on first use, events in AWS's shape.
//! And the layering the build promises, read from `cargo tree`.

use std::process::Command;

use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../gateway/server/tests/fixtures/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn invoke(db: &local_dynamo::LocalDynamo, table: &str, event: &Value) -> (i32, Value) {
    let (code, answer, _) = invoke_with(db, table, event, &[]);
    (code, answer)
}

fn invoke_with(
    db: &local_dynamo::LocalDynamo,
    table: &str,
    event: &Value,
    env: &[(&str, &str)],
) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lambda-apigw"))
        .arg("invoke")
        .arg(event.to_string())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL_DYNAMODB", db.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("APIGW_TABLE", table)
        .env("APIGW_CREATE_TABLE", "true")
        .env("APIGW_DEV_IDENTITY", "true")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let answer = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|_| panic!("not JSON: {stdout} {stderr}"));
    (out.status.code().unwrap_or(-1), answer, stderr)
}

#[test]
fn debug_and_timing_lines_carry_the_request_id() {
    let db = local_dynamo::LocalDynamo::embedded().unwrap();
    let table = format!("dbg{}", fastrand::u32(..));
    let switches = [
        ("DEBUG_MODE", "true"),
        ("APIGW_DEBUG_MODE", "true"),
        ("APIGW_DEBUG_TIMING", "true"),
    ];
    let (code, _, lines) = invoke_with(&db, &table, &fixture("connect"), &switches);
    assert_eq!(code, 0, "{lines}");
    let tagged = "[CJZxdGZ2joEFQ8A=] [APIGW-";
    for wanted in [
        "[APIGW-DEBUG] Event (route_key=$connect, connection_id=CJZxdeRljoECIhw=",
        "[APIGW-DEBUG] Stored connection (connection_id=CJZxdeRljoECIhw=",
        "[APIGW-TIMING] store_connection:",
        "[APIGW-TIMING] route:",
    ] {
        assert!(lines.contains(wanted), "{wanted} missing: {lines}");
    }
    // The cold start's own line comes before any event: it has no request id to carry.
    assert!(
        lines.contains("[-] [APIGW-TIMING] cold_start_config:"),
        "{lines}"
    );
    for line in lines
        .lines()
        .filter(|l| l.contains("[APIGW-") && !l.contains("cold_start_config"))
    {
        assert!(line.starts_with(tagged), "{line}");
    }
    // Off by default: nothing.
    let (_, _, quiet) = invoke_with(&db, &table, &fixture("disconnect"), &[]);
    assert!(!quiet.contains("[APIGW-"), "{quiet}");
}

#[test]
fn the_binary_serves_events_from_its_environment() {
    let db = local_dynamo::LocalDynamo::embedded().unwrap();
    let table = format!("bin{}", fastrand::u32(..));
    let (code, answer) = invoke(&db, &table, &fixture("connect"));
    assert_eq!(
        (code, answer.clone()),
        (0, json!({"statusCode": 200})),
        "{answer}"
    );

    let mut hello = fixture("message");
    hello["requestContext"]["routeKey"] = json!("hello");
    hello["body"] = json!(r#"{"type":"hello","data":{}}"#);
    let (code, answer) = invoke(&db, &table, &hello);
    assert_eq!(code, 0);
    let frame: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(frame["data"]["client_id"], "CJZxdeRljoECIhw=");

    let (code, answer) = invoke(&db, &table, &json!({"not": "an API Gateway event"}));
    assert_eq!(code, 1);
    assert_eq!(answer["statusCode"], 400);
    let (code, _) = invoke(&db, &table, &fixture("disconnect"));
    assert_eq!(code, 0);
}

/// The names of the packages of this workspace whose normal dependencies reach `krate`.
fn dependents(krate: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args([
            "tree",
            "--workspace",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-i",
            krate,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(/"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn the_halves_link_apart() {
    let sdk = dependents("aws-smithy-runtime");
    assert!(sdk.contains(&"apigateway".to_owned()), "{sdk:?}");
    for client in [
        "lambda",
        "gateway",
        "interface",
        "websocket",
        "home_assistant",
    ] {
        assert!(
            !sdk.contains(&client.to_owned()),
            "{client} links the AWS SDK: {sdk:?}"
        );
    }
    let tungstenite = dependents("tungstenite");
    assert!(
        tungstenite.contains(&"lambda".to_owned()),
        "{tungstenite:?}"
    );
    for server in [
        "apigateway",
        "server_interface",
        "server_gateway",
        "lambda-apigw",
        "local_dynamo",
    ] {
        assert!(
            !tungstenite.contains(&server.to_owned()),
            "{server} links tungstenite: {tungstenite:?}"
        );
    }
}
