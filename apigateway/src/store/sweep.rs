//! A walk over every connection that can stop and resume: the activity index, shard by
//! shard, one page at a time, its position a [`Cursor`] kept in the table between runs
//! (the scheduled heartbeat's, when one run cannot finish before its deadline).

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{n, number_of, s, Item};
use super::{check_id, now_ms, now_s, store_error, Store, INDEX_BY_ACTIVITY, SHARDS};
use crate::error::Result;

/// Where a walk stands: the activity shard, and the key to start after in it.
///
/// ```
/// let c = apigateway::Cursor::start();
/// assert!(c.is_start());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    shard: u32,
    start: Option<Item>,
}

impl Cursor {
    /// The beginning: shard 0, first page.
    pub fn start() -> Cursor {
        Cursor {
            shard: 0,
            start: None,
        }
    }

    /// Whether it is the beginning.
    pub fn is_start(&self) -> bool {
        self.shard == 0 && self.start.is_none()
    }

    /// The shard it is in.
    pub fn shard(&self) -> u32 {
        self.shard
    }
}

/// One page of a walk: the connections it found, split by the idle cut, and where the walk
/// goes next (`None`: it is over).
#[derive(Debug, Clone, Default)]
pub struct SweepPage {
    /// Live and recently active.
    pub live: Vec<String>,
    /// Idle since before the cut, or past their TTL.
    pub idle: Vec<String>,
    /// The next page's cursor; `None` after the last page of the last shard.
    pub next: Option<Cursor>,
}

fn cursor_pk(name: &str) -> String {
    format!("cursor#{name}")
}

impl Store {
    /// The page of the walk at `cursor`: connections whose last activity is before
    /// `idle_before_ms`, or whose TTL passed, are `idle`.
    pub async fn sweep_page(&self, cursor: &Cursor, idle_before_ms: i64) -> Result<SweepPage> {
        let page = self
            .client
            .query()
            .table_name(self.table())
            .index_name(INDEX_BY_ACTIVITY)
            .key_condition_expression("activeShard = :k")
            .expression_attribute_values(":k", s(format!("shard#{}", cursor.shard)))
            .projection_expression("connectionId, lastActivity, expiresAt")
            .limit(self.settings.page_size)
            .set_exclusive_start_key(cursor.start.clone())
            .send()
            .await
            .map_err(|e| store_error("Query", &e))?;
        let now = now_s();
        let mut out = SweepPage::default();
        for item in page.items.unwrap_or_default() {
            let Some(AttributeValue::S(id)) = item.get("connectionId") else {
                continue;
            };
            let number = |name: &str| number_of(&item, name).unwrap_or(0);
            if number("lastActivity") < idle_before_ms || number("expiresAt") <= now {
                out.idle.push(id.clone());
            } else {
                out.live.push(id.clone());
            }
        }
        out.next = match page.last_evaluated_key {
            Some(key) if !key.is_empty() => Some(Cursor {
                shard: cursor.shard,
                start: Some(key),
            }),
            _ if cursor.shard + 1 < SHARDS => Some(Cursor {
                shard: cursor.shard + 1,
                start: None,
            }),
            _ => None,
        };
        Ok(out)
    }

    /// The cursor a walk named `name` saved, if any.
    pub async fn load_cursor(&self, name: &str) -> Result<Option<Cursor>> {
        check_id("cursor", name)?;
        let Some(item) = self.get_item(cursor_pk(name), "cursor").await? else {
            return Ok(None);
        };
        let shard = number_of(&item, "shard")
            .and_then(|s| u32::try_from(s).ok())
            .filter(|s| *s < SHARDS);
        let Some(shard) = shard else {
            return Ok(None);
        };
        let start = match item.get("start") {
            Some(AttributeValue::M(key)) if !key.is_empty() => Some(key.clone()),
            _ => None,
        };
        Ok(Some(Cursor { shard, start }))
    }

    /// Saves where the walk `name` stands (`None`: it finished, the cursor goes). A saved
    /// cursor lives a day at most.
    pub async fn save_cursor(&self, name: &str, cursor: Option<&Cursor>) -> Result<()> {
        check_id("cursor", name)?;
        let Some(cursor) = cursor else {
            self.client
                .delete_item()
                .table_name(self.table())
                .key("pk", s(cursor_pk(name)))
                .key("sk", s("cursor"))
                .send()
                .await
                .map_err(|e| store_error("DeleteItem", &e))?;
            return Ok(());
        };
        let mut put = self
            .client
            .put_item()
            .table_name(self.table())
            .item("pk", s(cursor_pk(name)))
            .item("sk", s("cursor"))
            .item("shard", n(i64::from(cursor.shard)))
            .item("savedAt", n(now_ms()))
            .item("expiresAt", n(now_s() + 86_400));
        if let Some(start) = &cursor.start {
            put = put.item("start", AttributeValue::M(start.clone()));
        }
        put.send().await.map_err(|e| store_error("PutItem", &e))?;
        Ok(())
    }
}
