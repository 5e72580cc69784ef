//! The emulator: a WebSocket server on 127.0.0.1 that turns connections and frames into
//! API Gateway's events, invokes a function for each, and serves the Management API on
//! the same port.

mod connect;
mod connections_api;
mod event;
mod function;
mod ids;
mod registry;
mod routes;
mod socket;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{any, get};

pub use connect::URL_LIMIT;
pub use function::{Function, FunctionError, Invocation, InvokeApi, ANSWER_LIMIT};
pub use routes::{RouteSelection, Routes, DEFAULT_ROUTE};

use event::Api;
use registry::Registry;

/// `GET /`: the settings' page, or API Gateway's 403 when there is none.
async fn page(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match &shared.settings.page {
        Some(html) => (
            [
                (axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (axum::http::header::CACHE_CONTROL, "no-store"),
            ],
            html.to_string(),
        )
            .into_response(),
        None => crate::management::error(
            axum::http::StatusCode::FORBIDDEN,
            "ForbiddenException",
            "Forbidden",
        )
        .into_response(),
    }
}

/// Invocations in flight at once unless [`Settings::concurrency`] says otherwise: enough
/// for a laptop's load, and a bound on what a storm of `$disconnect`s (every client of a
/// stopping run) holds in memory at once.
pub const DEFAULT_CONCURRENCY: usize = 100;

/// API Gateway's limit on one frame: 32 KB.
pub const FRAME_LIMIT: usize = 32 << 10;

/// How the emulated API behaves; every limit is AWS's by default.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The stage: clients connect to `ws://127.0.0.1:PORT/{stage}`.
    pub stage: String,
    /// The event's `apiId`.
    pub api_id: String,
    /// The route selection expression.
    pub selection: RouteSelection,
    /// The message routes.
    pub routes: Routes,
    /// A connection that sends nothing for this long is closed (AWS: 10 minutes).
    pub idle_timeout: Duration,
    /// A connection is closed after this long whatever it does (AWS: 2 hours).
    pub max_connection_duration: Duration,
    /// Longest the function may take for one event (AWS: 29 s).
    pub integration_timeout: Duration,
    /// The close code the client gets on the idle and duration closes. AWS does not
    /// document it; 1001 (going away) is what clients report.
    pub timeout_close_code: u16,
    /// Largest frame (AWS: 32 KB; larger closes with 1009).
    pub frame_limit: usize,
    /// Largest message, and largest post (AWS: 128 KB; larger closes with 1009, or 413).
    pub message_limit: usize,
    /// Whether binary frames reach the function (base64, `isBase64Encoded`); else they
    /// close the connection with 1003, as on an API without binary media types.
    pub binary: bool,
    /// Bytes that may wait for a client that is not reading before a post answers 429.
    pub outbox_limit: usize,
    /// Invocations of the function in flight at once, across every connection and event
    /// (Lambda's concurrency; more wait for a free one within the integration timeout).
    pub concurrency: usize,
    /// An HTML page served at `GET /`, beside the API (API Gateway serves none; the
    /// `apigw-local` command serves the built-in app's chat page there).
    pub page: Option<Arc<str>>,
}

impl Default for Settings {
    /// Stage `local`, `$request.body.action`, `$default` alone, AWS's limits.
    fn default() -> Settings {
        Settings {
            stage: "local".into(),
            api_id: "apigwlocal".into(),
            selection: RouteSelection::parse("$request.body.action")
                .unwrap_or_else(|_| unreachable!("a valid constant")),
            routes: Routes::default(),
            idle_timeout: Duration::from_secs(600),
            max_connection_duration: Duration::from_secs(2 * 3600),
            integration_timeout: Duration::from_secs(29),
            timeout_close_code: 1001,
            frame_limit: FRAME_LIMIT,
            message_limit: crate::MESSAGE_LIMIT,
            binary: false,
            outbox_limit: 1 << 20,
            concurrency: DEFAULT_CONCURRENCY,
            page: None,
        }
    }
}

