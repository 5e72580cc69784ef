//! `apigw-local`: API Gateway's WebSocket side on 127.0.0.1, faithful to AWS. Clients
//! connect to `ws://127.0.0.1:PORT/{stage}`; the Management API is on the same port under
//! the stage. The function is this project's built-in app in-process (the default), or any
//! function behind the Lambda Invoke API (`--invoke-url`, as `cargo lambda watch` serves
//! it). Connections are kept in an embedded DynamoDB, its data in a file under the
//! working directory (`--state`, `--fresh`, `--in-memory`); nothing to install. The
//! built-in app's chat page is at `http://127.0.0.1:PORT/`.
//!
//! On start it prints one JSON line: `{"websocket", "management", "dynamodb", ...}`.

mod in_process;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use apigw_local::{Bound, Functions, InvokeApi, RouteSelection, Routes, Settings};
use clap::Parser;
use local_dynamo::{Embedded, LocalDynamo};
use serde_json::json;

/// A duration: a bare number is seconds (`29`), else humantime's (`10m`, `2h`, `500ms`).
fn duration(text: &str) -> Result<Duration, String> {
    let d = match text.trim().parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(text.trim()).map_err(|e| e.to_string())?,
    };
    if d.is_zero() {
        return Err("must be more than zero".into());
    }
    Ok(d)
}

#[derive(Parser, Debug)]
#[command(
    name = "apigw-local",
    about = "A local API Gateway WebSocket API, faithful to AWS: events, routing, limits, close codes and the Management API"
)]
struct Cli {
    /// The port on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 3001)]
    port: u16,
    /// The stage: clients connect to ws://127.0.0.1:PORT/STAGE.
    #[arg(long, default_value = "local")]
    stage: String,
    /// The route selection expression. Default: $request.body.action, or
    /// $request.body.type for the built-in app (no --invoke-url).
    #[arg(long = "route-selection-expression")]
    route_selection_expression: Option<String>,
    /// The function over the Lambda Invoke API at this base URL (http://127.0.0.1:9000 for
    /// `cargo lambda watch`); without it, this project's server function runs in-process.
    #[arg(long = "invoke-url")]
    invoke_url: Option<String>,
    /// The function's name at --invoke-url.
    #[arg(long = "function-name", default_value = "lambda-apigw")]
    function_name: String,
    /// A REQUEST authorizer on $connect: the function of this name at --invoke-url.
    #[arg(long)]
    authorizer: Option<String>,
    /// A message route of the API (repeatable; `$default` too). Default: $default alone, or
    /// the built-in app's routes.
    #[arg(long = "route")]
    routes: Vec<String>,
    /// A route without a route response: its answer's body is not sent back (repeatable).
    #[arg(long = "one-way-route")]
    one_way: Vec<String>,
    /// Close a connection that sends nothing for this long (AWS: 10 minutes).
    #[arg(long = "idle-timeout", default_value = "10m", value_parser = duration)]
    idle_timeout: Duration,
    /// Close every connection after this long (AWS: 2 hours).
    #[arg(long = "max-connection-duration", default_value = "2h", value_parser = duration)]
    max_connection_duration: Duration,
    /// Longest the function may take for one event (AWS: 29 s).
    #[arg(long = "integration-timeout", default_value = "29", value_parser = duration)]
    integration_timeout: Duration,
    /// The close code clients get on the idle and duration closes (AWS documents none;
    /// clients report 1001).
    #[arg(long = "timeout-close-code", default_value_t = 1001)]
    timeout_close_code: u16,
    /// Largest frame in bytes (AWS: 32 KB).
    #[arg(long = "frame-limit", default_value_t = apigw_local::FRAME_LIMIT)]
    frame_limit: usize,
    /// Largest message in bytes (AWS: 128 KB).
    #[arg(long = "message-limit", default_value_t = apigw_local::MESSAGE_LIMIT)]
    message_limit: usize,
    /// Invocations of the function in flight at once (Lambda's concurrency); more wait
    /// within the integration timeout.
    #[arg(long, default_value_t = apigw_local::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Pass binary frames to the function (base64) instead of closing with 1003.
    #[arg(long)]
    binary: bool,
    /// The embedded DynamoDB's port on 127.0.0.1 (0: any free one).
    #[arg(long = "dynamodb-port", default_value_t = 0)]
    dynamodb_port: u16,
    /// The file that keeps the embedded DynamoDB's data across runs (relative to the
    /// working directory).
    #[arg(long, default_value = DEFAULT_STATE)]
    state: PathBuf,
    /// Start clean: remove the state file first.
    #[arg(long, conflicts_with = "in_memory")]
    fresh: bool,
    /// Keep the embedded DynamoDB's data in memory only (nothing written, nothing kept).
    #[arg(long = "in-memory")]
    in_memory: bool,
    /// How often expired items are deleted from the embedded DynamoDB.
    #[arg(long = "ttl-sweep", default_value = "60", value_parser = duration)]
    ttl_sweep: Duration,
}

