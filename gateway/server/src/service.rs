//! One function for every event the server half gets: API Gateway's WebSocket events (the
//! router), the management API's HTTP requests (HTTP API payload 2.0 or a function URL),
//! and EventBridge's schedule (the heartbeat). The shape of the event decides.

use std::time::{Duration, Instant};

use apigateway::{management_endpoint, Answer, Audience, Error, HttpRequest};
use contract::{Envelope, Failure};
use debug::debug_line;
use serde_json::{json, Value};
use server_interface::{heartbeat_frame, rfc3339, stats_data, AdminBroadcast};

use crate::app::{concurrency, ADMIN_SCOPE, SEND_BUDGET};
use crate::router::Router;
use crate::SCOPE;

/// The management API's routes, below any stage prefix.
pub const STATS_PATH: &str = "/api/v1/websocket/stats";
/// See [`STATS_PATH`].
pub const BROADCAST_PATH: &str = "/api/v1/websocket/broadcast";
/// Connections idle longer than this are closed by the heartbeat when `APIGW_IDLE_LIMIT`
/// is not set: just past API Gateway's own 10-minute idle timeout.
pub const DEFAULT_IDLE_LIMIT: Duration = Duration::from_secs(15 * 60);
/// How long an event may take when the invocation gives no deadline.
const DEFAULT_BUDGET: Duration = Duration::from_secs(10);

/// Which kind of event a payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventShape {
    /// API Gateway's WebSocket events.
    WebSocket,
    /// An HTTP API (2.0) or function URL request.
    Http,
    /// An EventBridge scheduled event.
    Scheduled,
}

/// The shape of `value`.
///
/// ```
/// use server_gateway::{shape_of, EventShape};
/// assert_eq!(shape_of(&serde_json::json!({"source": "aws.events", "detail-type": "Scheduled Event"})), EventShape::Scheduled);
/// assert_eq!(shape_of(&serde_json::json!({"requestContext": {}})), EventShape::WebSocket);
/// ```
pub fn shape_of(value: &Value) -> EventShape {
    if HttpRequest::is_http(value) {
        EventShape::Http
    } else if value.get("source").and_then(Value::as_str) == Some("aws.events")
        || value.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
    {
        EventShape::Scheduled
    } else {
        EventShape::WebSocket
    }
}

/// The process environment, as the settings' readers take it.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The heartbeat's idle limit: `APIGW_IDLE_LIMIT` (seconds, 60 to 86400).
pub fn idle_limit(lookup: impl Fn(&str) -> Option<String>) -> Result<Duration, String> {
    match lookup("APIGW_IDLE_LIMIT") {
        None => Ok(DEFAULT_IDLE_LIMIT),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|s| (60..=86_400).contains(s))
            .map(Duration::from_secs)
            .ok_or_else(|| "APIGW_IDLE_LIMIT must be seconds from 60 to 86400.".to_owned()),
    }
}

impl Router {
    /// Answers any event of the server function as JSON: a WebSocket event's answer, an
    /// HTTP response, or the heartbeat's report.
    pub async fn serve(&self, value: Value) -> Value {
        let answer = match shape_of(&value) {
            EventShape::WebSocket => self.handle_value(value).await,
            EventShape::Http => match HttpRequest::from_value(value) {
                Ok(request) => self.http(request).await,
                Err(e) => http_failure(400, &e),
            },
            EventShape::Scheduled => {
                return match self.heartbeat().await {
                    Ok(report) => {
                        json!({"success": true, "message": "Heartbeat sent.", "data": report})
                    }
                    Err(e) => serde_json::from_str(Envelope::failure(&Failure::from(&e)).as_str())
                        .unwrap_or(Value::Null),
                };
            }
        };
        serde_json::to_value(&answer).unwrap_or_else(|_| json!({"statusCode": 500}))
    }

    fn until_deadline(&self) -> Instant {
        self.deadline()
            .unwrap_or_else(|| Instant::now() + DEFAULT_BUDGET)
    }

    /// The scheduled heartbeat ([`apigateway::Management::heartbeat`]) to the endpoint
    /// `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI` names, with the connected count.
    pub async fn heartbeat(&self) -> apigateway::Result<apigateway::HeartbeatReport> {
        let (management, endpoint, concurrency) = self.pushing()?;
        let idle = idle_limit(env).map_err(|e| Error::invalid("APIGW_IDLE_LIMIT", e))?;
        let clients = self.store().stats().await?.connected_clients.max(0);
        let frame = heartbeat_frame(clients);
        management
            .heartbeat(
                &endpoint,
                frame.as_bytes(),
                idle,
                concurrency,
                self.until_deadline(),
            )
            .await
    }

