//! This project's server function in the emulator's process: the built-in app's router over
//! the embedded DynamoDB, pushing through the emulator's own Management API — the same code
//! `lambda-apigw` runs on Lambda.

use std::time::{Duration, Instant};

use apigateway::{Management, Store, StoreSettings, TableSpec};
use apigw_local::{Function, FunctionError};
use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Credentials, Region};
use local_dynamo::LocalDynamo;
use serde_json::Value;

/// The answer comes back this long before the integration's deadline, as `lambda-apigw`'s
/// does before its invocation's.
const ANSWER_MARGIN: Duration = Duration::from_millis(500);

/// The built-in app's router over `store` (its table created when missing), as a
/// function of the emulator; the identity rule and limits are the environment's.
pub async fn built_in_app(store: Store) -> Result<(impl Function, Vec<String>), String> {
    store
        .ensure_table(TableSpec { ttl: true })
        .await
        .map_err(|e| format!("the table: {e}"))?;
    let sdk = aws_sdk_apigatewaymanagement::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "apigw-local",
        ));
    let router = server_gateway::app::router_with(store.clone(), Management::new(sdk, store));
    if let Some(problem) = router.problem() {
        return Err(problem.to_owned());
    }
    let routes = router.route_keys();
    let function = move |event: Value, deadline: Instant| {
        let router = router.until(deadline.checked_sub(ANSWER_MARGIN).unwrap_or(deadline));
        async move { Ok::<Value, FunctionError>(router.serve(event).await) }
    };
    Ok((function, routes))
}

/// The built-in app's store (the table of `APIGW_TABLE`) over `db`.
pub fn store_over(db: &LocalDynamo) -> Result<Store, String> {
    let mut dynamo = db.config();
    if let Some(plain) = apigateway::plain_http_client(&db.endpoint()) {
        dynamo = dynamo.http_client(plain);
    }
    let settings = StoreSettings::from_env().map_err(|e| e.to_string())?;
    Ok(Store::new(
        aws_sdk_dynamodb::Client::from_conf(dynamo.build()),
        settings,
    ))
}

/// Most connection records a start removes (a state file holds a laptop's connections).
const MAX_STALE: usize = 100_000;

/// Removes the connections (and their room memberships) a previous run of the emulator
/// left in the built-in app's table: none of those clients is connected to this run. A
/// run that stopped cleanly sent their `$disconnect`s; this covers one that was killed.
/// Nothing when the table is not there. The count removed.
pub async fn remove_stale_connections(store: &Store) -> Result<usize, String> {
    let exists = store
        .client()
        .describe_table()
        .table_name(&store.settings().table)
        .send()
        .await;
    if exists.is_err() {
        return Ok(0);
    }
    let stale = store
        .all_connections()
        .await
        .map_err(|e| format!("the previous run's connections: {e}"))?;
    let mut removed = 0;
    for connection in stale.iter().take(MAX_STALE) {
        if store
            .delete_connection(&connection.connection_id)
            .await
            .is_ok()
        {
            removed += 1;
        }
    }
    Ok(removed)
}
