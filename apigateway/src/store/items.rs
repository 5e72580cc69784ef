//! The items of the table, as the SDK writes them (through `serde_dynamo`), and what the
//! store answers.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{check_id, MAX_METADATA_BYTES, SHARDS};
use crate::error::{Error, Result};

pub(crate) const CONNECTION_SK: &str = "connection";

pub(crate) fn connection_pk(id: &str) -> String {
    format!("conn#{id}")
}

pub(crate) fn room_sk(room: &str) -> String {
    format!("room#{room}")
}

/// The activity shard of a connection: spread by a hash of its id.
pub(crate) fn activity_shard(id: &str) -> String {
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("shard#{}", hash % u64::from(SHARDS))
}

/// A connection item.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConnectionItem {
    pub pk: String,
    pub sk: String,
    pub connection_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub connected_at: i64,
    pub last_activity: i64,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    pub expires_at: i64,
    pub active_shard: String,
    #[serde(default)]
    pub rooms: u32,
}

/// A membership item.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MembershipItem {
    pub pk: String,
    pub sk: String,
    pub connection_id: String,
    pub room_id: String,
    /// The connection's user, copied at the join (memberships written before it have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub joined_at: i64,
    pub expires_at: i64,
}

/// A connection as the store answers it.
///
/// ```
/// let c = apigateway::Connection::default();
/// assert!(c.user_id.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Connection {
    /// API Gateway's connection id.
    pub connection_id: String,
    /// Whose it is, when known.
    pub user_id: Option<String>,
    /// When it connected, epoch milliseconds.
    pub connected_at: i64,
    /// When it last sent or was sent something, epoch milliseconds.
    pub last_activity: i64,
    /// What the application keeps with it (at most 4 KB as JSON).
    pub metadata: Map<String, Value>,
    /// When its record expires, epoch seconds (the TTL attribute).
    pub expires_at: i64,
    /// Rooms it is in.
    pub rooms: u32,
}

impl From<ConnectionItem> for Connection {
    fn from(item: ConnectionItem) -> Connection {
        Connection {
            connection_id: item.connection_id,
            user_id: item.user_id,
            connected_at: item.connected_at,
            last_activity: item.last_activity,
            metadata: item.metadata,
            expires_at: item.expires_at,
            rooms: item.rooms,
        }
    }
}

/// What `$connect` stores.
///
/// ```
/// let new = apigateway::NewConnection::new("L0SM9cOFvHcCIhw=").user("alice");
/// assert_eq!(new.user_id.as_deref(), Some("alice"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct NewConnection {
    /// The connection id.
    pub connection_id: String,
    /// The user, when known.
    pub user_id: Option<String>,
    /// Metadata (at most 4 KB as JSON).
    pub metadata: Map<String, Value>,
    /// When it connected, epoch milliseconds (`None`: now).
    pub connected_at: Option<i64>,
    /// Its lifetime (`None`: the store's).
    pub ttl: Option<std::time::Duration>,
}

impl NewConnection {
    /// A connection with only its id.
    pub fn new(connection_id: &str) -> NewConnection {
        NewConnection {
            connection_id: connection_id.to_owned(),
            ..NewConnection::default()
        }
    }

    /// With a user.
    pub fn user(mut self, user_id: &str) -> NewConnection {
        self.user_id = Some(user_id.to_owned());
        self
    }

    /// With metadata.
    pub fn metadata(mut self, metadata: Map<String, Value>) -> NewConnection {
        self.metadata = metadata;
        self
    }

    /// Connected at `ms`.
    pub fn connected_at(mut self, ms: i64) -> NewConnection {
        self.connected_at = Some(ms);
        self
    }

    /// Living `ttl`.
    pub fn ttl(mut self, ttl: std::time::Duration) -> NewConnection {
        self.ttl = Some(ttl);
        self
    }

    pub(crate) fn check(&self) -> Result<()> {
        check_id("connection_id", &self.connection_id)?;
        if let Some(user) = &self.user_id {
            check_id("user_id", user)?;
        }
        check_metadata(&self.metadata)?;
        if self
            .ttl
            .is_some_and(|t| t.is_zero() || t.as_secs() > 30 * 86_400)
        {
            return Err(Error::invalid("ttl", "must be from 1 s to 30 days"));
        }
        Ok(())
    }
}

/// What `ws_update_connection` may change: the metadata and the last activity. The key,
/// the TTL, the user and the connect time are not updates.
///
/// ```
/// let u = apigateway::ConnectionUpdate::from_json(&serde_json::json!({"metadata": {"room": "r1"}})).unwrap();
/// assert!(u.metadata.is_some());
/// assert!(apigateway::ConnectionUpdate::from_json(&serde_json::json!({"userId": "mallory"})).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionUpdate {
    /// New metadata (replaces the old).
    pub metadata: Option<Map<String, Value>>,
    /// A new last activity, epoch milliseconds.
    pub last_activity: Option<i64>,
}

/// Fields an update may never name.
const PROTECTED: &[&str] = &[
    "pk",
    "sk",
    "connectionId",
    "connection_id",
    "userId",
    "user_id",
    "expiresAt",
    "expires_at",
    "connectedAt",
    "connected_at",
    "activeShard",
    "rooms",
];

impl ConnectionUpdate {
    /// Reads an update from JSON: `metadata` (an object) and `last_activity` (epoch ms);
    /// a protected field (key, TTL, user, connect time) or any other is refused.
    pub fn from_json(value: &Value) -> Result<ConnectionUpdate> {
        let Some(fields) = value.as_object() else {
            return Err(Error::invalid("updates", "must be a JSON object"));
        };
        let mut update = ConnectionUpdate::default();
        for (key, v) in fields {
            match key.as_str() {
                "metadata" => {
                    let Some(m) = v.as_object() else {
                        return Err(Error::invalid("metadata", "must be a JSON object"));
                    };
                    update.metadata = Some(m.clone());
                }
                "last_activity" | "lastActivity" => {
                    update.last_activity = Some(v.as_i64().ok_or_else(|| {
                        Error::invalid("last_activity", "must be epoch milliseconds")
                    })?);
                }
                k if PROTECTED.contains(&k) => {
                    return Err(Error::invalid(
                        "updates",
                        format!(
                            "may not change '{k}' (the key, TTL, user and connect time are fixed)"
                        ),
                    ))
                }
                _ => {
                    return Err(Error::invalid(
                        "updates",
                        "may change only metadata and last_activity",
                    ))
                }
            }
        }
        if let Some(m) = &update.metadata {
            check_metadata(m)?;
        }
        Ok(update)
    }
}

pub(crate) fn check_metadata(metadata: &Map<String, Value>) -> Result<()> {
    let size = serde_json::to_string(metadata).map_or(usize::MAX, |s| s.len());
    if size > MAX_METADATA_BYTES {
        return Err(Error::invalid(
            "metadata",
            format!("must be at most {MAX_METADATA_BYTES} bytes as JSON"),
        ));
    }
    Ok(())
}

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn to_item<T: Serialize>(value: &T) -> Result<Item> {
    serde_dynamo::to_item(value).map_err(|_| Error::Store {
        operation: "serialize",
        reason: "an item could not be written".into(),
    })
}

pub(crate) fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|_| Error::Store {
        operation: "deserialize",
        reason: "an item in the table has another shape".into(),
    })
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A number attribute of an item, when it is one.
pub(crate) fn number_of(item: &Item, name: &str) -> Option<i64> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    }
}
