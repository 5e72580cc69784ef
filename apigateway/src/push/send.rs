//! One message to one connection, under the retry rule: a 429 and a failure before the
//! connection to the endpoint was made are retried with backoff and jitter, bounded in
//! count and by the deadline; anything after the request may have left is never re-sent.

use std::collections::HashMap;
use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_apigatewaymanagement::config::retry::RetryConfig;
use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_sdk_apigatewaymanagement::Client;
use debug::debug_line;
use serde::Serialize;
use tokio::sync::Mutex;

use crate::error::{quoted, Error, Result};
use crate::store::{check_id, Store};
use crate::{API_GATEWAY_MESSAGE_LIMIT, SCOPE};

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "snake_case")]
pub enum Outcome {
    /// API Gateway took it (200).
    Delivered,
    /// The connection is gone (410): its records were removed.
    Gone,
    /// Not delivered, for this reason (413, 403, a 429 that outlasted the retries, a
    /// message over 128 KB refused before sending).
    Failed(String),
    /// It may have been delivered (a 5xx, a timeout or a failure after the request left):
    /// never re-sent.
    Unknown(String),
    /// Not tried: the deadline came first.
    NotAttempted,
}

impl Outcome {
    /// Its name: `delivered`, `gone`, `failed`, `unknown`, `not_attempted`.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Gone => "gone",
            Outcome::Failed(_) => "failed",
            Outcome::Unknown(_) => "unknown",
            Outcome::NotAttempted => "not_attempted",
        }
    }
}

/// The retry rule's bounds.
///
/// ```
/// let rule = apigateway::RetryRule::default();
/// assert_eq!(rule.max_attempts, 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryRule {
    /// Attempts per message at most (the first included).
    pub max_attempts: u32,
    /// The first wait; each next doubles.
    pub backoff_base: Duration,
    /// The longest wait.
    pub backoff_max: Duration,
    /// Fraction of each wait drawn at random (±).
    pub jitter: f64,
    /// Bound on one attempt (connect, send, answer).
    pub attempt_timeout: Duration,
}

impl Default for RetryRule {
    fn default() -> Self {
        RetryRule {
            max_attempts: 5,
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_secs(1),
            jitter: 0.2,
            attempt_timeout: Duration::from_secs(2),
        }
    }
}

impl RetryRule {
    /// The wait before attempt `n` (1-based; the first has none).
    fn wait_before(&self, n: u32) -> Duration {
        if n <= 1 {
            return Duration::ZERO;
        }
        let nominal = self
            .backoff_base
            .saturating_mul(1 << (n - 2).min(16))
            .min(self.backoff_max)
            .as_secs_f64();
        let spread = self.jitter.clamp(0.0, 1.0) * (2.0 * fastrand::f64() - 1.0);
        Duration::from_secs_f64((nominal * (1.0 + spread)).max(0.0))
    }
}

/// The Management API: one SDK client per endpoint, built once per container, its own
/// retries off; the store, to remove the records of gone connections.
#[derive(Debug, Clone)]
pub struct Management {
    sdk: aws_sdk_apigatewaymanagement::config::Builder,
    clients: Arc<Mutex<HashMap<String, Client>>>,
    store: Store,
    rule: RetryRule,
}

/// Why an attempt failed, as the rule reads it.
enum Attempt {
    /// Never reached the endpoint, or refused with 429: may go again.
    Again(String),
    /// Final.
    Done(Outcome),
}

impl Management {
    /// The Management API over the SDK's configuration from the environment (region,
    /// credentials), removing gone connections from `store`.
    pub async fn from_env(store: Store) -> Management {
        Management::from_config(&crate::sdk_config().await, store)
    }

    /// The Management API over an SDK configuration ([`crate::sdk_config`]).
    pub fn from_config(config: &aws_config::SdkConfig, store: Store) -> Management {
        Management::new(
            aws_sdk_apigatewaymanagement::config::Builder::from(config),
            store,
        )
    }

    /// The Management API over an SDK configuration (tests give dummy credentials).
    pub fn new(sdk: aws_sdk_apigatewaymanagement::config::Builder, store: Store) -> Management {
        Management {
            sdk,
            clients: Arc::new(Mutex::new(HashMap::new())),
            store,
            rule: RetryRule::default(),
        }
    }

    /// With another retry rule.
    pub fn with_rule(mut self, rule: RetryRule) -> Management {
        self.rule = rule;
        self
    }