/// Where the embedded DynamoDB's data is kept unless `--state` says otherwise.
const DEFAULT_STATE: &str = ".apigw-local/dynamodb.sqlite";

/// The built-in app's chat page, served at `GET /` (`{{STAGE}}` becomes the stage).
const CHAT_PAGE: &str = include_str!("chat.html");

/// Removes `file` and SQLite's companions of it (`-wal`, `-shm`, `-journal`).
fn remove_state(file: &Path) -> Result<(), String> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot remove {}: {e}", Path::new(&name).display())),
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("apigw-local: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("apigw-local: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    if cli.fresh {
        remove_state(&cli.state)?;
    }
    let state = (!cli.in_memory).then(|| cli.state.clone());
    let db = LocalDynamo::embedded_with(&Embedded {
        port: cli.dynamodb_port,
        file: state.clone(),
        ttl_sweep: cli.ttl_sweep,
    })
    .map_err(|e| match &state {
        Some(file) => format!("the embedded DynamoDB in {}: {e}", file.display()),
        None => format!("the embedded DynamoDB: {e}"),
    })?;
    let store = in_process::store_over(&db)?;
    // No client of an earlier run is connected to this one.
    let stale = match &state {
        Some(_) => in_process::remove_stale_connections(&store).await?,
        None => 0,
    };
    let (functions, app_routes, default_selection) = match &cli.invoke_url {
        Some(base) => {
            let mut functions = Functions::new(InvokeApi::new(base, &cli.function_name)?);
            if let Some(name) = &cli.authorizer {
                functions = functions.with_authorizer(InvokeApi::new(base, name)?);
            }
            (
                functions,
                vec![apigw_local::DEFAULT_ROUTE.to_owned()],
                "$request.body.action",
            )
        }
        None => {
            if cli.authorizer.is_some() {
                return Err("--authorizer needs --invoke-url (it names a function there)".into());
            }
            let (function, routes) = in_process::built_in_app(store).await?;
            (Functions::new(function), routes, "$request.body.type")
        }
    };
    let selection = RouteSelection::parse(
        cli.route_selection_expression
            .as_deref()
            .unwrap_or(default_selection),
    )?;
    let routes = if cli.routes.is_empty() {
        app_routes
    } else {
        cli.routes.clone()
    };
    let settings = Settings {
        stage: cli.stage.clone(),
        selection,
        routes: Routes::new(&routes).one_way(&cli.one_way),
        idle_timeout: cli.idle_timeout,
        max_connection_duration: cli.max_connection_duration,
        integration_timeout: cli.integration_timeout,
        timeout_close_code: cli.timeout_close_code,
        frame_limit: cli.frame_limit,
        message_limit: cli.message_limit,
        binary: cli.binary,
        concurrency: cli.concurrency,
        page: Some(Arc::from(CHAT_PAGE.replace("{{STAGE}}", &cli.stage))),
        ..Settings::default()
    };
    if let Some(problem) = settings.problem() {
        return Err(problem);
    }
    let bound = Bound::bind(cli.port)
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", cli.port))?;
    let addr = bound.addr();
    println!(
        "{}",
        json!({
            "websocket": format!("ws://{addr}/{}", settings.stage),
            "management": format!("http://{addr}/{}", settings.stage),
            "dynamodb": db.endpoint(),
            "chat": format!("http://{addr}/"),
            "state": state.as_ref().map(|f| f.display().to_string()),
            "staleConnectionsRemoved": stale,
            "routeSelectionExpression": settings.selection.as_str(),
            "routes": settings.routes.keys().collect::<Vec<_>>(),
            "function": cli.invoke_url.as_ref().map_or("in-process".to_owned(), |b| format!("{b} ({})", cli.function_name)),
        })
    );
    bound
        .serve(settings, functions, stopped())
        .await
        .map_err(|e| e.to_string())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn stopped() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