impl Settings {
    /// Why these settings cannot run, if they cannot.
    pub fn problem(&self) -> Option<String> {
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 128
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        };
        if !name_ok(&self.stage) {
            return Some(format!(
                "stage {:?} must be letters, digits, - and _",
                self.stage
            ));
        }
        if !name_ok(&self.api_id) {
            return Some(format!(
                "api id {:?} must be letters, digits, - and _",
                self.api_id
            ));
        }
        if !(1000..=4999).contains(&self.timeout_close_code)
            || [1004, 1005, 1006, 1015].contains(&self.timeout_close_code)
        {
            return Some(format!(
                "close code {} cannot be sent in a close frame",
                self.timeout_close_code
            ));
        }
        let zero = [
            ("idle timeout", self.idle_timeout),
            ("connection duration", self.max_connection_duration),
            ("integration timeout", self.integration_timeout),
        ];
        if let Some((name, _)) = zero.iter().find(|(_, d)| d.is_zero()) {
            return Some(format!("the {name} must be more than zero"));
        }
        if !(1..=tokio::sync::Semaphore::MAX_PERMITS.min(100_000)).contains(&self.concurrency) {
            return Some(format!(
                "the concurrency ({}) must be from 1 to 100000",
                self.concurrency
            ));
        }
        if self.frame_limit == 0 || self.message_limit == 0 || self.outbox_limit == 0 {
            return Some("limits must be more than zero".into());
        }
        None
    }
}

/// The functions behind the API: the integration of every route, and an optional REQUEST
/// authorizer on `$connect`.
#[derive(Clone)]
pub struct Functions {
    integration: Arc<dyn Function>,
    authorizer: Option<Arc<dyn Function>>,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Functions")
            .field("authorizer", &self.authorizer.is_some())
            .finish()
    }
}

impl Functions {
    /// `integration` behind every route.
    pub fn new(integration: impl Function) -> Functions {
        Functions {
            integration: Arc::new(integration),
            authorizer: None,
        }
    }

    /// With a REQUEST authorizer on `$connect`: its policy allows or refuses (403, or 401
    /// for a failure named `Unauthorized`), its `principalId` and `context` reach every
    /// later event as `requestContext.authorizer`.
    pub fn with_authorizer(mut self, authorizer: impl Function) -> Functions {
        self.authorizer = Some(Arc::new(authorizer));
        self
    }
}

/// What every connection's task shares.
pub(crate) struct Shared {
    settings: Settings,
    api: Api,
    addr: SocketAddr,
    functions: Functions,
    registry: Registry,
    /// Connections whose `$disconnect` was sent, for [`Emulator::disconnects`].
    disconnects: parking_lot::Mutex<Vec<String>>,
    /// Connections out of the registry whose `$disconnect` is still being invoked (a
    /// stop waits for them too).
    ending: std::sync::atomic::AtomicUsize,
    /// Invocations in flight, at most [`Settings::concurrency`].
    invocations: tokio::sync::Semaphore,
}

impl Shared {
    /// Invokes `function` with `event`, bounded by the integration timeout: `None` when it
    /// did not answer in time.
    async fn invoke(
        &self,
        function: &dyn Function,
        event: serde_json::Value,
    ) -> Option<Result<serde_json::Value, FunctionError>> {
        let timeout = self.settings.integration_timeout;
        let deadline = std::time::Instant::now() + timeout;
        tokio::time::timeout(timeout, async {
            // Waiting for a free instance counts against the integration timeout.
            let _instance = self.invocations.acquire().await.ok();
            function.invoke(event, deadline).await
        })
        .await
        .ok()
    }

    fn warn(&self, line: &str) {
        eprintln!("[apigw-local] {line}");
    }

    fn disconnected(&self, id: &str) {
        let mut done = self.disconnects.lock();
        if done.len() >= 10_000 {
            done.remove(0);
        }
        done.push(id.to_owned());
    }
}

/// The emulated API, serving on 127.0.0.1; stops when dropped (every client closed with
/// 1001).
///
/// ```no_run
/// use apigw_local::{Emulator, FunctionError, Functions, Settings};
/// let f = |_event: serde_json::Value, _deadline: std::time::Instant| async {
///     Ok::<_, FunctionError>(serde_json::json!({"statusCode": 200}))
/// };
/// let api = Emulator::start(Settings::default(), Functions::new(f), 0).unwrap();
/// println!("{}", api.url()); // ws://127.0.0.1:PORT/local
/// ```
pub struct Emulator {
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.shared.addr)
            .field("settings", &self.shared.settings)
            .finish()
    }
}

