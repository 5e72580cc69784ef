//! Rooms: a membership item per room a connection is in (a connection may be in many),
//! found by the `byRoom` index.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use debug::debug_line;

use super::items::{
    connection_pk, from_item, n, room_sk, s, to_item, MembershipItem, CONNECTION_SK,
};
use super::{
    check_id, now_ms, now_s, store_error, Store, INDEX_BY_ROOM, MAX_PAGES, MAX_ROOMS_PER_CONNECTION,
};
use crate::error::{quoted, Error, Result};
use crate::SCOPE;

/// A room's member, as the store answers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Member {
    /// The connection.
    pub connection_id: String,
    /// The connection's user, when it has one (kept with the membership: no read of the
    /// connection to list a room's users).
    pub user_id: Option<String>,
    /// When it joined, epoch milliseconds.
    pub joined_at: i64,
}

impl Store {
    /// Puts a live connection into `room` (at most [`MAX_ROOMS_PER_CONNECTION`] rooms);
    /// joining a room it is in already changes nothing. The membership expires with the
    /// connection.
    pub async fn join_room(&self, connection_id: &str, room: &str) -> Result<bool> {
        check_id("connection_id", connection_id)?;
        check_id("room_id", room)?;
        let connection =
            self.get_connection(connection_id)
                .await?
                .ok_or_else(|| Error::NoConnection {
                    connection_id: quoted(connection_id),
                })?;
        let membership = MembershipItem {
            pk: connection_pk(connection_id),
            sk: room_sk(room),
            connection_id: connection_id.to_owned(),
            room_id: room.to_owned(),
            user_id: connection.user_id.clone(),
            joined_at: now_ms(),
            expires_at: connection.expires_at,
        };
        let count = Update::builder()
            .table_name(self.table())
            .key("pk", s(connection_pk(connection_id)))
            .key("sk", s(CONNECTION_SK))
            .update_expression("ADD rooms :one")
            .condition_expression(
                "attribute_exists(pk) AND expiresAt > :now AND (attribute_not_exists(rooms) OR rooms < :max)",
            )
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now_s()))
            .expression_attribute_values(":max", n(MAX_ROOMS_PER_CONNECTION as i64))
            .build()
            .map_err(|_| Error::invalid("room_id", "cannot be a key"))?;
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(to_item(&membership)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|_| Error::invalid("room_id", "cannot be a key"))?;
        let written = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(count).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await;
        match written {
            Ok(_) => {
                debug_line!(
                    SCOPE,
                    "Joined room (connection_id={connection_id}, room_id={room})"
                );
                Ok(true)
            }
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
                    let reasons: Vec<Option<&str>> = cancel
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code())
                        .collect();
                    let failed = |i: usize| {
                        reasons.get(i).copied().flatten() == Some("ConditionalCheckFailed")
                    };
                    if failed(1) {
                        // Already a member (the count was not changed: all or nothing).
                        return Ok(false);
                    }
                    if failed(0) {
                        return match self.get_connection(connection_id).await? {
                            None => Err(Error::NoConnection {
                                connection_id: quoted(connection_id),
                            }),
                            Some(_) => Err(Error::LimitExceeded {
                                what: "rooms per connection",
                                limit: MAX_ROOMS_PER_CONNECTION,
                            }),
                        };
                    }
                    Err(store_error("TransactWriteItems", &e))
                }
                _ => Err(store_error("TransactWriteItems", &e)),
            },
        }
    }

    /// Takes a connection out of `room`; whether it was in it.
    pub async fn leave_room(&self, connection_id: &str, room: &str) -> Result<bool> {
        check_id("connection_id", connection_id)?;
        check_id("room_id", room)?;
        let delete = Delete::builder()
            .table_name(self.table())
            .key("pk", s(connection_pk(connection_id)))
            .key("sk", s(room_sk(room)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|_| Error::invalid("room_id", "cannot be a key"))?;
        let count = Update::builder()
            .table_name(self.table())
            .key("pk", s(connection_pk(connection_id)))
            .key("sk", s(CONNECTION_SK))
            .update_expression("ADD rooms :minus")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":minus", n(-1))
            .build()
            .map_err(|_| Error::invalid("room_id", "cannot be a key"))?;
        let written = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .transact_items(TransactWriteItem::builder().update(count).build())
            .send()
            .await;
        match written {
            Ok(_) => Ok(true),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
                    let first = cancel.cancellation_reasons().first().and_then(|r| r.code());
                    if first == Some("ConditionalCheckFailed") {
                        return Ok(false);
                    }
                    // The membership was there but the connection is gone: delete it alone.
                    self.client
                        .delete_item()
                        .table_name(self.table())
                        .key("pk", s(connection_pk(connection_id)))
                        .key("sk", s(room_sk(room)))
                        .send()
                        .await
                        .map_err(|e| store_error("DeleteItem", &e))?;
                    Ok(true)
                }
                _ => Err(store_error("TransactWriteItems", &e)),
            },
        }
    }

    /// The live members of `room` (the `byRoom` index), every page.
    pub async fn connections_by_room(&self, room: &str) -> Result<Vec<Member>> {
        check_id("room_id", room)?;
        let mut out = Vec::new();
        let mut start = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .query()
                .table_name(self.table())
                .index_name(INDEX_BY_ROOM)
                .key_condition_expression("roomId = :r")
                .filter_expression("expiresAt > :now")
                .expression_attribute_values(":r", s(room))
                .expression_attribute_values(":now", n(now_s()))
                .limit(self.settings.page_size)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store_error("Query", &e))?;
            for item in page.items.unwrap_or_default() {
                let m: MembershipItem = from_item(item)?;
                out.push(Member {
                    connection_id: m.connection_id,
                    user_id: m.user_id,
                    joined_at: m.joined_at,
                });
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(out)
    }

    /// The rooms a connection is in.
    pub async fn rooms_of(&self, connection_id: &str) -> Result<Vec<String>> {
        check_id("connection_id", connection_id)?;
        let page = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND begins_with(sk, :room)")
            .filter_expression("expiresAt > :now")
            .expression_attribute_values(":pk", s(connection_pk(connection_id)))
            .expression_attribute_values(":room", s("room#"))
            .expression_attribute_values(":now", n(now_s()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("Query", &e))?;
        Ok(page
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| from_item::<MembershipItem>(i).ok())
            .map(|m| m.room_id)
            .collect())
    }
}