    /// The store it removes gone connections from.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The client of `endpoint` (made once): the SDK's retries off, the rule's timeouts.
    pub async fn client(&self, endpoint: &str) -> Client {
        let mut clients = self.clients.lock().await;
        if let Some(client) = clients.get(endpoint) {
            return client.clone();
        }
        let timeouts = aws_sdk_apigatewaymanagement::config::timeout::TimeoutConfig::builder()
            .connect_timeout(self.rule.attempt_timeout.min(Duration::from_secs(1)))
            .operation_attempt_timeout(self.rule.attempt_timeout)
            .build();
        let mut sdk = self.sdk.clone();
        if let Some(plain) = crate::plain_http_client(endpoint) {
            sdk = sdk.http_client(plain);
        }
        let config = sdk
            .endpoint_url(endpoint)
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts)
            .build();
        let client = Client::from_conf(config);
        clients.insert(endpoint.to_owned(), client.clone());
        client
    }

    /// Sends `data` to `connection_id` through `endpoint` before `deadline`.
    pub async fn send(
        &self,
        endpoint: &str,
        connection_id: &str,
        data: &[u8],
        deadline: Instant,
    ) -> Outcome {
        if check_id("connection_id", connection_id).is_err() {
            return Outcome::Failed("not a connection id".into());
        }
        if data.len() > API_GATEWAY_MESSAGE_LIMIT {
            return Outcome::Failed(format!(
                "message of {} bytes is over API Gateway's {} (not sent)",
                data.len(),
                API_GATEWAY_MESSAGE_LIMIT
            ));
        }
        let client = self.client(endpoint).await;
        let mut last = String::new();
        // Bounded: max_attempts, and no wait past the deadline.
        for attempt in 1..=self.rule.max_attempts.max(1) {
            let wait = self.rule.wait_before(attempt);
            let now = Instant::now();
            if now + wait >= deadline {
                return if attempt == 1 {
                    Outcome::NotAttempted
                } else {
                    Outcome::Failed(format!("{last}; the deadline came before another attempt"))
                };
            }
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let sent = tokio::time::timeout(
                left.min(self.rule.attempt_timeout),
                client
                    .post_to_connection()
                    .connection_id(connection_id)
                    .data(Blob::new(data))
                    .send(),
            )
            .await;
            let result = match sent {
                Ok(Ok(_)) => return Outcome::Delivered,
                Ok(Err(e)) => self.read_failure(connection_id, e).await,
                Err(_) => Attempt::Done(Outcome::Unknown("timed out after sending".into())),
            };
            match result {
                Attempt::Done(outcome) => return outcome,
                Attempt::Again(why) => {
                    debug_line!(
                        SCOPE,
                        "Post again (connection_id={connection_id}, attempt={attempt}, reason={why})"
                    );
                    last = why;
                }
            }
        }
        Outcome::Failed(format!("{last} ({} attempts)", self.rule.max_attempts))
    }

    async fn read_failure(
        &self,
        connection_id: &str,
        e: SdkError<PostToConnectionError>,
    ) -> Attempt {
        match &e {
            SdkError::ServiceError(s) => {
                let status = s.raw().status().as_u16();
                match status {
                    410 => {
                        if let Err(err) = self.store.delete_connection(connection_id).await {
                            debug_line!(SCOPE, "Gone connection's records stay ({})", err.code());
                        }
                        Attempt::Done(Outcome::Gone)
                    }
                    429 => Attempt::Again("429 LimitExceededException".into()),
                    413 => Attempt::Done(Outcome::Failed("413 PayloadTooLargeException".into())),
                    403 => Attempt::Done(Outcome::Failed("403 ForbiddenException".into())),
                    s if s >= 500 => {
                        Attempt::Done(Outcome::Unknown(format!("{s} from API Gateway")))
                    }
                    s => Attempt::Done(Outcome::Failed(format!("{s} from API Gateway"))),
                }
            }
            SdkError::DispatchFailure(d) if never_connected(d.as_connector_error()) => {
                Attempt::Again("the endpoint could not be reached".into())
            }
            SdkError::ConstructionFailure(_) => {
                Attempt::Done(Outcome::Failed("the request could not be built".into()))
            }
            _ => Attempt::Done(Outcome::Unknown(
                "the request failed after it may have left".into(),
            )),
        }
    }

    /// Whether `connection_id` is open (`GET @connections/{id}`); a 410 removes its records
    /// and answers false.
    pub async fn is_alive(&self, endpoint: &str, connection_id: &str) -> Result<bool> {
        check_id("connection_id", connection_id)?;
        let client = self.client(endpoint).await;
        match client
            .get_connection()
            .connection_id(connection_id)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(s)) if s.raw().status().as_u16() == 410 => {
                self.store.delete_connection(connection_id).await?;
                Ok(false)
            }
            Err(e) => Err(management_error("GetConnection", &e)),
        }
    }

    /// Closes `connection_id` (`DELETE @connections/{id}`; API Gateway then sends
    /// `$disconnect`); whether it was open. Its records go either way.
    pub async fn disconnect(&self, endpoint: &str, connection_id: &str) -> Result<bool> {
        check_id("connection_id", connection_id)?;
        let client = self.client(endpoint).await;
        let open = match client
            .delete_connection()
            .connection_id(connection_id)
            .send()
            .await
        {
            Ok(_) => true,
            Err(SdkError::ServiceError(s)) if s.raw().status().as_u16() == 410 => false,
            Err(e) => return Err(management_error("DeleteConnection", &e)),
        };
        self.store.delete_connection(connection_id).await?;
        Ok(open)
    }
}

/// Whether a dispatch failure happened before a connection to the endpoint existed: DNS or
/// TCP connect (hyper-util marks those), so the request never left.
fn never_connected(e: Option<&aws_sdk_apigatewaymanagement::error::ConnectorError>) -> bool {
    let Some(e) = e else {
        return false;
    };
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.source();
    // Bounded: an error chain is finite, and at most 32 links are read.
    for _ in 0..32 {
        let Some(err) = source else {
            return false;
        };
        if let Some(h) = err.downcast_ref::<hyper_util::client::legacy::Error>() {
            return h.is_connect();
        }
        if err.to_string().contains("dns error") {
            return true;
        }
        source = err.source();
    }
    false
}

fn management_error<E, R>(operation: &'static str, e: &SdkError<E, R>) -> Error {
    let reason = match e {
        SdkError::TimeoutError(_) => "timed out",
        SdkError::DispatchFailure(_) => "could not reach the Management API",
        SdkError::ServiceError(_) => "refused",
        _ => "failed",
    };
    Error::Store {
        operation,
        reason: quoted(reason),
    }
}
