//! Every `ws_*` function of the public face, once each, on both local DynamoDBs through the
//! real SDK (the store's own tests go through each path in depth).

mod support;

use std::time::Duration;

use local_dynamo::LocalDynamo;
use serde_json::json;
use server_gateway::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ws_function_on_both_local_dynamodbs() {
    for db in LocalDynamo::all().unwrap() {
        let store = support::store(&db, "ws").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ws_push_function_through_the_local_management_api() {
    use std::time::Instant;
    for db in LocalDynamo::all().unwrap() {
        let store = support::store(&db, "wp").await;
        let api = apigw_local::ManagementApi::start("local").unwrap();
        let m = support::management(&store);
        let url = api.url();
        let soon = Instant::now() + Duration::from_secs(10);
        for (id, user) in [("x1=", "fay"), ("x2=", "fay"), ("x3=", "gus")] {
            ws_store_connection(&store, id, Some(user), Default::default(), None)
                .await
                .unwrap();
            ws_join_room(&store, id, "hall").await.unwrap();
            api.connect(id);
        }
        assert_eq!(
            ws_send_message(&m, &url, "x1=", &json!({"a": 1}), soon).await,
            Outcome::Delivered
        );
        assert_eq!(
            ws_send_text(&m, &url, "x1=", "plain", soon).await,
            Outcome::Delivered
        );
        assert_eq!(
            ws_send_binary(&m, &url, "x1=", "AAEC", soon).await.unwrap(),
            Outcome::Delivered
        );
        assert_eq!(
            api.posted_to("x1="),
            vec![br#"{"a":1}"#.to_vec(), b"plain".to_vec(), vec![0, 1, 2]]
        );
        let bad = ws_send_binary(&m, &url, "x1=", "not base64!", soon)
            .await
            .unwrap_err();
        assert_eq!(bad.code(), contract::codes::INVALID_PARAMETER);
        let ids = vec!["x1=".to_owned(), "x3=".to_owned()];
        assert_eq!(
            ws_broadcast_message(&m, &url, &ids, &json!(1), soon)
                .await
                .unwrap()
                .delivered,
            2
        );
        assert_eq!(
            ws_broadcast_to_all(&m, &url, &json!(2), soon)
                .await
                .unwrap()
                .delivered,
            3
        );
        let fay = vec!["fay".to_owned()];
        assert_eq!(
            ws_broadcast_to_users(&m, &url, &fay, &json!(3), soon)
                .await
                .unwrap()
                .delivered,
            2
        );
        assert_eq!(
            ws_broadcast_to_room(&m, &url, "hall", &json!(4), soon)
                .await
                .unwrap()
                .delivered,
            3
        );
        assert!(ws_is_connection_alive(&m, &url, "x2=").await.unwrap());
        assert!(ws_disconnect_connection(&m, &url, "x2=").await.unwrap());
        assert!(!ws_is_connection_alive(&m, &url, "x2=").await.unwrap());
        assert!(ws_get_connection(&store, "x2=").await.unwrap().is_none());
        let client = ws_get_management_client(&m, &url).await;
        assert!(client
            .get_connection()
            .connection_id("x1=")
            .send()
            .await
            .is_ok());
        assert_eq!(api.posted_to("x3=").len(), 3, "{:?}", db.kind());
    }
}
