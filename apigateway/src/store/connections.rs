//! Connections: store, read, update, delete (with their memberships), by user, by activity.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, ReturnValue, WriteRequest};
use debug::{debug_line, Timer};

use super::items::{
    activity_shard, connection_pk, from_item, n, number_of, s, to_item, ConnectionItem, Item,
    CONNECTION_SK,
};
use super::{
    check_id, now_ms, now_s, store_error, Connection, ConnectionUpdate, NewConnection, Store,
    INDEX_BY_ACTIVITY, INDEX_BY_USER, MAX_PAGES, SHARDS,
};
use crate::error::{Error, Result};
use crate::SCOPE;

/// Items one BatchWriteItem takes at most.
const BATCH: usize = 25;
/// Rounds of resending what DynamoDB left unprocessed, at most.
const UNPROCESSED_ROUNDS: usize = 5;

impl Store {
    /// Stores a connection (`$connect`); storing the same id again replaces it. Counts a
    /// new connection in `total_connections` and `connected_clients`.
    pub async fn store_connection(&self, new: &NewConnection) -> Result<Connection> {
        new.check()?;
        let timer = Timer::start(&SCOPE, "store_connection");
        let now = now_ms();
        let ttl = new.ttl.unwrap_or(self.settings.ttl);
        let item = ConnectionItem {
            pk: connection_pk(&new.connection_id),
            sk: CONNECTION_SK.to_owned(),
            connection_id: new.connection_id.clone(),
            user_id: new.user_id.clone(),
            connected_at: new.connected_at.unwrap_or(now),
            last_activity: now,
            metadata: new.metadata.clone(),
            expires_at: now / 1000 + ttl.as_secs() as i64,
            active_shard: activity_shard(&new.connection_id),
            rooms: 0,
        };
        let old = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| store_error("PutItem", &e))?;
        let replaced_live = old
            .attributes
            .and_then(|a| from_item::<ConnectionItem>(a).ok())
            .is_some_and(|o| o.expires_at > now / 1000);
        if !replaced_live {
            self.count_connected(1).await;
        }
        debug_line!(
            SCOPE,
            "Stored connection (connection_id={}, user={}, expires_at={})",
            item.connection_id,
            item.user_id.is_some(),
            item.expires_at
        );
        timer.finish();
        Ok(item.into())
    }

    /// A live connection (`None` when absent or past its TTL, even if DynamoDB has not
    /// deleted it yet).
    pub async fn get_connection(&self, connection_id: &str) -> Result<Option<Connection>> {
        check_id("connection_id", connection_id)?;
        let Some(item) = self
            .get_item(connection_pk(connection_id), CONNECTION_SK)
            .await?
        else {
            return Ok(None);
        };
        let item: ConnectionItem = from_item(item)?;
        Ok((item.expires_at > now_s()).then(|| item.into()))
    }

    /// Deletes a connection and every membership of it (`$disconnect`, a 410, cleanup);
    /// whether a live connection was there.
    pub async fn delete_connection(&self, connection_id: &str) -> Result<bool> {
        check_id("connection_id", connection_id)?;
        let timer = Timer::start(&SCOPE, "delete_connection");
        let keys = self.items_of(connection_id).await?;
        let mut live = false;
        let mut requests = Vec::new();
        for (sk, expires_at) in keys {
            if sk == CONNECTION_SK {
                live = expires_at > now_s();
            }
            let delete = DeleteRequest::builder()
                .key("pk", s(connection_pk(connection_id)))
                .key("sk", s(sk))
                .build()
                .map_err(|_| Error::invalid("connection_id", "cannot be a key"))?;
            requests.push(WriteRequest::builder().delete_request(delete).build());
        }
        let deleted = requests.len();
        self.write_all(requests).await?;
        if live {
            self.count_connected(-1).await;
        }
        debug_line!(
            SCOPE,
            "Deleted connection (connection_id={connection_id}, items={deleted}, live={live})"
        );
        timer.finish();
        Ok(live)
    }

    /// The sort keys and expiry of every item of a connection (its record and memberships).
    async fn items_of(&self, connection_id: &str) -> Result<Vec<(String, i64)>> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(connection_pk(connection_id)))
                .projection_expression("sk, expiresAt")
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store_error("Query", &e))?;
            for item in page.items.unwrap_or_default() {
                let sk = match item.get("sk") {
                    Some(AttributeValue::S(sk)) => sk.clone(),
                    _ => continue,
                };
                out.push((sk, number_of(&item, "expiresAt").unwrap_or(0)));
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Writes `requests` in batches of 25, resending what DynamoDB left unprocessed a
    /// bounded number of times.
    pub(crate) async fn write_all(&self, requests: Vec<WriteRequest>) -> Result<()> {
        for chunk in requests.chunks(BATCH) {
            let mut pending: HashMap<String, Vec<WriteRequest>> =
                HashMap::from([(self.table().to_owned(), chunk.to_vec())]);
            for round in 0..=UNPROCESSED_ROUNDS {
                if pending.values().all(Vec::is_empty) {
                    break;
                }
                if round == UNPROCESSED_ROUNDS {
                    return Err(Error::Store {
                        operation: "BatchWriteItem",
                        reason: "items left unprocessed".into(),
                    });
                }
                if round > 0 {
                    tokio::time::sleep(Duration::from_millis(20 << round)).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .map_err(|e| store_error("BatchWriteItem", &e))?;
                pending = out.unprocessed_items.unwrap_or_default();
            }
        }
        Ok(())
    }

    /// Changes a live connection's metadata or last activity; never creates one and never
    /// touches the key, TTL, user or connect time.
    pub async fn update_connection(
        &self,
        connection_id: &str,
        update: &ConnectionUpdate,
    ) -> Result<Connection> {
        check_id("connection_id", connection_id)?;
        let mut sets = vec!["lastActivity = :t"];
        let mut request = self
            .client
            .update_item()
            .table_name(self.table())
            .key("pk", s(connection_pk(connection_id)))
            .key("sk", s(CONNECTION_SK))
            .condition_expression("attribute_exists(pk) AND expiresAt > :now")
            .expression_attribute_values(":now", n(now_s()))
            .expression_attribute_values(":t", n(update.last_activity.unwrap_or_else(now_ms)));
        if let Some(metadata) = &update.metadata {
            super::items::check_metadata(metadata)?;
            let value: AttributeValue = serde_dynamo::to_attribute_value(metadata)
                .map_err(|_| Error::invalid("metadata", "cannot be stored"))?;
            request = request.expression_attribute_values(":m", value);
            sets.push("metadata = :m");
        }
        let out = request
            .update_expression(format!("SET {}", sets.join(", ")))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match out {
            Ok(out) => {
                let item: ConnectionItem = from_item(out.attributes.unwrap_or_default())?;
                Ok(item.into())
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(Error::NoConnection {
                    connection_id: crate::error::quoted(connection_id),
                })
            }
            Err(e) => Err(store_error("UpdateItem", &e)),
        }
    }

    /// A user's live connections (the `byUser` index), every page.
    pub async fn connections_by_user(&self, user_id: &str) -> Result<Vec<Connection>> {
        check_id("user_id", user_id)?;
        self.query_connections(INDEX_BY_USER, "userId = :k", vec![(":k", s(user_id))])
            .await
    }

    /// Connections active at or after `since_ms` (the `byActivity` index: one range query
    /// per shard).
    pub async fn active_connections(&self, since_ms: i64) -> Result<Vec<Connection>> {
        let mut out = Vec::new();
        for shard in 0..SHARDS {
            out.extend(
                self.query_connections(
                    INDEX_BY_ACTIVITY,
                    "activeShard = :k AND lastActivity >= :t",
                    vec![(":k", s(format!("shard#{shard}"))), (":t", n(since_ms))],
                )
                .await?,
            );
        }
        Ok(out)
    }

    /// Every live connection (the activity index from the beginning of time: still no Scan).
    pub async fn all_connections(&self) -> Result<Vec<Connection>> {
        self.active_connections(i64::MIN).await
    }

    /// Deletes connections idle for longer than `max_age` and those past their TTL (with
    /// their memberships); how many went. Then sets `connected_clients` to what is left.
    pub async fn cleanup_stale_connections(&self, max_age: Duration) -> Result<usize> {
        let timer = Timer::start(&SCOPE, "cleanup_stale_connections");
        let cut = now_ms() - max_age.as_millis() as i64;
        // One pass over the activity index: stale (idle past the cut), expired (past the
        // TTL, however recent), and the rest, which are the live count.
        let (mut stale, mut live) = (Vec::new(), 0usize);
        for shard in 0..SHARDS {
            let items = self
                .query_items(
                    INDEX_BY_ACTIVITY,
                    "activeShard = :k",
                    vec![(":k", s(format!("shard#{shard}")))],
                    false,
                )
                .await?;
            let now = now_s();
            for item in items {
                if item.last_activity < cut || item.expires_at <= now {
                    stale.push(item);
                } else {
                    live += 1;
                }
            }
        }
        for connection in &stale {
            self.delete_connection(&connection.connection_id).await?;
        }
        self.reconcile_connected(live as i64).await?;
        debug_line!(
            SCOPE,
            "Cleaned up stale connections (removed={}, live={live})",
            stale.len()
        );
        timer.finish();
        Ok(stale.len())
    }

    async fn query_connections(
        &self,
        index: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<Vec<Connection>> {
        Ok(self
            .query_items(index, condition, values, true)
            .await?
            .into_iter()
            .map(Connection::from)
            .collect())
    }

    /// Every page of a query on `index`, connection items only; `live`: past-TTL ones
    /// filtered out by the query itself.
    async fn query_items(
        &self,
        index: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        live: bool,
    ) -> Result<Vec<ConnectionItem>> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        for _ in 0..MAX_PAGES {
            let mut query = self
                .client
                .query()
                .table_name(self.table())
                .index_name(index)
                .key_condition_expression(condition)
                .limit(self.settings.page_size)
                .set_exclusive_start_key(start.take());
            for (name, value) in &values {
                query = query.expression_attribute_values(*name, value.clone());
            }
            if live {
                query = query
                    .filter_expression("expiresAt > :now")
                    .expression_attribute_values(":now", n(now_s()));
            }
            let page = query.send().await.map_err(|e| store_error("Query", &e))?;
            for item in page.items.unwrap_or_default() {
                out.push(from_item::<ConnectionItem>(item)?);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(out)
    }
}
