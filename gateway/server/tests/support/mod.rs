//! What the server-side tests share: events in AWS's shape (the fixtures), a fresh table on
//! a local DynamoDB through the real SDK, and the SDK configuration for the local
//! Management API. Each test binary uses some of it.
#![allow(dead_code)]

use apigateway::{Management, Store, StoreSettings, TableSpec};
use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Builder, Credentials, Region};
use local_dynamo::LocalDynamo;
use serde_json::Value;

/// The fixture event `name` (`connect`, `message`, `disconnect`).
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A store over a new table (named `prefix` and a random number) on `db`, with its indexes
/// and TTL.
pub async fn store(db: &LocalDynamo, prefix: &str) -> Store {
    store_with(db, prefix, StoreSettings::default()).await
}

/// [`store`] with other settings (the table name is still made here).
pub async fn store_with(db: &LocalDynamo, prefix: &str, settings: StoreSettings) -> Store {
    let store = Store::new(
        aws_sdk_dynamodb::Client::from_conf(db.config().build()),
        StoreSettings {
            table: format!("{prefix}{}", fastrand::u64(..)),
            ..settings
        },
    );
    store.ensure_table(TableSpec { ttl: true }).await.unwrap();
    store
}

/// The Management API's SDK configuration for a local endpoint: dummy credentials.
pub fn management_sdk() -> Builder {
    aws_sdk_apigatewaymanagement::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
}

/// The Management API over `store`, for a local endpoint.
pub fn management(store: &Store) -> Management {
    Management::new(management_sdk(), store.clone())
}
