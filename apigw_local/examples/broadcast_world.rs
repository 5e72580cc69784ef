//! The broadcast benchmark's other process: the embedded DynamoDB with `N` stored
//! connections and the local Management API (each call delayed `DELAY_MS`), all live.
//! Prints `{"dynamodb": URL, "management": URL, "table": NAME}` and serves until stdin
//! closes; a line `delay MS` on stdin changes the delay (answered `ok`).
//!
//! `cargo run --release -p apigw_local --example broadcast_world -- 10000 20`

use std::time::Duration;

use apigateway::{NewConnection, Store, StoreSettings, TableSpec};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let delay_ms: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let db = local_dynamo::LocalDynamo::embedded().expect("dynoxide");
    let api = apigw_local::ManagementApi::start("bench").expect("management api");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let table = "bench_connections".to_owned();
    runtime.block_on(async {
        let store = Store::new(
            aws_sdk_dynamodb::Client::from_conf(db.config().build()),
            StoreSettings {
                table: table.clone(),
                ..StoreSettings::default()
            },
        );
        store
            .ensure_table(TableSpec { ttl: true })
            .await
            .expect("table");
        let mut set = tokio::task::JoinSet::new();
        for i in 0..n {
            while set.len() >= 32 {
                set.join_next().await;
            }
            let store = store.clone();
            set.spawn(async move {
                let id = format!("c{i}=");
                store
                    .store_connection(&NewConnection::new(&id))
                    .await
                    .expect("stored");
            });
        }
        while set.join_next().await.is_some() {}
    });
    for i in 0..n {
        api.connect(&format!("c{i}="));
    }
    api.set_delay(Duration::from_millis(delay_ms));
    println!(
        "{}",
        serde_json::json!({"dynamodb": db.endpoint(), "management": api.url(), "table": table})
    );
    for line in std::io::stdin().lines() {
        let Ok(line) = line else { break };
        if let Some(ms) = line
            .strip_prefix("delay ")
            .and_then(|m| m.trim().parse().ok())
        {
            api.set_delay(Duration::from_millis(ms));
            println!("ok");
        }
    }
}
