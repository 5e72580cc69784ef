//! The router and the built-in app on events in AWS's real shape (fixtures), against a
//! local DynamoDB through the real SDK; malformed events answered, never a panic.

mod support;

use std::sync::Arc;

use apigateway::{Answer, Store};
use local_dynamo::LocalDynamo;
use serde_json::{json, Value};
use server_gateway::{app, handler, Identity, Router};
use support::fixture;

/// An event of `kind` (`connect`, `message`, `disconnect`) for `connection`.
fn event(kind: &str, connection: &str) -> Value {
    let mut e = fixture(kind);
    e["requestContext"]["connectionId"] = json!(connection);
    e
}

/// A message `body` on `route` for `connection`.
fn message(connection: &str, route: &str, body: &str) -> Value {
    let mut e = event("message", connection);
    e["requestContext"]["routeKey"] = json!(route);
    e["body"] = json!(body);
    e
}

async fn store(db: &LocalDynamo) -> Store {
    support::store(db, "r").await
}

fn frame(answer: &Answer) -> Value {
    assert_eq!(answer.status_code, 200, "{answer:?}");
    serde_json::from_str(answer.body.as_deref().expect("a body")).expect("a JSON frame")
}

fn dev(router: Router) -> Router {
    router.identity(Identity::development())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_and_disconnect_keep_the_registry() {
    for db in LocalDynamo::all().unwrap() {
        let store = store(&db).await;
        let router = dev(app::router(store.clone()));
        let answer = router.handle_value(event("connect", "c1=")).await;
        assert_eq!(answer, Answer::ok());
        let stored = store.get_connection("c1=").await.unwrap().expect("stored");
        assert_eq!(
            stored.user_id.as_deref(),
            Some("alice"),
            "the development identity"
        );
        assert_eq!(
            stored.connected_at, 1_795_996_800_000,
            "connectedAt from the event"
        );
        assert!(
            stored.metadata.is_empty(),
            "headers and query values are never stored"
        );
        let answer = router.handle_value(event("disconnect", "c1=")).await;
        assert_eq!(answer, Answer::ok());
        assert!(store.get_connection("c1=").await.unwrap().is_none());
        // A $disconnect for a connection never stored is still answered.
        assert_eq!(
            router.handle_value(event("disconnect", "never=")).await,
            Answer::ok()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_development_identity_is_off_by_default_and_an_authorizer_wins() {
    let db = LocalDynamo::embedded().unwrap();
    let store = store(&db).await;
    let router = app::router(store.clone()).identity(Identity::default());
    router.handle_value(event("connect", "anon=")).await;
    assert_eq!(
        store
            .get_connection("anon=")
            .await
            .unwrap()
            .unwrap()
            .user_id,
        None
    );
    let mut authorized = event("connect", "auth=");
    authorized["requestContext"]["authorizer"] = json!({"principalId": "bob", "scope": "chat"});
    dev(app::router(store.clone()))
        .handle_value(authorized)
        .await;
    assert_eq!(
        store
            .get_connection("auth=")
            .await
            .unwrap()
            .unwrap()
            .user_id
            .as_deref(),
        Some("bob")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_connect_may_refuse_or_answer_a_subprotocol() {
    let db = LocalDynamo::embedded().unwrap();
    let store = store(&db).await;
    let refusing = app::router(store.clone()).on_connect(Arc::new(|_ctx| {
        Box::pin(async { Some(Answer::refuse(401)) })
    }));
    assert_eq!(
        refusing
            .handle_value(event("connect", "no="))
            .await
            .status_code,
        401
    );
    assert!(
        store.get_connection("no=").await.unwrap().is_none(),
        "nothing stored"
    );

    let choosing = app::router(store.clone()).on_connect(Arc::new(|ctx| {
        Box::pin(async move {
            let offered = ctx
                .event
                .header("sec-websocket-protocol")
                .unwrap_or_default()
                .to_owned();
            Some(if offered.split(',').any(|p| p.trim() == "chat") {
                Answer::ok().with_header("Sec-WebSocket-Protocol", "chat")
            } else {
                Answer::ok()
            })
        })
    }));
    let mut offered = event("connect", "proto=");
    offered["headers"]["Sec-WebSocket-Protocol"] = json!("chat, superchat");
    let answer = choosing.handle_value(offered).await;
    assert_eq!(answer.headers["Sec-WebSocket-Protocol"], "chat");
    assert!(store.get_connection("proto=").await.unwrap().is_some());
    assert_eq!(
        answer.to_json(),
        r#"{"statusCode":200,"headers":{"Sec-WebSocket-Protocol":"chat"}}"#
    );

    let disconnected = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = Arc::clone(&disconnected);
    let hooked = app::router(store.clone()).on_disconnect(Arc::new(move |_ctx| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async { None })
    }));
    hooked.handle_value(event("disconnect", "proto=")).await;
    assert_eq!(disconnected.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(store.get_connection("proto=").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_events_get_an_answer_and_never_a_panic() {
    let db = LocalDynamo::embedded().unwrap();
    let store = store(&db).await;
    let router = app::router(store.clone());
    let mut cases: Vec<(String, u16)> = vec![
        ("not json".into(), 400),
        ("[]".into(), 400),
        ("{}".into(), 400),
        (r#"{"requestContext": null}"#.into(), 400),
        // An HTTP API event, not a WebSocket one.
        (r#"{"version":"2.0","routeKey":"GET /","rawPath":"/","requestContext":{"http":{"method":"GET"}}}"#.into(), 400),
    ];
    let mut no_id = event("message", "x=");
    no_id["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("connectionId");
    cases.push((no_id.to_string(), 400));
    let mut no_connected_at = event("message", "x=");
    no_connected_at["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("connectedAt");
    cases.push((no_connected_at.to_string(), 400));
    let mut bad_kind = event("message", "x=");
    bad_kind["requestContext"]["eventType"] = json!("TELEPORT");
    cases.push((bad_kind.to_string(), 400));
    let mut control = event("message", "x=");
    control["requestContext"]["connectionId"] = json!("a\u{0}b");
    cases.push((control.to_string(), 400));
    for (text, status) in cases {
        let answer = router.handle_text(&text).await;
        assert_eq!(answer.status_code, status, "{text}: {answer:?}");
        let envelope: Value = serde_json::from_str(answer.body.as_deref().unwrap()).unwrap();
        assert_eq!(envelope["success"], false);
        assert_eq!(envelope["error_code"], "APIGW_EVENT_INVALID", "{text}");
    }
    // A route nobody serves, on a router without $default.
    let bare = Router::new(store.clone()).route("only", handler(|_| async { Answer::ok() }));
    let answer = bare.handle_value(message("x=", "elsewhere", "{}")).await;
    assert_eq!(answer.status_code, 404);
    assert!(answer.body.unwrap().contains("APIGW_UNKNOWN_ROUTE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_built_in_message_and_its_answer() {
    for db in LocalDynamo::all().unwrap() {
        let store = store(&db).await;
        let router = dev(app::router(store.clone()));
        router.handle_value(event("connect", "app=")).await;

        let pong = frame(
            &router
                .handle_value(message("app=", "ping", r#"{"type":"ping","data":{}}"#))
                .await,
        );
        assert_eq!(pong["type"], "pong");
        assert!(pong["data"]["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(pong["timestamp"].is_string());

        let hello = frame(
            &router
                .handle_value(message("app=", "hello", r#"{"type":"hello","data":{}}"#))
                .await,
        );
        assert_eq!(hello["type"], "connection");
        assert_eq!(hello["data"]["status"], "connected");
        assert_eq!(hello["data"]["client_id"], "app=");

        // Room ids may be integers; they are kept as strings.
        let joined = frame(
            &router
                .handle_value(message(
                    "app=",
                    "subscribe_room",
                    r#"{"type":"subscribe_room","data":{"room_id":1}}"#,
                ))
                .await,
        );
        assert_eq!(joined["type"], "room_subscribed");
        assert_eq!(joined["data"]["room_id"], "1");
        assert_eq!(store.connections_by_room("1").await.unwrap().len(), 1);

        let left = frame(
            &router
                .handle_value(message(
                    "app=",
                    "unsubscribe_room",
                    r#"{"type":"unsubscribe_room","data":{"room_id":"1"}}"#,
                ))
                .await,
        );
        assert_eq!(left["type"], "room_unsubscribed");
        assert!(store.connections_by_room("1").await.unwrap().is_empty());

        let stats = frame(
            &router
                .handle_value(message(
                    "app=",
                    "get_stats",
                    r#"{"type":"get_stats","data":{}}"#,
                ))
                .await,
        );
        assert_eq!(stats["type"], "stats");
        assert_eq!(stats["data"]["connected_clients"], 1);
        assert_eq!(stats["data"]["total_connections"], 1);
        assert_eq!(stats["data"]["messages_received"], 5);
        assert_eq!(
            stats["data"]["messages_sent"], 5,
            "its own answer is counted with it"
        );
        assert!(stats["data"]["last_activity"]
            .as_str()
            .unwrap()
            .ends_with('Z'));

        // Anything else is an error frame, on $default too, and the connection stays.
        for (route, body) in [
            ("$default", r#"{"type":"teleport","data":{}}"#),
            ("$default", "not json"),
            ("$default", r#"{"data":{}}"#),
            ("subscribe_room", r#"{"type":"subscribe_room","data":{}}"#),
            (
                "subscribe_room",
                r#"{"type":"subscribe_room","data":{"room_id":1.5}}"#,
            ),
            ("ping", r#"{"type":"ping","data":[]}"#),
        ] {
            let error = frame(&router.handle_value(message("app=", route, body)).await);
            assert_eq!(error["type"], "error", "{body}");
            assert!(error["data"]["error"].is_string());
            assert_eq!(error["data"]["error_code"], "INVALID_MESSAGE", "{body}");
        }
        // The app answers on $default as on its own routes.
        let pong = frame(
            &router
                .handle_value(message("app=", "$default", r#"{"type":"ping"}"#))
                .await,
        );
        assert_eq!(pong["type"], "pong");
        assert!(store.get_connection("app=").await.unwrap().is_some());
        // A room for a connection that is gone: an error frame with the store's code.
        store.delete_connection("app=").await.unwrap();
        let gone = frame(
            &router
                .handle_value(message(
                    "app=",
                    "subscribe_room",
                    r#"{"type":"subscribe_room","data":{"room_id":"r"}}"#,
                ))
                .await,
        );
        assert_eq!(gone["data"]["error_code"], "APIGW_NO_CONNECTION");
    }
}
