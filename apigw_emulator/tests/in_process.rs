//! `apigw-local` with this project's server function in-process — the command the README
//! gives: the built-in app's routes over the embedded DynamoDB, pushing to other clients
//! through the emulator's own Management API, the same code `lambda-apigw` runs on Lambda.

mod running;
#[path = "../../apigw_local/tests/support/mod.rs"]
mod support;

use running::{send, Running};
use serde_json::{json, Value};
use support::{close_of, connect, next_json, refused_status};
use tungstenite::Message;

/// Connection items in the embedded DynamoDB (the table of the built-in app).
fn stored_connections(dynamodb: &str) -> Vec<String> {
    let rt = support::runtime();
    let db = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "l", "l", None, None, "t",
            ))
            .endpoint_url(dynamodb)
            .build(),
    );
    let out = rt
        .block_on(db.scan().table_name("websocket_connections").send())
        .unwrap();
    out.items()
        .iter()
        .filter(|i| {
            i.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("connection")
        })
        .filter_map(|i| i.get("connectionId").and_then(|v| v.as_s().ok()).cloned())
        .collect()
}

#[test]
fn the_built_in_app_runs_in_process_on_the_embedded_dynamodb() {
    let emulator = Running::start(&[], &[("APIGW_DEV_IDENTITY", "true")]);
    assert_eq!(
        emulator.ready["routeSelectionExpression"],
        "$request.body.type"
    );
    let routes: Vec<&str> = emulator.ready["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        routes.contains(&"room_message") && routes.contains(&"$default"),
        "{routes:?}"
    );
    let url = emulator.url();
    let mut alice = connect(&format!("{url}?user_id=alice"), &[]).unwrap();
    let mut bob = connect(&format!("{url}?user_id=bob"), &[]).unwrap();

    send(&mut alice, &json!({"type": "hello"}));
    let hello = next_json(&mut alice);
    assert_eq!(hello["type"], "connection", "{hello}");
    let alice_id = hello["data"]["client_id"].as_str().unwrap().to_owned();
    assert_eq!(alice_id.len(), 16);
    send(&mut bob, &json!({"type": "hello"}));
    let bob_id = next_json(&mut bob)["data"]["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dynamodb = emulator.ready["dynamodb"].as_str().unwrap().to_owned();
    let mut stored = stored_connections(&dynamodb);
    stored.sort();
    let mut expected = vec![alice_id.clone(), bob_id.clone()];
    expected.sort();
    assert_eq!(stored, expected);

    for client in [&mut alice, &mut bob] {
        send(
            client,
            &json!({"type": "subscribe_room", "data": {"room_id": "lobby"}}),
        );
        assert_eq!(next_json(client)["type"], "room_subscribed");
    }
    // alice hears bob join.
    let presence = next_json(&mut alice);
    assert_eq!(
        (
            presence["type"].as_str(),
            presence["data"]["user_id"].as_str()
        ),
        (Some("presence"), Some("bob")),
        "{presence}"
    );
    send(
        &mut alice,
        &json!({"type": "room_message", "data": {"room_id": "lobby", "message": "hi bob"}}),
    );
    let (a, b) = (next_json(&mut alice), next_json(&mut bob));
    assert_eq!(a["type"], "room_message_sent", "{a}");
    assert_eq!(a["data"]["delivered"], 1, "{a}");
    assert_eq!(b["type"], "room_message", "{b}");
    assert_eq!(b["data"]["message"], "hi bob");
    assert_eq!(b["data"]["user_id"], "alice");

    send(
        &mut bob,
        &json!({"type": "direct_message", "data": {"user_id": "alice", "message": "psst"}}),
    );
    assert_eq!(next_json(&mut bob)["data"]["delivered"], 1);
    assert_eq!(next_json(&mut alice)["data"]["message"], "psst");

    // Anything the app cannot read is an error frame; the connection stays.
    alice.send(Message::text("not json")).unwrap();
    assert_eq!(
        next_json(&mut alice)["data"]["error_code"],
        "INVALID_MESSAGE"
    );
    send(&mut alice, &json!({"type": "ping"}));
    assert_eq!(next_json(&mut alice)["type"], "pong");

    // DELETE @connections through the real SDK: bob gets 1000, his record goes.
    let rt = support::runtime();
    rt.block_on(
        support::management(&emulator.management())
            .delete_connection()
            .connection_id(&bob_id)
            .send(),
    )
    .unwrap();
    assert_eq!(close_of(&mut bob).0, 1000);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while stored_connections(&dynamodb).len() != 1 && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(stored_connections(&dynamodb), [alice_id]);
}

#[test]
fn a_token_is_required_when_a_secret_is_set() {
    // The secret reaches the in-process function through the environment, as on Lambda.
    let secret = "a-development-secret-of-at-least-32-bytes";
    let token = apigateway::auth::mint_token(
        secret.as_bytes(),
        "carol",
        &[],
        std::time::Duration::from_secs(60),
        None,
        None,
    )
    .unwrap();
    let emulator = Running::start(&[], &[("APIGW_JWT_SECRET", secret)]);
    assert_eq!(refused_status(connect(&emulator.url(), &[])), 401);
    let mut carol = connect(&format!("{}?token={token}", emulator.url()), &[]).unwrap();
    send(&mut carol, &json!({"type": "hello"}));
    assert_eq!(next_json(&mut carol)["type"], "connection");
}
