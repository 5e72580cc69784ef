//! The `ws_*` functions the design names, over a [`Store`].

use std::time::Duration;

use serde_json::{Map, Value};

use apigateway::{Connection, ConnectionUpdate, Member, NewConnection, Result, Store};

/// Stores a connection (`$connect`): its user, metadata (≤ 4 KB) and lifetime (`None`: the
/// store's, 2 h by default).
///
/// ```no_run
/// # async fn demo(store: &apigateway::Store) -> apigateway::Result<()> {
/// server_gateway::ws_store_connection(store, "L0SM9cOFvHcCIhw=", Some("alice"), Default::default(), None).await?;
/// # Ok(()) }
/// ```
pub async fn ws_store_connection(
    store: &Store,
    connection_id: &str,
    user_id: Option<&str>,
    metadata: Map<String, Value>,
    ttl: Option<Duration>,
) -> Result<Connection> {
    let mut new = NewConnection::new(connection_id).metadata(metadata);
    if let Some(user) = user_id {
        new = new.user(user);
    }
    if let Some(ttl) = ttl {
        new = new.ttl(ttl);
    }
    store.store_connection(&new).await
}

/// A live connection, or `None`.
pub async fn ws_get_connection(store: &Store, connection_id: &str) -> Result<Option<Connection>> {
    store.get_connection(connection_id).await
}

/// Deletes a connection and its memberships; whether a live one was there.
pub async fn ws_delete_connection(store: &Store, connection_id: &str) -> Result<bool> {
    store.delete_connection(connection_id).await
}

/// Updates a live connection: `updates` may hold `metadata` and `last_activity` only;
/// the key, TTL, user and connect time are refused, and a missing connection is
/// `APIGW_NO_CONNECTION` (never created).
///
/// ```no_run
/// # async fn demo(store: &apigateway::Store) -> apigateway::Result<()> {
/// server_gateway::ws_update_connection(store, "L0SM9cOFvHcCIhw=", &serde_json::json!({"metadata": {"page": "chat"}})).await?;
/// # Ok(()) }
/// ```
pub async fn ws_update_connection(
    store: &Store,
    connection_id: &str,
    updates: &Value,
) -> Result<Connection> {
    let update = ConnectionUpdate::from_json(updates)?;
    store.update_connection(connection_id, &update).await
}

/// Every live connection.
pub async fn ws_get_all_connections(store: &Store) -> Result<Vec<Connection>> {
    store.all_connections().await
}

/// A user's live connections.
pub async fn ws_get_connections_by_user(store: &Store, user_id: &str) -> Result<Vec<Connection>> {
    store.connections_by_user(user_id).await
}

/// Connections active at or after `since_ms` (epoch milliseconds).
pub async fn ws_get_active_connections(store: &Store, since_ms: i64) -> Result<Vec<Connection>> {
    store.active_connections(since_ms).await
}

/// Deletes connections idle longer than `max_age` or past their TTL; how many went.
pub async fn ws_cleanup_stale_connections(store: &Store, max_age: Duration) -> Result<usize> {
    store.cleanup_stale_connections(max_age).await
}

/// Puts a connection into a room (at most 50 rooms each); whether it was new.
pub async fn ws_join_room(store: &Store, connection_id: &str, room_id: &str) -> Result<bool> {
    store.join_room(connection_id, room_id).await
}

/// Takes a connection out of a room; whether it was in it.
pub async fn ws_leave_room(store: &Store, connection_id: &str, room_id: &str) -> Result<bool> {
    store.leave_room(connection_id, room_id).await
}

/// A room's live members.
pub async fn ws_get_connections_by_room(store: &Store, room_id: &str) -> Result<Vec<Member>> {
    store.connections_by_room(room_id).await
}

/// The cross-container counters: `connected_clients`, `total_connections`,
/// `messages_sent`, `messages_received`, `last_activity`.
///
/// ```no_run
/// # async fn demo(store: &apigateway::Store) -> apigateway::Result<()> {
/// let stats = server_gateway::ws_get_stats(store).await?;
/// println!("{} connected", stats.connected_clients);
/// # Ok(()) }
/// ```
pub async fn ws_get_stats(store: &Store) -> Result<apigateway::StoreStats> {
    store.stats().await
}
