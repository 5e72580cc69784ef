//! `apigw-local`'s state file: the embedded DynamoDB's data is kept under the working
//! directory across runs; a run finds none of the previous run's clients connected (a
//! clean stop sends their `$disconnect`s, a killed run's records are removed on the next
//! start); `--fresh` starts clean, `--in-memory` writes nothing.

mod running;
#[path = "../../apigw_local/tests/support/mod.rs"]
mod support;

use running::{next_kind, send, users_in, workdir, Running};
use serde_json::{json, Value};
use support::{close_of, connect};

const DEV: [(&str, &str); 1] = [("APIGW_DEV_IDENTITY", "true")];

/// A client of `user` in room `lobby`.
fn joined(emulator: &Running, user: &str) -> support::Client {
    let mut client = connect(&format!("{}?user_id={user}", emulator.url()), &[]).unwrap();
    send(
        &mut client,
        &json!({"type": "subscribe_room", "data": {"room_id": "lobby"}}),
    );
    assert_eq!(
        next_kind(&mut client, "room_subscribed")["type"],
        "room_subscribed"
    );
    client
}

fn stats(client: &mut support::Client) -> Value {
    send(client, &json!({"type": "get_stats"}));
    next_kind(client, "stats")["data"].clone()
}

fn members(client: &mut support::Client) -> Vec<String> {
    send(
        client,
        &json!({"type": "room_members", "data": {"room_id": "lobby"}}),
    );
    users_in(&next_kind(client, "room_members"))
}

#[test]
fn the_state_file_outlives_a_run_and_no_client_of_a_previous_run_stays() {
    let dir = workdir();
    let mut first = Running::start_in(&dir, &[], &DEV);
    assert_eq!(first.ready["state"], ".apigw-local/dynamodb.sqlite");
    assert_eq!(first.ready["staleConnectionsRemoved"], 0);
    let mut alice = joined(&first, "alice");
    let _bob = joined(&first, "bob");
    assert_eq!(members(&mut alice), ["alice", "bob"]);
    assert_eq!(stats(&mut alice)["total_connections"], 2);
    assert!(dir.join(".apigw-local/dynamodb.sqlite").exists());

    // Killed: no close, no $disconnect. The next run removes both records.
    first.kill();
    let mut second = Running::start_in(&dir, &[], &DEV);
    assert_eq!(
        second.ready["staleConnectionsRemoved"], 2,
        "{}",
        second.ready
    );
    let mut carol = joined(&second, "carol");
    assert_eq!(members(&mut carol), ["carol"], "alice and bob are gone");
    let kept = stats(&mut carol);
    assert_eq!(
        kept["total_connections"], 3,
        "the counters were kept: {kept}"
    );
    assert_eq!(kept["connected_clients"], 1, "{kept}");

    // A clean stop closes every client (1001) and sends their $disconnects: nothing stale.
    assert!(second.stop(), "apigw-local stops on SIGTERM");
    assert_eq!(close_of(&mut carol).0, 1001);
    let mut third = Running::start_in(&dir, &[], &DEV);
    assert_eq!(third.ready["staleConnectionsRemoved"], 0, "{}", third.ready);
    let mut dave = joined(&third, "dave");
    assert_eq!(stats(&mut dave)["total_connections"], 4);
    third.stop();

    // --fresh: the file is removed first; the counters start again.
    let fourth = Running::start_in(&dir, &["--fresh"], &DEV);
    let mut erin = joined(&fourth, "erin");
    assert_eq!(stats(&mut erin)["total_connections"], 1);
    drop(fourth);

    // --in-memory: nothing is written.
    let memory = workdir();
    let fifth = Running::start_in(&memory, &["--in-memory"], &DEV);
    assert_eq!(fifth.ready["state"], Value::Null);
    let mut frank = joined(&fifth, "frank");
    assert_eq!(members(&mut frank), ["frank"]);
    assert!(!memory.join(".apigw-local").exists());
    drop(fifth);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&memory);
}

#[test]
fn the_chat_page_is_served_at_the_root() {
    let emulator = Running::start(&["--in-memory", "--stage", "dev"], &DEV);
    let chat = emulator.chat();
    let host = chat
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&host).unwrap();
    use std::io::{Read, Write};
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response:.200}");
    assert!(response.contains("text/html"));
    assert!(
        response.contains("ws://${location.host}/dev"),
        "the stage is the page's"
    );
    assert!(!response.contains("{{STAGE}}"));
}
