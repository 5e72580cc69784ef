//! The broadcasting process of the benchmark (its peak RSS is the row): broadcasts one
//! message through the Management API at `MANAGEMENT` to the connections stored in
//! `DYNAMODB`'s `TABLE` — all of them, or the first `SAMPLE` ids — with `CONCURRENCY` in
//! flight, and prints `{"connections": N, "seconds": T, ...counts}`.
//!
//! `broadcast_run DYNAMODB MANAGEMENT TABLE CONCURRENCY [SAMPLE]`

use std::time::{Duration, Instant};

use apigateway::{Audience, Management, Store, StoreSettings};
use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Credentials, Region};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dynamodb, management, table, concurrency, rest @ ..] = args.as_slice() else {
        eprintln!("usage: broadcast_run DYNAMODB MANAGEMENT TABLE CONCURRENCY [SAMPLE]");
        std::process::exit(2);
    };
    let concurrency: usize = concurrency.parse().unwrap_or(64);
    let sample: Option<usize> = rest.first().and_then(|s| s.parse().ok());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let ddb = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local", "local", None, None, "bench",
            ))
            .endpoint_url(dynamodb)
            .build();
        let store = Store::new(
            aws_sdk_dynamodb::Client::from_conf(ddb),
            StoreSettings {
                table: table.clone(),
                ..StoreSettings::default()
            },
        );
        let sdk = aws_sdk_apigatewaymanagement::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "bench"));
        let pusher = Management::new(sdk, store);
        let audience = match sample {
            Some(n) => Audience::Ids((0..n).map(|i| format!("c{i}=")).collect()),
            None => Audience::All,
        };
        let message = br#"{"type":"broadcast","data":{"message":"tick"}}"#;
        let start = Instant::now();
        let report = pusher
            .broadcast(
                management,
                audience,
                message,
                concurrency,
                Instant::now() + Duration::from_secs(3600),
            )
            .await
            .expect("broadcast");
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{}",
            serde_json::json!({"connections": report.total(), "seconds": seconds,
                "delivered": report.delivered, "gone": report.gone, "failed": report.failed,
                "unknown": report.unknown, "not_attempted": report.not_attempted})
        );
    });
}
