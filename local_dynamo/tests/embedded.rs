//! The embedded dynoxide in a file: its data outlives the process's handle and is there
//! when the file is opened again; expired items are swept on the period asked for.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use local_dynamo::{Embedded, LocalDynamo};

fn state_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "local-dynamo-{}-{}",
        std::process::id(),
        fastrand_suffix()
    ));
    dir.join("nested").join(name)
}

fn fastrand_suffix() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

async fn table(client: &aws_sdk_dynamodb::Client) {
    client
        .create_table()
        .table_name("state")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    client
        .update_time_to_live()
        .table_name("state")
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expiresAt")
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

async fn put(client: &aws_sdk_dynamodb::Client, pk: &str, expires_at: i64) {
    client
        .put_item()
        .table_name("state")
        .item("pk", AttributeValue::S(pk.into()))
        .item("expiresAt", AttributeValue::N(expires_at.to_string()))
        .send()
        .await
        .unwrap();
}

async fn has(client: &aws_sdk_dynamodb::Client, pk: &str) -> bool {
    client
        .get_item()
        .table_name("state")
        .key("pk", AttributeValue::S(pk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_keeps_the_data_and_expired_items_are_swept() {
    let file = state_file("dynamodb.sqlite");
    let options = Embedded {
        file: Some(file.clone()),
        ttl_sweep: Duration::from_millis(100),
        ..Embedded::default()
    };
    {
        let db = LocalDynamo::embedded_with(&options).unwrap();
        let client = db.client();
        table(&client).await;
        put(&client, "live", now_s() + 3600).await;
        put(&client, "expired", now_s() - 10).await;
        assert!(file.exists(), "the file and its folders are made");
    }
    // A second run on the same file: the table and the live item are there; the sweep
    // (every 100 ms here) removes the expired one, bounded by 5 s.
    let db = LocalDynamo::embedded_with(&options).unwrap();
    let client = db.client();
    assert!(has(&client, "live").await, "kept across runs");
    let start = Instant::now();
    while has(&client, "expired").await {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the expired item was never swept"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(db);
    let _ = std::fs::remove_dir_all(file.parent().and_then(|p| p.parent()).unwrap());

    // In memory (the default): nothing is kept.
    let db = LocalDynamo::embedded().unwrap();
    let tables = db.client().list_tables().send().await.unwrap();
    assert!(tables.table_names().is_empty());
}
