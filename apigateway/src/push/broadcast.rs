//! Broadcast: one `PostToConnection` per connection (there is no batch call), at most
//! `concurrency` in flight, ids read a page at a time, the whole under one deadline; one
//! outcome per connection, counted.

use std::time::{Duration, Instant};

use debug::{debug_line, Timer};
use serde::Serialize;
use tokio::task::JoinSet;

use super::send::{Management, Outcome};
use crate::error::Result;
use crate::store::IdPages;
use crate::SCOPE;

/// Posts in flight at most, by default.
pub const DEFAULT_CONCURRENCY: usize = 64;
/// Outcomes other than `delivered` kept by id in a report at most (the counts hold all).
const KEPT: usize = 100;

/// Whom a broadcast reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// These ids.
    Ids(Vec<String>),
    /// Every live connection.
    All,
    /// The live connections of these users.
    Users(Vec<String>),
    /// The live members of a room.
    Room(String),
}

/// What a broadcast did: a count per outcome, and the first ids of each kind that was not
/// delivered.
///
/// ```
/// let r = apigateway::BroadcastReport::default();
/// assert_eq!(r.total(), 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BroadcastReport {
    /// Taken by API Gateway.
    pub delivered: u64,
    /// Gone (410): their records were removed.
    pub gone: u64,
    /// Not delivered.
    pub failed: u64,
    /// Maybe delivered: never re-sent.
    pub unknown: u64,
    /// Read but not tried: the deadline came first.
    pub not_attempted: u64,
    /// Whether ids were left unread when the deadline came (they are in no count).
    pub unread: bool,
    /// Up to 100 ids with an outcome other than `delivered`, with it.
    pub not_delivered: Vec<(String, Outcome)>,
}

impl BroadcastReport {
    /// Connections counted.
    pub fn total(&self) -> u64 {
        self.delivered + self.gone + self.failed + self.unknown + self.not_attempted
    }

    fn count(&mut self, id: String, outcome: Outcome) {
        match outcome {
            Outcome::Delivered => self.delivered += 1,
            Outcome::Gone => self.gone += 1,
            Outcome::Failed(_) => self.failed += 1,
            Outcome::Unknown(_) => self.unknown += 1,
            Outcome::NotAttempted => self.not_attempted += 1,
        }
        if outcome != Outcome::Delivered && self.not_delivered.len() < KEPT {
            self.not_delivered.push((id, outcome));
        }
    }
}

/// Time kept back at the end of a broadcast: no post starts closer to the deadline.
const MARGIN: Duration = Duration::from_millis(50);

impl Management {
    /// Sends `data` to `audience` through `endpoint`, at most `concurrency` posts in
    /// flight, all before `deadline`.
    pub async fn broadcast(
        &self,
        endpoint: &str,
        audience: Audience,
        data: &[u8],
        concurrency: usize,
        deadline: Instant,
    ) -> Result<BroadcastReport> {
        self.broadcast_except(endpoint, audience, None, data, concurrency, deadline)
            .await
    }

    /// [`Management::broadcast`] skipping `except` (the sender of a room message).
    pub async fn broadcast_except(
        &self,
        endpoint: &str,
        audience: Audience,
        except: Option<&str>,
        data: &[u8],
        concurrency: usize,
        deadline: Instant,
    ) -> Result<BroadcastReport> {
        let timer = Timer::start(&SCOPE, "broadcast");
        let concurrency = concurrency.clamp(1, 1024);
        let data: std::sync::Arc<[u8]> = data.into();
        let mut report = BroadcastReport::default();
        let mut in_flight: JoinSet<(String, Outcome)> = JoinSet::new();
        let mut pages = match &audience {
            Audience::Ids(ids) => Pages::List(Some(ids.clone())),
            Audience::All => Pages::Store(self.store().all_ids()),
            Audience::Users(users) => Pages::Store(self.store().user_ids(users)?),
            Audience::Room(room) => Pages::Store(self.store().room_ids(room)?),
        };
        let end = deadline.checked_sub(MARGIN).unwrap_or(deadline);
        'pages: loop {
            if Instant::now() >= end {
                report.unread = !pages.exhausted();
                break;
            }
            let Some(page) = pages.next().await? else {
                break;
            };
            let mut ids = page.into_iter();
            while let Some(id) = ids.next() {
                if except == Some(id.as_str()) {
                    continue;
                }
                while in_flight.len() >= concurrency {
                    if let Some(Ok((id, outcome))) = in_flight.join_next().await {
                        report.count(id, outcome);
                    }
                }
                if Instant::now() >= end {
                    report.count(id, Outcome::NotAttempted);
                    for rest in ids.by_ref() {
                        report.count(rest, Outcome::NotAttempted);
                    }
                    report.unread = !pages.exhausted();
                    break 'pages;
                }
                let (me, endpoint, data) = (self.clone(), endpoint.to_owned(), data.clone());
                in_flight.spawn(async move {
                    let outcome = me.send(&endpoint, &id, &data, deadline).await;
                    (id, outcome)
                });
            }
        }
        while let Some(joined) = in_flight.join_next().await {
            if let Ok((id, outcome)) = joined {
                report.count(id, outcome);
            }
        }
        debug_line!(
            SCOPE,
            "Broadcast (delivered={}, gone={}, failed={}, unknown={}, not_attempted={}, unread={})",
            report.delivered,
            report.gone,
            report.failed,
            report.unknown,
            report.not_attempted,
            report.unread
        );
        timer.finish();
        Ok(report)
    }
}

enum Pages {
    List(Option<Vec<String>>),
    Store(IdPages),
}

impl Pages {
    async fn next(&mut self) -> Result<Option<Vec<String>>> {
        match self {
            Pages::List(list) => Ok(list.take()),
            Pages::Store(pages) => pages.next().await,
        }
    }

    fn exhausted(&self) -> bool {
        match self {
            Pages::List(list) => list.is_none(),
            Pages::Store(pages) => pages.is_done(),
        }
    }
}
