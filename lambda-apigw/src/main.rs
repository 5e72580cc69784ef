//! The server half's Lambda function: API Gateway's `$connect`, `$disconnect` and message
//! routes of the built-in app, connections kept in DynamoDB (`APIGW_TABLE`, reached as the
//! SDK's environment says: `AWS_ENDPOINT_URL_DYNAMODB` for a local one).
//!
//! * no arguments: the Lambda runtime loop;
//! * `invoke EVENT` (`-`: stdin): one event, its answer printed (a local run without the
//!   runtime).
//!
//! `APIGW_CREATE_TABLE=true` creates the table with its indexes and TTL when missing (local
//! runs; a deployment's template creates it).

use std::io::Read;
use std::process::ExitCode;

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lambda-apigw: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match args.as_slice() {
        [] => {
            debug::install(std::io::stdout);
            runtime.block_on(run())
        }
        [command, event] if command == "invoke" => {
            if debug::env_flag("DEBUG_MODE") {
                debug::install(std::io::stderr);
            }
            runtime.block_on(invoke(event))
        }
        _ => {
            eprintln!("usage: lambda-apigw [invoke EVENT|-]");
            ExitCode::from(2)
        }
    }
}

async fn router() -> Result<server_gateway::Router, String> {
    let store = server_gateway::Store::from_env()
        .await
        .map_err(|e| e.to_string())?;
    if debug::env_flag("APIGW_CREATE_TABLE") {
        store
            .ensure_table(server_gateway::TableSpec { ttl: true })
            .await
            .map_err(|e| e.to_string())?;
    }
    let management = apigateway::Management::from_env(store.clone()).await;
    Ok(server_gateway::app::router_with(store, management))
}

async fn run() -> ExitCode {
    let router = match router().await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lambda-apigw: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        // The answer comes back 500 ms before the invocation's deadline.
        let left = event
            .context
            .deadline()
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(std::time::Duration::from_millis(500));
        let router = router.until(std::time::Instant::now() + left);
        async move {
            let answer = router.handle_value(event.payload).await;
            Ok::<Value, lambda_runtime::Error>(
                serde_json::to_value(&answer)
                    .unwrap_or_else(|_| serde_json::json!({"statusCode": 500})),
            )
        }
    }))
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lambda-apigw: runtime stopped: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn invoke(event: &str) -> ExitCode {
    let text = if event == "-" {
        let mut text = String::new();
        if std::io::stdin().read_to_string(&mut text).is_err() {
            eprintln!("lambda-apigw invoke: the event on stdin is not UTF-8 text");
            return ExitCode::from(2);
        }
        text
    } else {
        event.to_owned()
    };
    let router = match router().await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lambda-apigw: {e}");
            return ExitCode::FAILURE;
        }
    };
    let answer = router.handle_text(&text).await;
    println!("{}", answer.to_json());
    if answer.accepts() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
