//! The scheduled heartbeat: one frame to every live connection, the idle ones (and those
//! past their TTL) closed and removed, the gone ones (410) removed by the send; page by
//! page, never past its deadline — a run that cannot finish saves its cursor and the next
//! run goes on from there.

use std::time::{Duration, Instant};

use debug::{debug_line, Timer};
use serde::Serialize;
use tokio::task::JoinSet;

use super::send::{Management, Outcome};
use crate::error::Result;
use crate::store::Cursor;
use crate::SCOPE;

/// The name the heartbeat's cursor is saved under.
pub const HEARTBEAT_CURSOR: &str = "heartbeat";
/// Time a run keeps for its last page at least: no page starts closer to the deadline.
const PAGE_RESERVE: Duration = Duration::from_millis(500);
/// Time kept back for saving the cursor: every read and close ends this long before the
/// deadline, even one that stalls.
const SAVE_RESERVE: Duration = Duration::from_millis(250);

/// What one heartbeat run did.
///
/// ```
/// let r = apigateway::HeartbeatReport::default();
/// assert!(!r.complete);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeartbeatReport {
    /// Taken by API Gateway.
    pub delivered: u64,
    /// Gone (410): records removed.
    pub gone: u64,
    /// Not delivered.
    pub failed: u64,
    /// Maybe delivered (never re-sent).
    pub unknown: u64,
    /// Read but not tried before the deadline.
    pub not_attempted: u64,
    /// Idle past the limit or past their TTL: closed (`DELETE @connections`) and removed.
    pub idle_removed: u64,
    /// Pages read.
    pub pages: u64,
    /// Whether this run started from a saved cursor.
    pub resumed: bool,
    /// Whether the walk reached its end (else its cursor was saved for the next run).
    pub complete: bool,
}

impl Management {
    /// Sends `frame` to every live connection through `endpoint`, closing the ones idle
    /// since before `now − idle_limit`, at most `concurrency` requests in flight, all
    /// before `deadline`; resumes from the saved cursor and saves it when it stops early.
    pub async fn heartbeat(
        &self,
        endpoint: &str,
        frame: &[u8],
        idle_limit: Duration,
        concurrency: usize,
        deadline: Instant,
    ) -> Result<HeartbeatReport> {
        let timer = Timer::start(&SCOPE, "heartbeat");
        let store = self.store().clone();
        let walk_end = deadline.checked_sub(SAVE_RESERVE).unwrap_or(deadline);
        let saved = tokio::time::timeout_at(walk_end.into(), store.load_cursor(HEARTBEAT_CURSOR))
            .await
            .map_err(|_| timed_out("GetItem"))??;
        let mut report = HeartbeatReport {
            resumed: saved.is_some(),
            ..HeartbeatReport::default()
        };
        let mut cursor = saved.unwrap_or_else(Cursor::start);
        let idle_before = crate::store::now_ms() - idle_limit.as_millis() as i64;
        let data: std::sync::Arc<[u8]> = frame.into();
        let concurrency = concurrency.clamp(1, 1024);
        let mut longest = Duration::ZERO;
        // Bounded: the walk's pages are finite (each query page moves the cursor on), and
        // at most 1000 pages per shard are read in one run.
        let max_pages = crate::store::MAX_PAGES as u64 * u64::from(crate::store::SHARDS);
        let next = loop {
            if report.pages >= max_pages {
                break Some(cursor);
            }
            let reserve = (longest * 2).max(PAGE_RESERVE);
            if Instant::now() + reserve >= deadline {
                break Some(cursor);
            }
            let started = Instant::now();
            let Ok(page) =
                tokio::time::timeout_at(walk_end.into(), store.sweep_page(&cursor, idle_before))
                    .await
            else {
                // The store stalled past the walk's end: go on from here next time.
                break Some(cursor);
            };
            let page = page?;
            report.pages += 1;
            let mut in_flight: JoinSet<Option<Outcome>> = JoinSet::new();
            let jobs = page
                .idle
                .into_iter()
                .map(|id| (id, true))
                .chain(page.live.into_iter().map(|id| (id, false)));
            for (id, idle) in jobs {
                while in_flight.len() >= concurrency {
                    if let Some(Ok(outcome)) = in_flight.join_next().await {
                        count(&mut report, outcome);
                    }
                }
                let (me, endpoint, data) = (self.clone(), endpoint.to_owned(), data.clone());
                in_flight.spawn(async move {
                    if idle {
                        let closed =
                            tokio::time::timeout_at(walk_end.into(), me.disconnect(&endpoint, &id))
                                .await;
                        // Not closed in time: the next run finds it idle again.
                        closed.is_err().then_some(Outcome::NotAttempted)
                    } else {
                        Some(me.send(&endpoint, &id, &data, walk_end).await)
                    }
                });
            }
            while let Some(joined) = in_flight.join_next().await {
                if let Ok(outcome) = joined {
                    count(&mut report, outcome);
                }
            }
            longest = longest.max(started.elapsed());
            match page.next {
                Some(next) => cursor = next,
                None => break None,
            }
        };
        report.complete = next.is_none();
        tokio::time::timeout_at(
            deadline.into(),
            store.save_cursor(HEARTBEAT_CURSOR, next.as_ref()),
        )
        .await
        .map_err(|_| timed_out("PutItem"))??;
        debug_line!(
            SCOPE,
            "Heartbeat (delivered={}, gone={}, idle_removed={}, failed={}, unknown={}, not_attempted={}, pages={}, complete={})",
            report.delivered,
            report.gone,
            report.idle_removed,
            report.failed,
            report.unknown,
            report.not_attempted,
            report.pages,
            report.complete
        );
        timer.finish();
        Ok(report)
    }
}

/// A store request cut by the walk's deadline, as the store reports its own timeouts.
fn timed_out(operation: &'static str) -> crate::error::Error {
    crate::error::Error::Store {
        operation,
        reason: "timed out".into(),
    }
}

fn count(report: &mut HeartbeatReport, outcome: Option<Outcome>) {
    match outcome {
        None => report.idle_removed += 1,
        Some(Outcome::Delivered) => report.delivered += 1,
        Some(Outcome::Gone) => report.gone += 1,
        Some(Outcome::Failed(_)) => report.failed += 1,
        Some(Outcome::Unknown(_)) => report.unknown += 1,
        Some(Outcome::NotAttempted) => report.not_attempted += 1,
    }
}
