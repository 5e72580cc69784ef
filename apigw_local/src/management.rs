//! The local Management API.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use parking_lot::Mutex;
use serde_json::json;

/// API Gateway's limit on one message: 128 KB.
pub const MESSAGE_LIMIT: usize = 128 << 10;

/// Failures to answer on demand, as API Gateway sometimes does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every `n`th call (1-based, counting every call) answers `status`.
    EveryNth {
        /// The period.
        n: u64,
        /// 429 (`LimitExceededException`) or a 5xx.
        status: u16,
    },
    /// Calls `from`..`from + count` (1-based) answer `status`.
    Burst {
        /// The first call of the burst.
        from: u64,
        /// How many calls.
        count: u64,
        /// 429 or a 5xx.
        status: u16,
    },
}

/// What a connection received through `POST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The connection.
    pub connection_id: String,
    /// The message's bytes.
    pub data: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Live {
    connected_at: SystemTime,
    last_active: SystemTime,
    source_ip: String,
    user_agent: String,
}

#[derive(Debug, Default)]
struct World {
    live: HashMap<String, Live>,
    posted: Vec<Posted>,
    /// Every `POST` that reached the handler, per id, whatever it answered.
    received: HashMap<String, u64>,
    faults: Vec<Fault>,
    delay: Duration,
}

#[derive(Debug)]
struct Shared {
    stage: String,
    world: Mutex<World>,
    calls: AtomicU64,
}

/// The local Management API on 127.0.0.1 with an ephemeral port, for one stage; stops when
/// dropped.
#[derive(Debug)]
pub struct ManagementApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ManagementApi {
    /// Starts it for `stage`, on a thread of its own.
    pub fn start(stage: &str) -> std::io::Result<ManagementApi> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            stage: stage.to_owned(),
            world: Mutex::new(World::default()),
            calls: AtomicU64::new(0),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new()
            .route("/{stage}/@connections/{id}", any(connection))
            .route("/@connections/{id}", any(no_stage))
            .fallback(any(not_found))
            .with_state(Arc::clone(&shared));
        std::thread::spawn(move || {
            runtime.block_on(async move {
                if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                }
            });
        });
        Ok(ManagementApi {
            addr,
            shared,
            stop: Some(tx),
        })
    }

    /// `http://127.0.0.1:PORT/{stage}`: the endpoint the SDK is given (stage included, as
    /// API Gateway's own endpoint has it).
    pub fn url(&self) -> String {
        format!("http://{}/{}", self.addr, self.shared.stage)
    }

    /// `127.0.0.1:PORT`, the event's `domainName` locally.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Makes `connection_id` live (as a connect through API Gateway would).
    pub fn connect(&self, connection_id: &str) {
        let now = SystemTime::now();
        self.shared.world.lock().live.insert(
            connection_id.to_owned(),
            Live {
                connected_at: now,
                last_active: now,
                source_ip: "127.0.0.1".into(),
                user_agent: "apigw_local".into(),
            },
        );
    }

    /// Closes `connection_id` (from then on 410).
    pub fn disconnect(&self, connection_id: &str) {
        self.shared.world.lock().live.remove(connection_id);
    }

    /// Whether `connection_id` is live.
    pub fn is_live(&self, connection_id: &str) -> bool {
        self.shared.world.lock().live.contains_key(connection_id)
    }

    /// Answers faults from now on (and forgets earlier ones).
    pub fn set_faults(&self, faults: &[Fault]) {
        self.shared.world.lock().faults = faults.to_vec();
    }

    /// Waits `delay` before answering each call (API Gateway takes milliseconds).
    pub fn set_delay(&self, delay: Duration) {
        self.shared.world.lock().delay = delay;
    }

    /// Messages delivered so far, in order.
    pub fn posted(&self) -> Vec<Posted> {
        self.shared.world.lock().posted.clone()
    }

    /// Messages delivered to `connection_id`.
    pub fn posted_to(&self, connection_id: &str) -> Vec<Vec<u8>> {
        self.shared
            .world
            .lock()
            .posted
            .iter()
            .filter(|p| p.connection_id == connection_id)
            .map(|p| p.data.clone())
            .collect()
    }

    /// `POST`s that reached the endpoint for `connection_id`, whatever they were answered.
    pub fn received(&self, connection_id: &str) -> u64 {
        self.shared
            .world
            .lock()
            .received
            .get(connection_id)
            .copied()
            .unwrap_or(0)
    }

    /// Calls answered so far (every method, faults included).
    pub fn calls(&self) -> u64 {
        self.shared.calls.load(Ordering::SeqCst)
    }
}

impl Drop for ManagementApi {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// An API Gateway error: its status, `x-amzn-ErrorType` and `{"message": …}`.
pub(crate) fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    let mut response = (status, axum::Json(json!({ "message": message }))).into_response();
    if let Ok(value) = HeaderValue::from_str(kind) {
        response.headers_mut().insert("x-amzn-ErrorType", value);
    }
    response
}

pub(crate) fn gone() -> Response {
    error(StatusCode::GONE, "GoneException", "")
}

/// ISO 8601 in UTC, as API Gateway writes `connectedAt` and `lastActiveAt`.
pub(crate) fn iso(at: SystemTime) -> String {
    let ms = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    server_interface::rfc3339(Some(ms))
}

async fn no_stage() -> Response {
    error(StatusCode::FORBIDDEN, "ForbiddenException", "Forbidden")
}

async fn not_found() -> Response {
    error(StatusCode::FORBIDDEN, "ForbiddenException", "Forbidden")
}

async fn connection(
    State(shared): State<Arc<Shared>>,
    Path((stage, id)): Path<(String, String)>,
    method: Method,
    _headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = shared.calls.fetch_add(1, Ordering::SeqCst) + 1;
    let (delay, fault) = {
        let mut world = shared.world.lock();
        if method == Method::POST {
            *world.received.entry(id.clone()).or_default() += 1;
        }
        let fault = world.faults.iter().find_map(|f| match *f {
            Fault::EveryNth { n, status } if n > 0 && call % n == 0 => Some(status),
            Fault::Burst {
                from,
                count,
                status,
            } if call >= from && call < from + count => Some(status),
            _ => None,
        });
        (world.delay, fault)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if stage != shared.stage {
        return error(StatusCode::FORBIDDEN, "ForbiddenException", "Forbidden");
    }
    if let Some(status) = fault {
        return match status {
            429 => error(
                StatusCode::TOO_MANY_REQUESTS,
                "LimitExceededException",
                "Rate exceeded",
            ),
            other => error(
                StatusCode::from_u16(other).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "InternalServerErrorException",
                "Internal server error",
            ),
        };
    }
    let mut world = shared.world.lock();
    match method {
        Method::POST => {
            if body.len() > MESSAGE_LIMIT {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PayloadTooLargeException",
                    "Message too long",
                );
            }
            let Some(live) = world.live.get_mut(&id) else {
                return gone();
            };
            live.last_active = SystemTime::now();
            world.posted.push(Posted {
                connection_id: id,
                data: body.to_vec(),
            });
            StatusCode::OK.into_response()
        }
        Method::GET => match world.live.get(&id) {
            Some(live) => axum::Json(json!({
                "connectedAt": iso(live.connected_at),
                "lastActiveAt": iso(live.last_active),
                "identity": {"sourceIp": live.source_ip, "userAgent": live.user_agent}
            }))
            .into_response(),
            None => gone(),
        },
        Method::DELETE => match world.live.remove(&id) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => gone(),
        },
        _ => error(StatusCode::FORBIDDEN, "ForbiddenException", "Forbidden"),
    }
}
