//! One authenticated connection: ids, the wait for a result, and the backlog of messages
//! that arrived for someone else.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use debug::{debug_line, Timer};
use gateway::Phase;
use serde_json::{json, Map, Value};

use crate::config::HaConfig;
use crate::error::{Error, Result};
use crate::stats::{bump, COMMANDS};
use crate::SCOPE;

/// Messages kept for later readers at most; beyond it the oldest is dropped and counted.
pub const BACKLOG_LIMIT: usize = 10_000;

/// A deadline and the budget it came from (reported in timeout errors).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub deadline: Instant,
    pub timeout: Duration,
}

impl Budget {
    pub(crate) fn new(timeout: Duration) -> Budget {
        Budget {
            deadline: Instant::now() + timeout,
            timeout,
        }
    }

    /// The timeout error of this budget in `phase`.
    pub(crate) fn timed_out(&self, phase: Phase) -> Error {
        websocket::Error::Timeout {
            phase,
            after: self.timeout,
        }
        .into()
    }

    /// Time left, or a timeout error in `phase` when none is.
    pub(crate) fn left(&self, phase: Phase) -> Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(self.timed_out(phase))
        } else {
            Ok(left)
        }
    }
}

/// An authenticated Home Assistant session over one registered connection.
#[derive(Debug)]
pub(crate) struct HaSession {
    pub handle: String,
    pub ha_version: String,
    next_id: u64,
    backlog: VecDeque<Value>,
    /// Ids whose caller gave up; their late results are discarded.
    abandoned: HashSet<u64>,
    pub dropped: u64,
}

impl HaSession {
    /// Connects and authenticates within `budget`.
    pub(crate) fn open(config: &HaConfig, budget: Budget) -> Result<HaSession> {
        let timer = Timer::start(&SCOPE, "auth");
        debug_line!(
            SCOPE,
            "Opening session (url={})",
            debug::redact_url(config.ws_url())
        );
        let connected =
            gateway::websocket_connect(config.ws_url(), budget.left(Phase::Connect)?, None)?;
        let handle = connected.connection.as_str().to_owned();
        let result = authenticate(&handle, config, budget);
        timer.finish();
        match result {
            Ok(ha_version) => {
                debug_line!(
                    SCOPE,
                    "Authenticated (connection={handle}, ha_version={ha_version})"
                );
                Ok(HaSession {
                    handle,
                    ha_version,
                    next_id: 1,
                    backlog: VecDeque::new(),
                    abandoned: HashSet::new(),
                    dropped: 0,
                })
            }
            Err(e) => {
                let _ = gateway::websocket_close_with_timeout(
                    &handle,
                    budget.left(Phase::Close).ok(),
                    None,
                );
                Err(e)
            }
        }
    }

    /// Closes the connection, quietly.
    pub(crate) fn close(self) {
        let _ = gateway::websocket_close_with_timeout(
            &self.handle,
            Some(Duration::from_millis(200)),
            None,
        );
    }

    /// Sends `command` with the next id and waits for its `result` (or `pong`). Returns the
    /// whole reply message.
    pub(crate) fn exchange(
        &mut self,
        mut command: Map<String, Value>,
        budget: Budget,
    ) -> Result<(u64, Value)> {
        let id = self.next_id;
        self.next_id += 1;
        command.insert("id".into(), json!(id));
        let kind = command
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        debug_line!(
            SCOPE,
            "Command (type={kind}, id={id}, connection={})",
            self.handle
        );
        let timer = Timer::start(&SCOPE, "command");
        gateway::websocket_send_with_timeout(
            &self.handle,
            &Value::Object(command),
            Some(budget.left(Phase::Send)?),
            None,
        )?;
        // From here on the command was sent: it is never sent again.
        bump(&COMMANDS);
        let reply = self.wait(budget, |m| {
            m.get("id").and_then(Value::as_u64) == Some(id)
                && matches!(
                    m.get("type").and_then(Value::as_str),
                    Some("result" | "pong")
                )
        });
        timer.finish();
        if reply.is_err() {
            self.abandoned.insert(id);
        }
        Ok((id, reply?))
    }

    /// Waits for the next message that `wanted` accepts: from the backlog first, then from
    /// the connection. Everything else is kept in the backlog, in arrival order.
    pub(crate) fn wait(
        &mut self,
        budget: Budget,
        wanted: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        if let Some(pos) = self.backlog.iter().position(&wanted) {
            if let Some(found) = self.backlog.remove(pos) {
                return Ok(found);
            }
        }
        loop {
            let left = budget.left(Phase::Receive)?;
            let message = gateway::websocket_receive(&self.handle, left, None)
                .map_err(|e| restate_timeout(e, budget))?
                .content
                .into_json()
                .unwrap_or_default();
            if wanted(&message) {
                return Ok(message);
            }
            self.keep(message);
        }
    }

    fn keep(&mut self, message: Value) {
        if message.get("type").and_then(Value::as_str) == Some("result") {
            if let Some(id) = message.get("id").and_then(Value::as_u64) {
                if self.abandoned.remove(&id) {
                    return;
                }
            }
        }
        if self.backlog.len() >= BACKLOG_LIMIT {
            self.backlog.pop_front();
            self.dropped += 1;
        }
        self.backlog.push_back(message);
    }

    /// Forgets buffered events of a subscription that ended.
    pub(crate) fn forget_events(&mut self, subscription: u64) {
        self.backlog.retain(|m| {
            !(m.get("type").and_then(Value::as_str) == Some("event")
                && m.get("id").and_then(Value::as_u64) == Some(subscription))
        });
    }

    /// Messages waiting for a reader.
    pub(crate) fn backlog_len(&self) -> usize {
        self.backlog.len()
    }
}

/// A receive cut short by the budget reports the whole budget.
fn restate_timeout(e: gateway::Error, budget: Budget) -> Error {
    match e {
        gateway::Error::Websocket(websocket::Error::Timeout { phase, .. }) => {
            budget.timed_out(phase)
        }
        other => other.into(),
    }
}

/// The auth exchange; returns Home Assistant's version.
fn authenticate(handle: &str, config: &HaConfig, budget: Budget) -> Result<String> {
    let hello = receive(handle, budget)?;
    if hello["type"] != "auth_required" {
        return Err(unexpected("auth_required", &hello));
    }
    debug_line!(SCOPE, "Authenticating (connection={handle})");
    let auth = json!({"type": "auth", "access_token": config.token()});
    gateway::websocket_send_with_timeout(handle, &auth, Some(budget.left(Phase::Send)?), None)?;
    let reply = receive(handle, budget)?;
    match reply["type"].as_str() {
        Some("auth_ok") => Ok(reply["ha_version"].as_str().unwrap_or("unknown").to_owned()),
        Some("auth_invalid") => Err(Error::AuthFailed {
            ha_message: reply["message"].as_str().map(Into::into),
        }),
        _ => Err(unexpected("auth_ok or auth_invalid", &reply)),
    }
}

fn receive(handle: &str, budget: Budget) -> Result<Value> {
    let left = budget.left(Phase::Receive)?;
    gateway::websocket_receive(handle, left, None)
        .map(|r| r.content.into_json().unwrap_or_default())
        .map_err(|e| restate_timeout(e, budget))
}

fn unexpected(expected: &'static str, got: &Value) -> Error {
    Error::Unexpected {
        expected,
        got: got["type"].as_str().unwrap_or("<none>").into(),
    }
}
