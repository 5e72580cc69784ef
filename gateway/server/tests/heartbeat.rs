//! The scheduled heartbeat through the real SDK to the local Management API, the store on
//! the embedded DynamoDB: a run that cannot finish saves its cursor and the next goes on
//! from it, every connection getting one heartbeat; idle ones are closed, gone ones removed;
//! stats through the gateway function and the app's `get_stats`.

mod support;

use std::time::{Duration, Instant};

use apigateway::{ConnectionUpdate, NewConnection, Store, StoreSettings};
use apigw_local::ManagementApi;
use local_dynamo::LocalDynamo;
use serde_json::{json, Value};
use server_gateway::app;

const CONNECTIONS: usize = 120;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_cursor_carries_across_two_runs() {
    let db = LocalDynamo::embedded().unwrap();
    let settings = StoreSettings {
        page_size: 10,
        ..StoreSettings::default()
    };
    let store = support::store_with(&db, "hb", settings).await;
    let api = ManagementApi::start("local").unwrap();
    std::env::set_var("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", api.url());
    std::env::set_var("APIGW_BROADCAST_CONCURRENCY", "2");
    let management = support::management(&store);
    let router = app::router_with(store.clone(), management);

    let ids: Vec<String> = (0..CONNECTIONS).map(|i| format!("hb{i:03}=")).collect();
    for id in &ids {
        store
            .store_connection(&NewConnection::new(id))
            .await
            .unwrap();
    }
    // Live at API Gateway: all but the last five (gone without a $disconnect).
    for id in &ids[..CONNECTIONS - 5] {
        api.connect(id);
    }
    // Three idle for an hour: the heartbeat closes them.
    let hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 3_600_000;
    for id in &ids[..3] {
        store
            .update_connection(
                id,
                &ConnectionUpdate {
                    metadata: None,
                    last_activity: Some(hour_ago),
                },
            )
            .await
            .unwrap();
    }
    api.set_delay(Duration::from_millis(20));

    // Run 1: a budget far too short for 120 posts at 20 ms, two at a time.
    let started = Instant::now();
    let first = router
        .until(Instant::now() + Duration::from_millis(900))
        .heartbeat()
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(!first.complete && !first.resumed, "{first:?}");
    assert!(
        took < Duration::from_millis(990),
        "the run kept its deadline: {took:?}"
    );
    assert!(store
        .load_cursor(apigateway::HEARTBEAT_CURSOR)
        .await
        .unwrap()
        .is_some());

    // Run 2: from the cursor to the end.
    api.set_delay(Duration::ZERO);
    let second = router
        .until(Instant::now() + Duration::from_secs(20))
        .heartbeat()
        .await
        .unwrap();
    assert!(second.complete && second.resumed, "{second:?}");
    assert!(
        store
            .load_cursor(apigateway::HEARTBEAT_CURSOR)
            .await
            .unwrap()
            .is_none(),
        "the finished walk drops its cursor"
    );

    let delivered = first.delivered + second.delivered;
    let idle = first.idle_removed + second.idle_removed;
    let gone = first.gone + second.gone;
    assert_eq!(idle, 3, "{first:?} {second:?}");
    assert_eq!(gone, 5, "{first:?} {second:?}");
    assert_eq!(
        first.not_attempted + second.not_attempted,
        0,
        "no page was cut: {first:?} {second:?}"
    );
    assert_eq!(delivered as usize, CONNECTIONS - 8, "{first:?} {second:?}");
    for id in &ids[3..CONNECTIONS - 5] {
        let got = api.posted_to(id);
        assert_eq!(got.len(), 1, "{id}: one heartbeat across both runs");
        let frame: Value = serde_json::from_slice(&got[0]).unwrap();
        assert_eq!(frame["type"], "heartbeat");
        assert!(
            frame["data"]["clients"].as_i64().is_some() && frame["data"]["timestamp"].is_string()
        );
        assert!(frame["timestamp"].is_string());
    }
    for id in ids[..3].iter().chain(&ids[CONNECTIONS - 5..]) {
        assert!(
            store.get_connection(id).await.unwrap().is_none(),
            "{id} removed"
        );
        assert!(!api.is_live(id), "{id} closed");
    }

    // The stats: through the gateway function and the app's get_stats, the same numbers.
    let stats = server_gateway::ws_get_stats(&store).await.unwrap();
    assert_eq!(stats.total_connections, CONNECTIONS as i64);
    assert_eq!(stats.connected_clients, (CONNECTIONS - 8) as i64);
    let mut get = serde_json::from_str::<Value>(include_str!("fixtures/message.json")).unwrap();
    get["requestContext"]["connectionId"] = json!(ids[10]);
    get["requestContext"]["routeKey"] = json!("get_stats");
    get["body"] = json!(r#"{"type":"get_stats"}"#);
    let answer = router.handle_value(get).await;
    let frame: Value = serde_json::from_str(answer.body.as_deref().unwrap()).unwrap();
    assert_eq!(frame["type"], "stats");
    assert_eq!(frame["data"]["total_connections"], CONNECTIONS as i64);
    assert_eq!(frame["data"]["connected_clients"], (CONNECTIONS - 8) as i64);
}

/// A DynamoDB that accepts connections and never answers: the heartbeat still ends by its
/// deadline (well inside the SDK's own 5 s per call), within 10 %.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_keeps_its_deadline_against_a_store_that_never_answers() {
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", hole.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        // Bounded: the test ends long before 64 connections are made.
        for stream in hole.incoming().take(64).flatten() {
            held.push(stream);
        }
    });
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "x", "x", None, None, "t",
        ))
        .endpoint_url(&url)
        .timeout_config(apigateway::timeouts())
        .build();
    let store = Store::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        StoreSettings::default(),
    );
    let api = ManagementApi::start("local").unwrap();
    let management = support::management(&store);
    let budget = Duration::from_secs(2);
    let started = Instant::now();
    let outcome = management
        .heartbeat(
            &api.url(),
            b"{}",
            Duration::from_secs(900),
            4,
            Instant::now() + budget,
        )
        .await;
    let took = started.elapsed();
    assert!(outcome.is_err(), "{outcome:?}");
    assert!(
        took <= budget + budget / 10,
        "took {took:?} for a {budget:?} budget"
    );
}
