//! The connection store against both local DynamoDBs through the real SDK: dynoxide
//! embedded, and Amazon DynamoDB Local when `DYNAMODB_LOCAL_DIR` names it (`.ci/run` does).
//! Every request the SDK sends is recorded by an interceptor: no Scan, ever.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use apigateway::{
    Connection, ConnectionUpdate, Error, NewConnection, Store, StoreSettings, TableSpec,
};
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::AttributeValue;
use local_dynamo::LocalDynamo;
use serde_json::json;

/// Records the DynamoDB operation of every request sent (its `X-Amz-Target`).
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default()
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_owned();
        self.0.lock().unwrap().push(target);
        Ok(())
    }
}

impl Recorder {
    fn operations(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

struct Fixture {
    store: Store,
    recorder: Recorder,
    _db: Arc<LocalDynamo>,
    name: String,
}

/// A store on a fresh table of `db` (pages of `page_size`), TTL on or off.
async fn fixture(db: &Arc<LocalDynamo>, page_size: i32, ttl: bool) -> Fixture {
    let recorder = Recorder::default();
    let config = db
        .config()
        .interceptor(recorder.clone())
        .timeout_config(apigateway::timeouts())
        .build();
    let table = format!("t{}", fastrand::u64(..));
    let store = Store::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        StoreSettings {
            table,
            page_size,
            ..StoreSettings::default()
        },
    );
    store.ensure_table(TableSpec { ttl }).await.unwrap();
    Fixture {
        store,
        recorder,
        _db: Arc::clone(db),
        name: format!("{:?}", db.kind()),
    }
}

fn databases() -> Vec<Arc<LocalDynamo>> {
    LocalDynamo::all()
        .expect("local DynamoDBs start")
        .into_iter()
        .map(Arc::new)
        .collect()
}

fn ids(connections: &[Connection]) -> Vec<String> {
    let mut ids: Vec<String> = connections
        .iter()
        .map(|c| c.connection_id.clone())
        .collect();
    ids.sort();
    ids
}

fn assert_no_scan(f: &Fixture) {
    let ops = f.recorder.operations();
    assert!(!ops.is_empty(), "{}: the recorder saw nothing", f.name);
    assert!(!ops.iter().any(|o| o == "Scan"), "{}: {ops:?}", f.name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_get_update_delete() {
    for db in databases() {
        let f = fixture(&db, 100, true).await;
        let s = &f.store;
        let mut metadata = serde_json::Map::new();
        metadata.insert("page".into(), json!("chat"));
        let stored = s
            .store_connection(
                &NewConnection::new("conn-A=")
                    .user("alice")
                    .metadata(metadata),
            )
            .await
            .unwrap();
        assert_eq!(stored.user_id.as_deref(), Some("alice"));
        let got = s.get_connection("conn-A=").await.unwrap().expect("stored");
        assert_eq!(got.metadata["page"], "chat", "{}", f.name);
        assert!(got.expires_at > got.connected_at / 1000 + 7000);

        let updated = s
            .update_connection(
                "conn-A=",
                &ConnectionUpdate::from_json(&json!({"metadata": {"page": "rooms"}})).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(updated.metadata["page"], "rooms");
        assert_eq!(
            updated.user_id.as_deref(),
            Some("alice"),
            "the user is kept"
        );

        // An update of a missing connection is refused, and creates nothing.
        let err = s
            .update_connection("missing=", &ConnectionUpdate::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NoConnection { .. }),
            "{}: {err:?}",
            f.name
        );
        assert!(s.get_connection("missing=").await.unwrap().is_none());
        // The key, TTL and user are not updates.
        for field in ["connectionId", "expiresAt", "userId", "pk"] {
            assert!(
                ConnectionUpdate::from_json(&json!({field: "x"})).is_err(),
                "{field}"
            );
        }

        assert!(s.delete_connection("conn-A=").await.unwrap());
        assert!(s.get_connection("conn-A=").await.unwrap().is_none());
        assert!(!s.delete_connection("conn-A=").await.unwrap());
        assert_no_scan(&f);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_item_is_never_returned() {
    for db in databases() {
        // No TTL on this table: nothing sweeps, so only the read filters can hide it.
        let f = fixture(&db, 100, false).await;
        let s = &f.store;
        s.store_connection(&NewConnection::new("live=").user("bob"))
            .await
            .unwrap();
        s.store_connection(&NewConnection::new("old=").user("bob"))
            .await
            .unwrap();
        s.join_room("old=", "r1").await.unwrap();
        s.join_room("live=", "r1").await.unwrap();
        // Expire `old=` and its membership in place, as DynamoDB would leave them.
        for sk in ["connection", "room#r1"] {
            s.client()
                .update_item()
                .table_name(&s.settings().table)
                .key("pk", AttributeValue::S("conn#old=".into()))
                .key("sk", AttributeValue::S(sk.into()))
                .update_expression("SET expiresAt = :past")
                .expression_attribute_values(":past", AttributeValue::N("1000".into()))
                .send()
                .await
                .unwrap();
        }
        assert!(
            s.get_connection("old=").await.unwrap().is_none(),
            "{}",
            f.name
        );
        assert_eq!(ids(&s.connections_by_user("bob").await.unwrap()), ["live="]);
        assert_eq!(ids(&s.all_connections().await.unwrap()), ["live="]);
        assert_eq!(ids(&s.active_connections(0).await.unwrap()), ["live="]);
        let members: Vec<String> = s
            .connections_by_room("r1")
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.connection_id)
            .collect();
        assert_eq!(members, ["live="], "{}", f.name);
        assert!(s
            .update_connection("old=", &ConnectionUpdate::default())
            .await
            .is_err());
        // Cleanup takes the expired one away for good.
        assert_eq!(
            s.cleanup_stale_connections(Duration::from_secs(3600))
                .await
                .unwrap(),
            1
        );
        assert_eq!(s.stats().await.unwrap().connected_clients, 1, "{}", f.name);
        assert_no_scan(&f);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_connection_deletes_its_memberships() {
    for db in databases() {
        let f = fixture(&db, 100, true).await;
        let s = &f.store;
        s.store_connection(&NewConnection::new("c3="))
            .await
            .unwrap();
        for room in ["a", "b", "c"] {
            assert!(s.join_room("c3=", room).await.unwrap());
        }
        assert!(
            !s.join_room("c3=", "a").await.unwrap(),
            "joining again changes nothing"
        );
        assert_eq!(s.get_connection("c3=").await.unwrap().unwrap().rooms, 3);
        let mut rooms = s.rooms_of("c3=").await.unwrap();
        rooms.sort();
        assert_eq!(rooms, ["a", "b", "c"]);
        assert!(s.delete_connection("c3=").await.unwrap());
        for room in ["a", "b", "c"] {
            assert!(
                s.connections_by_room(room).await.unwrap().is_empty(),
                "{}",
                f.name
            );
        }
        assert!(s.rooms_of("c3=").await.unwrap().is_empty());
        // Leaving a room one is not in, or joining as nobody.
        assert!(!s.leave_room("c3=", "a").await.unwrap());
        assert!(matches!(
            s.join_room("c3=", "a").await,
            Err(Error::NoConnection { .. })
        ));
        assert_no_scan(&f);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_follow_every_page() {
    for db in databases() {
        let f = fixture(&db, 2, true).await;
        let s = &f.store;
        for i in 0..7 {
            let id = format!("p{i}=");
            s.store_connection(&NewConnection::new(&id).user("carol"))
                .await
                .unwrap();
            s.join_room(&id, "big").await.unwrap();
        }
        s.store_connection(&NewConnection::new("other=").user("dave"))
            .await
            .unwrap();
        assert_eq!(
            s.connections_by_user("carol").await.unwrap().len(),
            7,
            "{}",
            f.name
        );
        assert_eq!(
            s.connections_by_room("big").await.unwrap().len(),
            7,
            "{}",
            f.name
        );
        assert_eq!(s.all_connections().await.unwrap().len(), 8);
        let queries = f
            .recorder
            .operations()
            .iter()
            .filter(|o| *o == "Query")
            .count();
        assert!(queries > 8, "pages of 2 need several queries: {queries}");
        assert_no_scan(&f);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_since_and_stale_cleanup() {
    for db in databases() {
        let f = fixture(&db, 100, true).await;
        let s = &f.store;
        for id in ["old1=", "old2=", "new1="] {
            s.store_connection(&NewConnection::new(id)).await.unwrap();
        }
        let long_ago = 1_000_000;
        for id in ["old1=", "old2="] {
            s.update_connection(
                id,
                &ConnectionUpdate {
                    metadata: None,
                    last_activity: Some(long_ago),
                },
            )
            .await
            .unwrap();
        }
        let since = long_ago + 1;
        assert_eq!(
            ids(&s.active_connections(since).await.unwrap()),
            ["new1="],
            "{}",
            f.name
        );
        assert_eq!(
            s.cleanup_stale_connections(Duration::from_secs(60))
                .await
                .unwrap(),
            2
        );
        assert_eq!(ids(&s.all_connections().await.unwrap()), ["new1="]);
        assert_eq!(s.stats().await.unwrap().connected_clients, 1);
        assert_no_scan(&f);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counters_add_up_under_concurrent_updates() {
    for db in databases() {
        let f = fixture(&db, 100, true).await;
        let mut tasks = Vec::new();
        for i in 0..40 {
            let s = f.store.clone();
            tasks.push(tokio::spawn(async move {
                s.store_connection(&NewConnection::new(&format!("k{i}=")))
                    .await
                    .unwrap();
                s.count_messages(2, 3).await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let stats = f.store.stats().await.unwrap();
        assert_eq!(stats.connected_clients, 40, "{}", f.name);
        assert_eq!(stats.total_connections, 40);
        assert_eq!(stats.messages_received, 80);
        assert_eq!(stats.messages_sent, 120);
        assert!(stats.last_activity > 1_700_000_000_000);
        for i in 0..10 {
            f.store.delete_connection(&format!("k{i}=")).await.unwrap();
        }
        assert_eq!(f.store.stats().await.unwrap().connected_clients, 30);
        assert_no_scan(&f);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bound_is_refused() {
    for db in databases() {
        let f = fixture(&db, 100, true).await;
        let s = &f.store;
        let long = "x".repeat(129);
        let invalid = |r: apigateway::Result<Connection>, what: &str| match r {
            Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, what),
            other => panic!("{what}: {other:?}"),
        };
        invalid(
            s.store_connection(&NewConnection::new(&long)).await,
            "connection_id",
        );
        invalid(
            s.store_connection(&NewConnection::new("")).await,
            "connection_id",
        );
        invalid(
            s.store_connection(&NewConnection::new("a\nb")).await,
            "connection_id",
        );
        invalid(
            s.store_connection(&NewConnection::new("ok=").user(&long))
                .await,
            "user_id",
        );
        let mut big = serde_json::Map::new();
        big.insert("blob".into(), json!("y".repeat(4100)));
        invalid(
            s.store_connection(&NewConnection::new("ok=").metadata(big.clone()))
                .await,
            "metadata",
        );
        assert!(ConnectionUpdate::from_json(&json!({"metadata": big})).is_err());
        s.store_connection(&NewConnection::new("rooms="))
            .await
            .unwrap();
        assert!(matches!(
            s.join_room("rooms=", &long).await,
            Err(Error::InvalidParameter { .. })
        ));
        for i in 0..apigateway::MAX_ROOMS_PER_CONNECTION {
            s.join_room("rooms=", &format!("r{i}")).await.unwrap();
        }
        let err = s.join_room("rooms=", "one-too-many").await.unwrap_err();
        assert!(
            matches!(err, Error::LimitExceeded { limit: 50, .. }),
            "{}: {err:?}",
            f.name
        );
        assert_eq!(s.get_connection("rooms=").await.unwrap().unwrap().rooms, 50);
        assert_no_scan(&f);
    }
}
