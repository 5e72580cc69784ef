//! The connection ids of an audience, one query page at a time: a broadcast holds a page,
//! never the whole list.

use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{n, s, Item};
use super::{
    check_id, now_s, store_error, Store, INDEX_BY_ACTIVITY, INDEX_BY_ROOM, INDEX_BY_USER, SHARDS,
};
use crate::error::Result;

/// One query to page through: its index, key condition and values.
#[derive(Debug, Clone)]
struct Source {
    index: &'static str,
    condition: &'static str,
    values: Vec<(&'static str, AttributeValue)>,
}

/// Pages of connection ids, read as they are asked for.
#[derive(Debug)]
pub struct IdPages {
    store: Store,
    sources: Vec<Source>,
    current: usize,
    start: Option<Item>,
    done: bool,
}

impl Store {
    /// Every live connection's id, page by page (the activity index, shard by shard).
    pub fn all_ids(&self) -> IdPages {
        let sources = (0..SHARDS)
            .map(|k| Source {
                index: INDEX_BY_ACTIVITY,
                condition: "activeShard = :k",
                values: vec![(":k", s(format!("shard#{k}")))],
            })
            .collect();
        self.pages(sources)
    }

    /// The live connections of `users`, page by page (the user index).
    pub fn user_ids(&self, users: &[String]) -> Result<IdPages> {
        for user in users {
            check_id("user_id", user)?;
        }
        let sources = users
            .iter()
            .map(|u| Source {
                index: INDEX_BY_USER,
                condition: "userId = :k",
                values: vec![(":k", s(u.as_str()))],
            })
            .collect();
        Ok(self.pages(sources))
    }

    /// The live members of `room`, page by page (the room index).
    pub fn room_ids(&self, room: &str) -> Result<IdPages> {
        check_id("room_id", room)?;
        Ok(self.pages(vec![Source {
            index: INDEX_BY_ROOM,
            condition: "roomId = :k",
            values: vec![(":k", s(room))],
        }]))
    }

    fn pages(&self, sources: Vec<Source>) -> IdPages {
        IdPages {
            store: self.clone(),
            sources,
            current: 0,
            start: None,
            done: false,
        }
    }
}

impl IdPages {
    /// Whether every page was read.
    pub fn is_done(&self) -> bool {
        self.done || self.current >= self.sources.len()
    }

    /// The next page of ids (`None` when all were read); a page may be empty.
    pub async fn next(&mut self) -> Result<Option<Vec<String>>> {
        if self.done || self.current >= self.sources.len() {
            return Ok(None);
        }
        let source = &self.sources[self.current];
        let mut query = self
            .store
            .client
            .query()
            .table_name(self.store.table())
            .index_name(source.index)
            .key_condition_expression(source.condition)
            .filter_expression("expiresAt > :now")
            .expression_attribute_values(":now", n(now_s()))
            .projection_expression("connectionId")
            .limit(self.store.settings.page_size)
            .set_exclusive_start_key(self.start.take());
        for (name, value) in &source.values {
            query = query.expression_attribute_values(*name, value.clone());
        }
        let page = query.send().await.map_err(|e| store_error("Query", &e))?;
        let ids = page
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|mut item| match item.remove("connectionId") {
                Some(AttributeValue::S(id)) => Some(id),
                _ => None,
            })
            .collect();
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => self.start = Some(key),
            _ => self.current += 1,
        }
        Ok(Some(ids))
    }
}