    /// What the schedule and the management API push with: the Management API, the endpoint
    /// `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI` names (neither event carries a WebSocket
    /// `domainName`), the posts in flight.
    fn pushing(&self) -> apigateway::Result<(&apigateway::Management, String, usize)> {
        let management = self
            .management()
            .ok_or_else(|| Error::invalid("management", "the router has no Management API"))?;
        let endpoint = management_endpoint(env, None, None, None)?;
        let concurrency =
            concurrency(env).map_err(|e| Error::invalid("APIGW_BROADCAST_CONCURRENCY", e))?;
        Ok((management, endpoint, concurrency))
    }

    async fn http(&self, request: HttpRequest) -> Answer {
        let deadline = self.until_deadline();
        debug_line!(
            SCOPE,
            "HTTP request (method={}, path={}, request_id={})",
            debug::escape_line(request.method()),
            debug::escape_line(&request.path().chars().take(128).collect::<String>()),
            debug::escape_line(request.request_id())
        );
        let route = match (request.method(), request.path().trim_end_matches('/')) {
            ("GET", STATS_PATH) => Route::Stats,
            ("POST", BROADCAST_PATH) => Route::Broadcast,
            _ => {
                return http_failure(
                    404,
                    &Error::UnknownRoute {
                        route: format!(
                            "{} {}",
                            request.method(),
                            request.path().chars().take(64).collect::<String>()
                        )
                        .into(),
                    },
                )
            }
        };
        let principal = match self
            .identity_rule()
            .admit_bearer(request.header("authorization"), deadline)
            .await
        {
            Ok(p) => p,
            Err(e @ Error::Unauthorized { .. }) => return http_failure(401, &e),
            Err(e) => return http_failure(500, &e),
        };
        if !principal.has_scope(ADMIN_SCOPE) {
            return http_failure(
                403,
                &Error::Forbidden {
                    reason: format!("the management API needs the scope {ADMIN_SCOPE}").into(),
                },
            );
        }
        match route {
            Route::Stats => match self.store().stats().await {
                Ok(stats) => http_success("Stats read.", stats_data(&stats)),
                Err(e) => http_failure(500, &e),
            },
            Route::Broadcast => self.admin_broadcast(&request, deadline).await,
        }
    }

    async fn admin_broadcast(&self, request: &HttpRequest, deadline: Instant) -> Answer {
        let broadcast = match AdminBroadcast::parse(request.body().unwrap_or_default()) {
            Ok(b) => b,
            Err(sentence) => {
                let failure = Failure::new(contract::codes::INVALID_PARAMETER, sentence);
                return envelope_answer(400, Envelope::failure(&failure).as_str());
            }
        };
        let frame = broadcast.frame();
        if frame.len() > apigateway::API_GATEWAY_MESSAGE_LIMIT {
            let failure = Failure::new(
                contract::codes::MESSAGE_TOO_LARGE,
                format!(
                    "The frame of {} bytes is over API Gateway's {} bytes.",
                    frame.len(),
                    apigateway::API_GATEWAY_MESSAGE_LIMIT
                ),
            );
            return envelope_answer(400, Envelope::failure(&failure).as_str());
        }
        let sending = async {
            let (management, endpoint, concurrency) = self.pushing()?;
            let end = deadline.min(Instant::now() + SEND_BUDGET);
            management
                .broadcast(&endpoint, Audience::All, frame.as_bytes(), concurrency, end)
                .await
        };
        match sending.await {
            Ok(report) => {
                let _ = self
                    .store()
                    .count_messages(0, report.delivered as i64)
                    .await;
                http_success(
                    "Message broadcasted successfully",
                    json!({"message": "Message broadcasted successfully",
                           "clients_count": report.delivered,
                           "message_type": broadcast.kind,
                           "delivered": report.delivered, "gone": report.gone,
                           "failed": report.failed, "unknown": report.unknown,
                           "not_attempted": report.not_attempted, "unread": report.unread}),
                )
            }
            Err(e @ Error::InvalidParameter { .. }) => http_failure(500, &e),
            Err(e) => http_failure(502, &e),
        }
    }
}

enum Route {
    Stats,
    Broadcast,
}

/// A 200 with the envelope, its `timestamp` added.
fn http_success(message: &str, data: Value) -> Answer {
    let mut body: Value = serde_json::from_str(Envelope::success(message, &data).as_str())
        .unwrap_or_else(|_| json!({"success": true}));
    body["timestamp"] = Value::from(rfc3339(None));
    envelope_answer(200, &body.to_string())
}

fn http_failure(status: u16, e: &Error) -> Answer {
    debug::warn_line(
        &SCOPE,
        format_args!(
            "management request refused ({status}, {}): {e}",
            e.code().as_str()
        ),
    );
    envelope_answer(status, Envelope::failure(&Failure::from(e)).as_str())
}

fn envelope_answer(status: u16, body: &str) -> Answer {
    Answer::refuse(status)
        .with_header("content-type", "application/json")
        .with_body(body)
}
