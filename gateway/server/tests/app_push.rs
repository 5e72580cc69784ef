//! The built-in app's messages to others — `room_message`, `direct_message`, `broadcast` —
//! through the real SDK to the local Management API, the store on a local DynamoDB; the
//! sender gets the counts of each outcome.

mod support;

use std::time::{Duration, Instant};

use apigw_local::ManagementApi;
use local_dynamo::LocalDynamo;
use serde_json::{json, Value};
use server_gateway::{app, Identity};
use support::fixture;

/// An event of `kind` for `connection` on the local API at `host` (a loopback
/// `domainName`: the rule sends to `http://{host}/{stage}`).
fn event(kind: &str, connection: &str, host: &str) -> Value {
    let mut e = fixture(kind);
    e["requestContext"]["connectionId"] = json!(connection);
    e["requestContext"]["domainName"] = json!(host);
    e["requestContext"]["stage"] = json!("local");
    e
}

fn message(connection: &str, host: &str, body: Value) -> Value {
    let mut e = event("message", connection, host);
    e["requestContext"]["routeKey"] = json!(body["type"]);
    e["body"] = json!(body.to_string());
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_direct_and_broadcast_messages_reach_the_others() {
    for db in LocalDynamo::all().unwrap() {
        let store = support::store(&db, "ap").await;
        let api = ManagementApi::start("local").unwrap();
        let host = api.host();
        let router = app::router_with(store.clone(), support::management(&store))
            .identity(Identity::development());
        for (id, user) in [
            ("s1=", "alice"),
            ("s2=", "bob"),
            ("s3=", "bob"),
            ("s4=", "carol"),
        ] {
            let mut connect = event("connect", id, &host);
            connect["queryStringParameters"] = if id == "s2=" {
                json!({"user_id": user, "scope": "websocket:admin"})
            } else {
                json!({"user_id": user})
            };
            assert_eq!(router.handle_value(connect).await.status_code, 200);
            api.connect(id);
        }
        for id in ["s1=", "s2=", "s4="] {
            router
                .handle_value(message(
                    id,
                    &host,
                    json!({"type": "subscribe_room", "data": {"room_id": 7}}),
                ))
                .await;
        }
        // s4 went away without a $disconnect: its post is gone, its records removed.
        api.disconnect("s4=");
        let deadline = Instant::now() + Duration::from_secs(10);
        let answer = router
            .until(deadline)
            .handle_value(message(
                "s1=",
                &host,
                json!({"type": "room_message", "data": {"room_id": "7", "message": {"text": "hi"}}}),
            ))
            .await;
        let sent: Value = serde_json::from_str(answer.body.as_deref().unwrap()).unwrap();
        assert_eq!(sent["type"], "room_message_sent", "{sent}");
        assert_eq!(sent["data"]["delivered"], 1, "{sent}");
        assert_eq!(sent["data"]["gone"], 1, "{sent}");
        let got: Value = serde_json::from_slice(&api.posted_to("s2=")[0]).unwrap();
        assert_eq!(got["type"], "room_message");
        assert_eq!(got["data"]["message"]["text"], "hi");
        assert_eq!(got["data"]["from"], "s1=");
        assert_eq!(got["data"]["user_id"], "alice");
        assert!(api.posted_to("s1=").is_empty(), "not echoed to the sender");
        assert!(store.get_connection("s4=").await.unwrap().is_none());

        let direct = router
            .handle_value(message(
                "s1=",
                &host,
                json!({"type": "direct_message", "data": {"user_id": "bob", "message": "psst"}}),
            ))
            .await;
        let sent: Value = serde_json::from_str(direct.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            sent["data"]["delivered"], 2,
            "both of bob's connections: {sent}"
        );
        assert_eq!(api.posted_to("s3=").len(), 1, "only bob's");

        // broadcast needs websocket:admin: alice has no scope.
        let refused = router
            .handle_value(message(
                "s1=",
                &host,
                json!({"type": "broadcast", "data": {"message": "all of you"}}),
            ))
            .await;
        let refused: Value = serde_json::from_str(refused.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            refused["data"]["error_code"], "APIGW_FORBIDDEN",
            "{refused}"
        );
        let all = router
            .handle_value(message(
                "s2=",
                &host,
                json!({"type": "broadcast", "data": {"message": [1, 2]}}),
            ))
            .await;
        let sent: Value = serde_json::from_str(all.body.as_deref().unwrap()).unwrap();
        assert_eq!(sent["type"], "broadcast_sent");
        assert_eq!(
            sent["data"]["delivered"], 2,
            "s1 and s3, not the sender: {sent}"
        );

        // Malformed: an error frame, nothing sent.
        let bad = router
            .handle_value(message(
                "s1=",
                &host,
                json!({"type": "direct_message", "data": {"message": 1}}),
            ))
            .await;
        assert!(bad.body.unwrap().contains("INVALID_MESSAGE"));
    }
}
