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

/// The frames of `kind` posted to `connection`, in order.
fn frames_of(api: &ManagementApi, connection: &str, kind: &str) -> Vec<Value> {
    api.posted_to(connection)
        .iter()
        .filter_map(|b| serde_json::from_slice::<Value>(b).ok())
        .filter(|f| f["type"] == kind)
        .collect()
}

fn body_of(answer: &apigateway::Answer) -> Value {
    serde_json::from_str(answer.body.as_deref().unwrap_or("null")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_members_and_kick() {
    for db in LocalDynamo::all().unwrap() {
        let store = support::store(&db, "pk").await;
        let api = ManagementApi::start("local").unwrap();
        let host = api.host();
        let router = app::router_with(store.clone(), support::management(&store))
            .identity(Identity::development());
        for (id, query) in [
            ("p1=", json!({"user_id": "alice"})),
            ("p2=", json!({"user_id": "bob"})),
            ("p3=", json!({"user_id": "bob"})),
            (
                "p4=",
                json!({"user_id": "root", "scope": "websocket:admin"}),
            ),
        ] {
            let mut connect = event("connect", id, &host);
            connect["queryStringParameters"] = query;
            assert_eq!(router.handle_value(connect).await.status_code, 200);
            api.connect(id);
        }
        let join = json!({"type": "subscribe_room", "data": {"room_id": "lobby"}});
        for id in ["p1=", "p2="] {
            router.handle_value(message(id, &host, join.clone())).await;
        }
        // alice hears bob join; bob hears nothing of his own join.
        let heard = frames_of(&api, "p1=", "presence");
        assert_eq!(heard.len(), 1, "{heard:?}");
        assert_eq!(heard[0]["data"]["user_id"], "bob");
        assert_eq!(heard[0]["data"]["status"], "joined");
        assert_eq!(heard[0]["data"]["room_id"], "lobby");
        assert!(frames_of(&api, "p2=", "presence").is_empty());
        // Joining again changes nothing and tells no one.
        router
            .handle_value(message("p2=", &host, join.clone()))
            .await;
        assert_eq!(frames_of(&api, "p1=", "presence").len(), 1);

        let members = body_of(
            &router
                .handle_value(message(
                    "p1=",
                    &host,
                    json!({"type": "room_members", "data": {"room_id": "lobby"}}),
                ))
                .await,
        );
        assert_eq!(members["type"], "room_members", "{members}");
        let mut users: Vec<&str> = members["data"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["user_id"].as_str())
            .collect();
        users.sort();
        assert_eq!(users, ["alice", "bob"], "{members}");
        assert_eq!(members["data"]["truncated"], false);

        // kick needs websocket:admin.
        let kick = json!({"type": "kick", "data": {"user_id": "bob"}});
        let refused = body_of(
            &router
                .handle_value(message("p1=", &host, kick.clone()))
                .await,
        );
        assert_eq!(
            refused["data"]["error_code"], "APIGW_FORBIDDEN",
            "{refused}"
        );
        assert!(api.is_live("p2="));
        let kicked = body_of(&router.handle_value(message("p4=", &host, kick)).await);
        assert_eq!(kicked["type"], "kick_sent", "{kicked}");
        assert_eq!(kicked["data"]["closed"], 2, "both of bob's: {kicked}");
        assert!(!api.is_live("p2=") && !api.is_live("p3="));
        assert!(api.is_live("p1=") && api.is_live("p4="));
        assert!(store.get_connection("p2=").await.unwrap().is_none());

        // alice's $disconnect: the room's others hear she left.
        router.handle_value(message("p4=", &host, join)).await;
        let mut bye = event("disconnect", "p1=", &host);
        bye["requestContext"]["disconnectStatusCode"] = json!(1001);
        assert_eq!(router.handle_value(bye).await.status_code, 200);
        let left = frames_of(&api, "p4=", "presence");
        assert_eq!(
            left.last().map(|f| f["data"]["status"].clone()),
            Some(json!("left")),
            "{left:?}"
        );
        assert_eq!(
            left.last().map(|f| f["data"]["user_id"].clone()),
            Some(json!("alice"))
        );
    }
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
        let got = frames_of(&api, "s2=", "room_message");
        assert_eq!(got.len(), 1, "{got:?}");
        let got = &got[0];
        assert_eq!(got["data"]["message"]["text"], "hi");
        assert_eq!(got["data"]["from"], "s1=");
        assert_eq!(got["data"]["user_id"], "alice");
        assert!(
            frames_of(&api, "s1=", "room_message").is_empty(),
            "not echoed to the sender"
        );
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
        assert_eq!(
            frames_of(&api, "s3=", "direct_message").len(),
            1,
            "only bob's"
        );

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