/// A bound emulator not yet serving: its address is known (for the function's
/// configuration) before it takes connections.
pub struct Bound {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

impl std::fmt::Debug for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bound").field("addr", &self.addr).finish()
    }
}

impl Bound {
    /// Binds 127.0.0.1:`port` (0: an ephemeral port).
    pub async fn bind(port: u16) -> std::io::Result<Bound> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        let addr = listener.local_addr()?;
        Ok(Bound { listener, addr })
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then closes every client with 1001 and sends
    /// their `$disconnect`s (each bounded by the integration timeout).
    pub async fn serve(
        self,
        settings: Settings,
        functions: Functions,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let shared = Self::shared(self.addr, settings, functions)?;
        Self::serve_shared(self.listener, shared, shutdown).await
    }

    fn shared(
        addr: SocketAddr,
        settings: Settings,
        functions: Functions,
    ) -> std::io::Result<Arc<Shared>> {
        if let Some(problem) = settings.problem() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                problem,
            ));
        }
        let settings_concurrency = settings.concurrency;
        Ok(Arc::new(Shared {
            api: Api {
                domain: addr.to_string(),
                stage: settings.stage.clone(),
                api_id: settings.api_id.clone(),
            },
            settings,
            addr,
            functions,
            registry: Registry::default(),
            disconnects: parking_lot::Mutex::new(Vec::new()),
            ending: std::sync::atomic::AtomicUsize::new(0),
            invocations: tokio::sync::Semaphore::new(settings_concurrency),
        }))
    }

    async fn serve_shared(
        listener: tokio::net::TcpListener,
        shared: Arc<Shared>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = axum::Router::new()
            .route("/", get(page))
            .route("/{stage}", get(connect::upgrade))
            .route(
                "/{stage}/@connections/{id}",
                any(connections_api::connection),
            )
            .fallback(any(|| async {
                crate::management::error(
                    axum::http::StatusCode::FORBIDDEN,
                    "ForbiddenException",
                    "Forbidden",
                )
            }))
            .with_state(Arc::clone(&shared));
        let closing = Arc::clone(&shared);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        let app = app.clone().layer(axum::Extension(axum::extract::ConnectInfo(peer)));
                        let service = hyper_util::service::TowerToHyperService::new(app);
                        let connection = http
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .with_upgrades();
                        tokio::spawn(async move {
                            let _ = connection.await;
                        });
                    }
                    // Out of descriptors, say: the next accept may succeed; no busy loop.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
                _ = &mut shutdown => break,
            }
        }
        drop(listener);
        for conn in closing.registry.all() {
            conn.close(1001, "Going away");
        }
        // Bounded: each connection's close handshake and $disconnect are.
        let until = tokio::time::Instant::now() + closing.settings.integration_timeout;
        let busy = |s: &Shared| {
            s.registry.len() > 0 || s.ending.load(std::sync::atomic::Ordering::SeqCst) > 0
        };
        while busy(&closing) && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }
}

/// Longest a client may take to send a request's headers (an upgrade, a Management API
/// call): a connection that sends nothing is closed then, not held for ever.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

impl Emulator {
    /// Serves on 127.0.0.1:`port` (0: an ephemeral port) from a thread of its own.
    pub fn start(settings: Settings, functions: Functions, port: u16) -> std::io::Result<Emulator> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let bound = runtime.block_on(Bound::bind(port))?;
        let shared = Bound::shared(bound.addr, settings, functions)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serving = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let _ = Bound::serve_shared(bound.listener, serving, async {
                    let _ = rx.await;
                })
                .await;
            });
        });
        Ok(Emulator {
            shared,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// `ws://127.0.0.1:PORT/{stage}`, where clients connect.
    pub fn url(&self) -> String {
        format!("ws://{}/{}", self.shared.addr, self.shared.settings.stage)
    }

    /// `http://127.0.0.1:PORT/{stage}`, the Management API's endpoint.
    pub fn management_url(&self) -> String {
        format!("http://{}/{}", self.shared.addr, self.shared.settings.stage)
    }

    /// `127.0.0.1:PORT`, the events' `domainName`.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// Connections established now.
    pub fn connections(&self) -> usize {
        self.shared.registry.len()
    }

    /// Connection ids whose `$disconnect` was sent, in order (the last 10,000).
    pub fn disconnects(&self) -> Vec<String> {
        self.shared.disconnects.lock().clone()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
