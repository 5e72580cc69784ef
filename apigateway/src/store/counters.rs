//! Counters across containers: atomic `ADD`s on one of [`SHARDS`] items per counter, so no
//! single key takes every write; a read sums the shards (one query per counter).

use serde::Serialize;

use super::items::{n, number_of, s};
use super::{now_ms, store_error, Store, SHARDS};
use crate::error::Result;

const CONNECTED: &str = "counter#connected_clients";
const TOTAL: &str = "counter#total_connections";
const SENT: &str = "counter#messages_sent";
const RECEIVED: &str = "counter#messages_received";
const LAST_ACTIVITY: &str = "counter#last_activity";

/// The counters, summed across shards.
///
/// ```
/// let s = apigateway::StoreStats::default();
/// assert_eq!(s.connected_clients, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    /// Connections now — approximate: a `$disconnect` AWS never delivered leaves it high
    /// until the next cleanup sets it to the live count.
    pub connected_clients: i64,
    /// Connections ever stored.
    pub total_connections: i64,
    /// Messages sent to clients.
    pub messages_sent: i64,
    /// Messages received from clients.
    pub messages_received: i64,
    /// The last activity anywhere, epoch milliseconds (0: none yet).
    pub last_activity: i64,
}

fn shard() -> String {
    format!("shard#{}", fastrand::u32(..SHARDS))
}

impl Store {
    async fn add(&self, counter: &str, by: i64) -> Result<()> {
        self.client
            .update_item()
            .table_name(self.table())
            .key("pk", s(counter))
            .key("sk", s(shard()))
            .update_expression("ADD n :by")
            .expression_attribute_values(":by", n(by))
            .send()
            .await
            .map_err(|e| store_error("UpdateItem", &e))?;
        Ok(())
    }

    /// A connection came (`by` 1) or went (`by` −1): a counter that fails to count is
    /// logged, never the caller's failure.
    pub(crate) async fn count_connected(&self, by: i64) {
        // Three independent writes, concurrently: one round trip on `$connect`, not three.
        let total = async {
            if by > 0 {
                let _ = self.add(TOTAL, by).await;
            }
        };
        let _ = tokio::join!(self.add(CONNECTED, by), total, self.note_activity(now_ms()));
    }

    /// Counts messages received from clients and sent to them.
    pub async fn count_messages(&self, received: i64, sent: i64) -> Result<()> {
        let add = |counter: &'static str, by: i64| async move {
            if by != 0 {
                self.add(counter, by).await
            } else {
                Ok(())
            }
        };
        let (r, s, a) = tokio::join!(
            add(RECEIVED, received),
            add(SENT, sent),
            self.note_activity(now_ms())
        );
        r.and(s).and(a)
    }

    /// Moves the last activity forward to `at_ms` (never back).
    pub async fn note_activity(&self, at_ms: i64) -> Result<()> {
        let out = self
            .client
            .update_item()
            .table_name(self.table())
            .key("pk", s(LAST_ACTIVITY))
            .key("sk", s(shard()))
            .update_expression("SET t = :t")
            .condition_expression("attribute_not_exists(t) OR t < :t")
            .expression_attribute_values(":t", n(at_ms))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(store_error("UpdateItem", &e)),
        }
    }

    /// Sets `connected_clients` to `live` (cleanup's count): the first shard takes it, the
    /// others go to zero. ADDs that land meanwhile are kept only on other shards' next writes,
    /// so the count stays approximate.
    pub(crate) async fn reconcile_connected(&self, live: i64) -> Result<()> {
        for k in 0..SHARDS {
            self.client
                .put_item()
                .table_name(self.table())
                .item("pk", s(CONNECTED))
                .item("sk", s(format!("shard#{k}")))
                .item("n", n(if k == 0 { live } else { 0 }))
                .send()
                .await
                .map_err(|e| store_error("PutItem", &e))?;
        }
        Ok(())
    }

    /// The counters, summed.
    pub async fn stats(&self) -> Result<StoreStats> {
        Ok(StoreStats {
            connected_clients: self.sum(CONNECTED, "n").await?.0,
            total_connections: self.sum(TOTAL, "n").await?.0,
            messages_sent: self.sum(SENT, "n").await?.0,
            messages_received: self.sum(RECEIVED, "n").await?.0,
            last_activity: self.sum(LAST_ACTIVITY, "t").await?.1,
        })
    }

    /// The sum and the largest value of `attribute` across a counter's shards.
    async fn sum(&self, counter: &str, attribute: &str) -> Result<(i64, i64)> {
        let page = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(counter))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("Query", &e))?;
        let values: Vec<i64> = page
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| number_of(item, attribute))
            .collect();
        Ok((
            values.iter().sum(),
            values.iter().copied().max().unwrap_or(0),
        ))
    }
}
