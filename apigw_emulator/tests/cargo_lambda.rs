//! `cargo lambda watch` (the real Lambda runtime emulator) serving the server function
//! `lambda-apigw`, with `apigw-local --invoke-url` in front of it: the same binary that is
//! deployed, its runtime loop, the built-in app's routes, its DynamoDB the emulator's
//! embedded one, its pushes through the emulator's Management API.

mod running;
#[path = "../../apigw_local/tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use running::{next_kind, send, users_in, Running, WatchedFunction};
use serde_json::json;
use support::{connect, next_json};

#[test]
fn the_server_function_under_cargo_lambda_watch() {
    let Some(mut function) = WatchedFunction::start(&[("APIGW_DEV_IDENTITY", "true")]) else {
        return;
    };
    let args = function.emulator_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The function's DynamoDB is this emulator's: it starts before the function's first
    // invocation reads it.
    let emulator = Running::start(&args, &[]);
    function.wait_ready();

    let url = emulator.url();
    let mut alice = connect(&format!("{url}?user_id=alice"), &[]).unwrap();
    let mut bob = connect(&format!("{url}?user_id=bob"), &[]).unwrap();
    for client in [&mut alice, &mut bob] {
        send(client, &json!({"type": "hello"}));
        assert_eq!(next_json(client)["type"], "connection");
        send(
            client,
            &json!({"type": "subscribe_room", "data": {"room_id": "ops"}}),
        );
        assert_eq!(next_json(client)["type"], "room_subscribed");
    }
    // Under cargo-lambda the runtime's deadline is relative (600000): read as an epoch
    // time it would have left no budget, and this broadcast would reach no one.
    send(
        &mut bob,
        &json!({"type": "room_message", "data": {"room_id": "ops", "message": "deployed"}}),
    );
    let sent = next_kind(&mut bob, "room_message_sent");
    assert_eq!(
        sent["data"]["delivered"],
        1,
        "{sent}\n{}",
        function.log_text()
    );
    let got = next_kind(&mut alice, "room_message");
    assert_eq!(
        (got["type"].as_str(), got["data"]["message"].as_str()),
        (Some("room_message"), Some("deployed")),
        "{got}"
    );
    send(&mut alice, &json!({"type": "get_stats"}));
    let stats = next_kind(&mut alice, "stats");
    assert_eq!(stats["type"], "stats", "{stats}");
    assert_eq!(stats["data"]["connected_clients"], 2, "{stats}");

    // bob leaves: his $disconnect reaches the function through the runtime loop.
    bob.close(None).unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    let left = loop {
        send(&mut alice, &json!({"type": "get_stats"}));
        let n = next_kind(&mut alice, "stats")["data"]["connected_clients"].as_i64();
        if n == Some(1) || Instant::now() > until {
            break n;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(left, Some(1), "{}", function.log_text());
    let log = function.log_text();
    assert!(
        log.contains("$disconnect"),
        "the function logged no $disconnect:\n{log}"
    );

    // A restart of the function (cargo lambda watch does one on every rebuild): a new
    // process, nothing in its memory. Connections and room memberships are in the
    // emulator's DynamoDB: alice and carol are still in "ops" and still hear each other.
    let mut carol = connect(&format!("{url}?user_id=carol"), &[]).unwrap();
    send(
        &mut carol,
        &json!({"type": "subscribe_room", "data": {"room_id": "ops"}}),
    );
    assert_eq!(
        next_kind(&mut carol, "room_subscribed")["data"]["room_id"],
        "ops"
    );
    function.restart();
    send(
        &mut carol,
        &json!({"type": "room_message", "data": {"room_id": "ops", "message": "still here?"}}),
    );
    let sent = next_kind(&mut carol, "room_message_sent");
    assert_eq!(
        sent["data"]["delivered"],
        1,
        "{sent}\n{}",
        function.log_text()
    );
    let got = next_kind(&mut alice, "room_message");
    assert_eq!(got["data"]["message"], "still here?", "{got}");
    assert_eq!(got["data"]["user_id"], "carol", "{got}");
    send(
        &mut alice,
        &json!({"type": "room_members", "data": {"room_id": "ops"}}),
    );
    let members = next_kind(&mut alice, "room_members");
    assert_eq!(users_in(&members), ["alice", "carol"], "{members}");
}
