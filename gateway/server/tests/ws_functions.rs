//! Every `ws_*` function of the public face, once each, on both local DynamoDBs through the
//! real SDK (the store's own tests go through each path in depth).

use std::time::Duration;

use apigateway::{Store, StoreSettings, TableSpec};
use local_dynamo::LocalDynamo;
use serde_json::json;
use server_gateway::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ws_function_on_both_local_dynamodbs() {
    for db in LocalDynamo::all().unwrap() {
        let store = Store::new(
            aws_sdk_dynamodb::Client::from_conf(db.config().build()),
            StoreSettings {
                table: format!("ws{}", fastrand::u64(..)),
                ..StoreSettings::default()
            },
        );
        store.ensure_table(TableSpec { ttl: true }).await.unwrap();
        let s = &store;
        let mut metadata = serde_json::Map::new();
        metadata.insert("client".into(), json!("test"));
        ws_store_connection(
            s,
            "w1=",
            Some("erin"),
            metadata,
            Some(Duration::from_secs(600)),
        )
        .await
        .unwrap();
        ws_store_connection(s, "w2=", Some("erin"), Default::default(), None)
            .await
            .unwrap();
        let got = ws_get_connection(s, "w1=").await.unwrap().unwrap();
        assert_eq!(got.metadata["client"], "test", "{:?}", db.kind());
        assert!(got.expires_at - got.connected_at / 1000 <= 601);
        let updated = ws_update_connection(s, "w1=", &json!({"metadata": {"client": "changed"}}))
            .await
            .unwrap();
        assert_eq!(updated.metadata["client"], "changed");
        let refused = ws_update_connection(s, "w1=", &json!({"expiresAt": 1}))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), contract::codes::INVALID_PARAMETER);
        let missing = ws_update_connection(s, "nobody=", &json!({}))
            .await
            .unwrap_err();
        assert_eq!(missing.code(), codes::APIGW_NO_CONNECTION);
        assert_eq!(ws_get_all_connections(s).await.unwrap().len(), 2);
        assert_eq!(
            ws_get_connections_by_user(s, "erin").await.unwrap().len(),
            2
        );
        assert_eq!(ws_get_active_connections(s, 0).await.unwrap().len(), 2);
        assert!(ws_join_room(s, "w1=", "lobby").await.unwrap());
        assert!(ws_join_room(s, "w2=", "lobby").await.unwrap());
        assert_eq!(
            ws_get_connections_by_room(s, "lobby").await.unwrap().len(),
            2
        );
        assert!(ws_leave_room(s, "w2=", "lobby").await.unwrap());
        assert_eq!(
            ws_get_connections_by_room(s, "lobby").await.unwrap().len(),
            1
        );
        assert!(ws_delete_connection(s, "w1=").await.unwrap());
        assert!(ws_get_connections_by_room(s, "lobby")
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            ws_cleanup_stale_connections(s, Duration::from_secs(3600))
                .await
                .unwrap(),
            0
        );
        assert_eq!(ws_get_all_connections(s).await.unwrap().len(), 1);
    }
}
