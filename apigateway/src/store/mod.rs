//! The connection store on DynamoDB, through the AWS SDK. One table holds connections,
//! room memberships and sharded counters; each read names the index that serves it and
//! filters what DynamoDB has not yet deleted past its TTL. No request is a Scan.
//!
//! | item | `pk` | `sk` | other attributes |
//! |---|---|---|---|
//! | connection | `conn#<id>` | `connection` | `connectionId`, `userId`, `connectedAt`, `lastActivity`, `metadata`, `expiresAt`, `activeShard`, `rooms` |
//! | membership | `conn#<id>` | `room#<room>` | `connectionId`, `roomId`, `joinedAt`, `expiresAt` |
//! | counter shard | `counter#<name>` | `shard#<k>` | `n` (or `t` for the last activity) |

mod connections;
mod counters;
mod items;
mod pages;
pub use pages::IdPages;
mod rate;
mod rooms;
mod sweep;
pub use rooms::Member;
pub use sweep::{Cursor, SweepPage};
mod schema;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::Client;

pub use counters::StoreStats;
pub use items::{Connection, ConnectionUpdate, NewConnection};
pub use schema::{TableSpec, INDEX_BY_ACTIVITY, INDEX_BY_ROOM, INDEX_BY_USER};

use crate::error::{Error, Result};

/// The table's name when `APIGW_TABLE` is not set.
pub const DEFAULT_TABLE: &str = "websocket_connections";
/// How long a record lives when no TTL is given: API Gateway's connection limit, 2 h.
pub const DEFAULT_TTL: Duration = Duration::from_secs(2 * 3600);
/// Longest connection, user and room ids accepted.
pub const MAX_ID_LEN: usize = 128;
/// Largest metadata map, as JSON, in bytes.
pub const MAX_METADATA_BYTES: usize = 4096;
/// Rooms one connection may be in at most.
pub const MAX_ROOMS_PER_CONNECTION: usize = 50;
/// Shards of the activity index and of each counter: one hot key cannot throttle.
pub const SHARDS: u32 = 8;
/// Items one query page returns by default.
pub const DEFAULT_PAGE_SIZE: i32 = 100;
/// Pages one read follows at most (bounded: 100 × 1000 items).
pub const MAX_PAGES: usize = 1000;

/// How the store reads and writes: the table, record lifetime, page size, the clock.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// The table.
    pub table: String,
    /// Lifetime of new records (their `expiresAt`).
    pub ttl: Duration,
    /// `Limit` of each query page.
    pub page_size: i32,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            table: DEFAULT_TABLE.to_owned(),
            ttl: DEFAULT_TTL,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl StoreSettings {
    /// The settings from `APIGW_TABLE` and `APIGW_CONNECTION_TTL` (seconds).
    pub fn from_env() -> Result<StoreSettings> {
        let mut settings = StoreSettings::default();
        if let Ok(table) = std::env::var("APIGW_TABLE") {
            if table.is_empty() || table.len() > 255 {
                return Err(Error::invalid("APIGW_TABLE", "must be a table name"));
            }
            settings.table = table;
        }
        if let Ok(ttl) = std::env::var("APIGW_CONNECTION_TTL") {
            let seconds: u64 = ttl
                .parse()
                .ok()
                .filter(|s| (1..=30 * 86_400).contains(s))
                .ok_or_else(|| {
                    Error::invalid("APIGW_CONNECTION_TTL", "must be seconds from 1 to 2592000")
                })?;
            settings.ttl = Duration::from_secs(seconds);
        }
        Ok(settings)
    }
}

/// The connection store: a DynamoDB client and its settings.
///
/// ```no_run
/// # async fn demo() -> apigateway::Result<()> {
/// let store = apigateway::Store::from_env().await?;
/// let live = store.get_connection("L0SM9cOFvHcCIhw=").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    settings: StoreSettings,
}

impl Store {
    /// A store over the SDK's configuration from the environment (`AWS_REGION`,
    /// credentials, `AWS_ENDPOINT_URL_DYNAMODB` for a local DynamoDB) and
    /// [`StoreSettings::from_env`].
    pub async fn from_env() -> Result<Store> {
        Store::from_config(&crate::sdk_config().await)
    }

    /// A store over an SDK configuration ([`crate::sdk_config`]), its endpoint
    /// `AWS_ENDPOINT_URL_DYNAMODB` when set, and [`StoreSettings::from_env`].
    pub fn from_config(config: &aws_config::SdkConfig) -> Result<Store> {
        let mut builder = aws_sdk_dynamodb::config::Builder::from(config);
        if let Some(url) = crate::endpoint_from_env("DYNAMODB") {
            if let Some(plain) = crate::plain_http_client(&url) {
                builder = builder.http_client(plain);
            }
            builder = builder.endpoint_url(url);
        }
        Ok(Store::new(
            Client::from_conf(builder.build()),
            StoreSettings::from_env()?,
        ))
    }

    /// A store over `client` (tests give one with an endpoint and an interceptor).
    pub fn new(client: Client, settings: StoreSettings) -> Store {
        Store { client, settings }
    }

    /// Its settings.
    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn table(&self) -> &str {
        &self.settings.table
    }

    /// One item by its key, read consistently.
    async fn get_item(&self, pk: String, sk: &str) -> Result<Option<items::Item>> {
        let got = self
            .client
            .get_item()
            .table_name(self.table())
            .key("pk", items::s(pk))
            .key("sk", items::s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", &e))?;
        Ok(got.item)
    }
}

/// The SDK's timeouts for the store: 1 s to connect, 3 s per attempt, 5 s per call.
pub fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(5))
        .build()
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Seconds since the epoch, now.
pub(crate) fn now_s() -> i64 {
    now_ms() / 1000
}

/// A DynamoDB failure as the store reports it: the service's error code, or what the
/// transport did — never a value.
pub(crate) fn store_error<E: ProvideErrorMetadata, R>(
    operation: &'static str,
    e: &SdkError<E, R>,
) -> Error {
    let reason = match e {
        SdkError::ServiceError(s) => s.err().code().unwrap_or("service error").to_owned(),
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(_) => "could not reach DynamoDB".to_owned(),
        SdkError::ResponseError(_) => "unreadable response".to_owned(),
        SdkError::ConstructionFailure(_) => "request not built".to_owned(),
        _ => "failed".to_owned(),
    };
    debug::debug_line!(
        crate::SCOPE,
        "Store request failed (operation={operation}, reason={reason})"
    );
    Error::Store {
        operation,
        reason: reason.into(),
    }
}

/// Checks an id (connection, user, room): 1 to [`MAX_ID_LEN`] characters, no control
/// characters — the one rule the store and the app's messages share.
///
/// ```
/// assert!(apigateway::check_id("room_id", "lobby").is_ok());
/// assert!(apigateway::check_id("room_id", "").is_err());
/// ```
pub fn check_id(name: &'static str, id: &str) -> Result<()> {
    if id.is_empty() || id.chars().count() > MAX_ID_LEN || id.chars().any(char::is_control) {
        return Err(Error::invalid(
            name,
            format!("must be 1 to {MAX_ID_LEN} characters without control characters"),
        ));
    }
    Ok(())
}
