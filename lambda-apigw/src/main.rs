//! The server half's Lambda function: API Gateway's `$connect`, `$disconnect` and message
//! routes of the built-in app, the management API's HTTP routes and the scheduled
//! heartbeat; connections kept in DynamoDB (`APIGW_TABLE`, reached as the SDK's
//! environment says: `AWS_ENDPOINT_URL_DYNAMODB` for a local one).
//!
//! * no arguments: the Lambda runtime loop;
//! * `invoke EVENT` (`-`: stdin): one event, its answer printed (a local run without the
//!   runtime);
//! * `token --sub alice [--scope websocket:admin] [--ttl 3600]`: an HS256 development token
//!   signed with `APIGW_JWT_SECRET`.
//!
//! `APIGW_CREATE_TABLE=true` creates the table with its indexes and TTL when missing (local
//! runs; a deployment's template creates it).

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

/// The answer comes back this long before the invocation's deadline.
const ANSWER_MARGIN: Duration = Duration::from_millis(500);
/// An invocation's budget when the runtime gives no deadline.
const DEFAULT_BUDGET: Duration = Duration::from_secs(10);

#[derive(Parser)]
#[command(name = "lambda-apigw", about = "The server half's Lambda function")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Answers one event (JSON text, or `-` for stdin) and prints the answer.
    Invoke {
        /// The event.
        event: String,
    },
    /// Prints an HS256 development token signed with APIGW_JWT_SECRET.
    Token {
        /// The user id (`sub`).
        #[arg(long)]
        sub: String,
        /// A scope to grant (repeatable), such as websocket:admin.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Seconds until it expires.
        #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=604_800))]
        ttl: u64,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Command::Token { sub, scopes, ttl }) => token(&sub, &scopes, ttl),
        None => {
            debug::install(std::io::stdout);
            on_runtime(run())
        }
        Some(Command::Invoke { event }) => {
            if debug::env_flag("DEBUG_MODE") {
                debug::install(std::io::stderr);
            }
            on_runtime(invoke(&event))
        }
    }
}

/// Runs `work` on a current-thread runtime (the token command needs none).
fn on_runtime(work: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(work),
        Err(e) => {
            eprintln!("lambda-apigw: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

fn token(sub: &str, scopes: &[String], ttl: u64) -> ExitCode {
    let Ok(secret) = std::env::var("APIGW_JWT_SECRET") else {
        eprintln!("lambda-apigw token: set APIGW_JWT_SECRET (at least 32 bytes) first");
        return ExitCode::from(2);
    };
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    match apigateway::auth::mint_token(
        secret.as_bytes(),
        sub,
        &scopes,
        Duration::from_secs(ttl),
        env("APIGW_JWT_ISSUER").as_deref(),
        env("APIGW_JWT_AUDIENCE").as_deref(),
    ) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lambda-apigw token: {e}");
            ExitCode::from(2)
        }
    }
}

async fn router() -> Result<server_gateway::Router, String> {
    let timer = debug::Timer::start(&apigateway::SCOPE, "cold_start_config");
    let config = apigateway::sdk_config().await;
    let store = server_gateway::Store::from_config(&config).map_err(|e| e.to_string())?;
    if debug::env_flag("APIGW_CREATE_TABLE") {
        store
            .ensure_table(server_gateway::TableSpec { ttl: true })
            .await
            .map_err(|e| e.to_string())?;
    }
    let management = apigateway::Management::from_config(&config, store.clone());
    let router = server_gateway::app::router_with(store, management);
    timer.finish();
    match router.problem() {
        Some(problem) => Err(problem.to_owned()),
        None => Ok(router),
    }
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
        // Lambda's epoch deadline, or cargo-lambda's relative one (contract's rule).
        let deadline = contract::invocation_deadline(event.context.deadline)
            .unwrap_or_else(|| std::time::Instant::now() + DEFAULT_BUDGET);
        let left = deadline
            .saturating_duration_since(std::time::Instant::now())
            .saturating_sub(ANSWER_MARGIN);
        debug::debug_line!(
            apigateway::SCOPE,
            "Invocation (request_id={}, budget_ms={})",
            debug::escape_line(&event.context.request_id),
            left.as_millis()
        );
        let router = router.until(std::time::Instant::now() + left);
        async move { Ok::<Value, lambda_runtime::Error>(router.serve(event.payload).await) }
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
    let answer = match serde_json::from_str::<Value>(&text) {
        Ok(value) => router.serve(value).await,
        Err(_) => serde_json::to_value(router.handle_text(&text).await).unwrap_or(Value::Null),
    };
    println!("{answer}");
    let accepted = answer
        .get("statusCode")
        .and_then(Value::as_u64)
        .map_or(answer["success"] == true, |s| (200..300).contains(&s));
    if accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
