//! A per-connection message rate: a fixed-window counter in the connection's own partition
//! (`conn#<id>` / `rate#<window start>`), one conditional `ADD` per message. Consecutive
//! messages of one connection reach different containers, so the count lives in the
//! store; a true sliding window is not one DynamoDB operation.

use std::time::Duration;

use super::items::{connection_pk, n, s};
use super::{check_id, now_ms, store_error, Store};
use crate::error::Result;

impl Store {
    /// Counts one message of `connection_id` in the current window of `window`; whether it
    /// is within `limit` (a refused message is not counted). Windows start at multiples of
    /// `window` since the epoch; their items expire a minute after they end.
    ///
    /// ```no_run
    /// # async fn demo(store: apigateway::Store) -> apigateway::Result<()> {
    /// let admitted = store.admit_message("L0SM9cOFvHcCIhw=", 100, std::time::Duration::from_secs(60)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn admit_message(
        &self,
        connection_id: &str,
        limit: u32,
        window: Duration,
    ) -> Result<bool> {
        check_id("connection_id", connection_id)?;
        let window_ms = window.as_millis().max(1) as i64;
        let start = now_ms().div_euclid(window_ms) * window_ms;
        let expires = (start + window_ms) / 1000 + 60;
        let out = self
            .client
            .update_item()
            .table_name(self.table())
            .key("pk", s(connection_pk(connection_id)))
            .key("sk", s(format!("rate#{start}")))
            .update_expression("ADD n :one SET expiresAt = :exp")
            .condition_expression("attribute_not_exists(n) OR n < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":exp", n(expires))
            .expression_attribute_values(":limit", n(i64::from(limit)))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_error("UpdateItem", &e)),
        }
    }
}
