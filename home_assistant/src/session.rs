//! One authenticated connection of Home Assistant's own: ids, the wait for a result, and
//! the backlog of messages that arrived for someone else.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use contract::Deadline;
use debug::{debug_line, Timer};
use serde::Serialize;
use serde_json::{Map, Value};
use websocket::{Connection, DeadlineExt, Message, Phase};

use crate::backlog::Backlog;
use crate::config::HaConfig;
use crate::error::{Error, Result};
use crate::hub::{HomeAssistant, Shared};
use crate::protocol::{HaMessage, Unreadable};
use crate::SCOPE;

/// Longest the closing handshake of a session may take (less when the budget is shorter).
const CLOSE_TIMEOUT: Duration = Duration::from_millis(200);

/// A command to send: its `type` and its other fields (the session adds the `id`).
#[derive(Debug, Clone)]
pub(crate) struct Command {
    pub kind: String,
    pub fields: Map<String, Value>,
}

impl Command {
    pub(crate) fn new(kind: &str) -> Command {
        Command {
            kind: kind.to_owned(),
            fields: Map::new(),
        }
    }

    pub(crate) fn with(mut self, key: &str, value: impl Into<Value>) -> Command {
        self.fields.insert(key.to_owned(), value.into());
        self
    }
}

#[derive(Serialize)]
struct Outgoing<'a> {
    id: u64,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(flatten)]
    fields: &'a Map<String, Value>,
}

/// Longest `ha_version` passed on; Home Assistant's own are like `2026.11.3` or `2026.12.0b1`.
const MAX_VERSION_LEN: usize = 32;

/// `ha_version` as a server sent it when it looks like a version (short, `[0-9A-Za-z.+-]`)
/// and holds no secret; `unknown` when missing, `invalid` otherwise — it goes into every
/// envelope and debug line of the session.
fn version_or_placeholder(version: Option<String>) -> String {
    match version {
        None => "unknown".into(),
        Some(v)
            if !v.is_empty()
                && v.len() <= MAX_VERSION_LEN
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'))
                && !debug::contains_secret(&v) =>
        {
            v
        }
        Some(_) => "invalid".into(),
    }
}

/// A message as Home Assistant sent it, with the token and any other registered secret
/// taken out (as they would be written inside JSON strings). Costs one search per secret.
fn scrub_json(text: String) -> String {
    match debug::redact_json(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(clean) => clean,
    }
}

/// An authenticated Home Assistant session over a connection it owns (not in any
/// registry a JSON caller can name).
#[derive(Debug)]
pub(crate) struct HaSession {
    conn: Connection,
    /// `ha-<n>`, for envelopes and debug lines.
    pub name: String,
    pub ha_version: String,
    /// The round trip of its last liveness check (or of `supported_features` at the start).
    pub latency: Option<Duration>,
    /// When it was authenticated.
    pub opened_at: Instant,
    /// Whether Home Assistant agreed to coalesce messages (`None` until it answered).
    pub coalescing: Option<bool>,
    /// The id of `supported_features` and when it was sent, until its answer came.
    features: Option<(u64, Instant)>,
    /// Commands whose sending was started (the id was taken): a command counted here may
    /// have reached Home Assistant.
    started: u64,
    /// The type of the last command sent.
    last_command: String,
    /// For scrubbing the token out of anything Home Assistant says back.
    config: HaConfig,
    next_id: u64,
    backlog: Backlog,
    /// Ids whose caller gave up; their late results are discarded.
    abandoned: HashSet<u64>,
    /// The command limit and counters of the instance that opened it.
    shared: std::sync::Arc<Shared>,
}

impl HaSession {
    /// Connects and authenticates within `budget`; a failed session is dropped at once
    /// when the budget is spent.
    pub(crate) fn open(
        hub: &HomeAssistant,
        config: &HaConfig,
        budget: &Deadline,
    ) -> Result<HaSession> {
        let timer = Timer::start(&SCOPE, "auth");
        let name = hub.shared().next_session_name();
        debug_line!(
            SCOPE,
            "Opening session (session={name}, url={})",
            debug::redact_url(config.ws_url())
        );
        let conn = hub
            .core()
            .open(config.ws_url(), budget.left_in(Phase::Connect)?)?;
        let mut session = HaSession {
            conn,
            name,
            ha_version: String::new(),
            latency: None,
            opened_at: Instant::now(),
            coalescing: None,
            features: None,
            started: 0,
            last_command: String::new(),
            config: config.clone(),
            next_id: 1,
            backlog: Backlog::default(),
            abandoned: HashSet::new(),
            shared: std::sync::Arc::clone(hub.shared()),
        };
        let result = session.authenticate(budget);
        timer.finish();
        match result {
            Ok(ha_version) => {
                debug_line!(
                    SCOPE,
                    "Authenticated (session={}, ha_version={ha_version})",
                    session.name
                );
                session.ha_version = ha_version;
                session.opened_at = Instant::now();
                session.ask_for_coalescing(budget)?;
                Ok(session)
            }
            Err(e) => {
                session.close(budget);
                Err(e)
            }
        }
    }

    /// Closes the connection within what is left of `budget` (at most 200 ms), quietly.
    pub(crate) fn close(self, budget: &Deadline) {
        self.conn.close(budget.left().min(CLOSE_TIMEOUT), None);
    }

    /// The auth exchange; returns Home Assistant's version.
    fn authenticate(&mut self, budget: &Deadline) -> Result<String> {
        match self.read(budget)? {
            HaMessage::AuthRequired => {}
            other => return Err(self.unexpected("auth_required", other.kind())),
        }
        debug_line!(SCOPE, "Authenticating (session={})", self.name);
        let auth = serde_json::json!({"type": "auth", "access_token": self.config.token()});
        self.conn.send(Message::Text(auth.to_string()), budget)?;
        match self.read(budget)? {
            HaMessage::AuthOk { ha_version } => Ok(version_or_placeholder(ha_version)),
            HaMessage::AuthInvalid { message } => Err(Error::AuthFailed {
                ha_message: message.map(|m| self.config.scrub(&m).into()),
            }),
            other => Err(self.unexpected("auth_ok or auth_invalid", other.kind())),
        }
    }

    /// Sends `supported_features` with `coalesce_messages` right after auth, without
    /// waiting: its answer is read with whatever comes next (an error answer means Home
    /// Assistant will not coalesce; frames that are JSON arrays are read either way). Its
    /// round trip is the session's first latency.
    fn ask_for_coalescing(&mut self, budget: &Deadline) -> Result<()> {
        let id = self.next_id;
        self.next_id += 1;
        let text = format!(
            r#"{{"id":{id},"type":"supported_features","features":{{"coalesce_messages":1}}}}"#
        );
        self.conn.send(Message::Text(text), budget)?;
        self.features = Some((id, Instant::now()));
        Ok(())
    }

    /// Whether its next use must first check it is alive: idle longer than the ping
    /// interval of its connection (a pause).
    pub(crate) fn needs_check(&self) -> bool {
        self.conn.needs_check()
    }

    /// The bound on a liveness check (the connection's ping timeout).
    pub(crate) fn ping_timeout(&self) -> Duration {
        self.conn.ping_timeout()
    }

    /// Time since anything last went through its connection.
    pub(crate) fn idle(&self) -> Duration {
        self.conn.idle()
    }

    /// Whether its connection failed (it must not be used again).
    pub(crate) fn is_broken(&self) -> bool {
        self.conn.is_broken()
    }

    /// The type of the last command sent.
    pub(crate) fn last_command(&self) -> &str {
        &self.last_command
    }

    /// Commands whose sending was started so far.
    pub(crate) fn started(&self) -> u64 {
        self.started
    }

    fn unexpected(&self, expected: &'static str, got: &str) -> Error {
        let got: String = self.config.scrub(got).chars().take(64).collect();
        Error::Unexpected {
            expected,
            got: got.into(),
        }
    }

    /// Reads the next single message within `budget` (authentication: never coalesced).
    fn read(&mut self, budget: &Deadline) -> Result<HaMessage> {
        let mut frame = self.read_frame(budget)?;
        match (frame.pop(), frame.is_empty()) {
            (Some(message), true) => Ok(message),
            _ => Err(self.unexpected("one message", "<array>")),
        }
    }

    /// Reads the next frame within `budget`: one message, or several when Home Assistant
    /// coalesced them into a JSON array. Everything Home Assistant sends passes the
    /// redaction of secrets here, before any of it can reach an envelope or a log line.
    fn read_frame(&mut self, budget: &Deadline) -> Result<Vec<HaMessage>> {
        budget.left_in(Phase::Receive)?;
        let text = match self.conn.receive(budget)? {
            Message::Text(text) => scrub_json(text),
            Message::Binary(_) => return Err(self.unexpected("a text message", "<binary>")),
        };
        let unreadable = |e: Unreadable| match e {
            Unreadable::NotAMessage => self.unexpected("a JSON message", "<not json>"),
            Unreadable::NoId(kind) => self.unexpected("a message with an id", &kind),
        };
        if !text.trim_start().starts_with('[') {
            return Ok(vec![HaMessage::parse(&text).map_err(unreadable)?]);
        }
        let parts: Vec<&serde_json::value::RawValue> = serde_json::from_str(&text)
            .map_err(|_| self.unexpected("a JSON message", "<not json>"))?;
        parts
            .into_iter()
            .map(|part| HaMessage::parse(part.get()).map_err(unreadable))
            .collect()
    }

    /// Sends `command` with the next id; from then on it is never sent again.
    pub(crate) fn send(&mut self, command: &Command, budget: &Deadline) -> Result<u64> {
        self.shared.admit_command()?;
        let id = self.next_id;
        self.next_id += 1;
        self.started += 1;
        command.kind.clone_into(&mut self.last_command);
        debug_line!(
            SCOPE,
            "Command (type={}, id={id}, session={})",
            command.kind,
            self.name
        );
        let text = serde_json::to_string(&Outgoing {
            id,
            kind: &command.kind,
            fields: &command.fields,
        })
        .map_err(|e| Error::invalid_parameter("command", &format!("cannot be serialized ({e})")))?;
        self.conn.send(Message::Text(text), budget)?;
        Shared::add(&self.shared.commands, 1);
        Ok(id)
    }

    /// Sends `command` and waits for its `result` (or `pong`).
    pub(crate) fn exchange(
        &mut self,
        command: &Command,
        budget: &Deadline,
    ) -> Result<(u64, HaMessage)> {
        let timer = Timer::start(&SCOPE, "command");
        let id = self.send(command, budget)?;
        let reply = self.wait(budget, |m| {
            matches!(m, HaMessage::Result { id: i, .. } | HaMessage::Pong { id: i } if *i == id)
        });
        timer.finish();
        if reply.is_err() {
            self.abandoned.insert(id);
        }
        Ok((id, reply?))
    }

    /// Marks `id`'s result as unwanted: it is discarded when it comes.
    pub(crate) fn abandon(&mut self, id: u64) {
        self.abandoned.insert(id);
    }

    /// Waits for the next message that `wanted` accepts: from the backlog first, then from
    /// the connection. Everything else is kept in the backlog, in arrival order.
    pub(crate) fn wait(
        &mut self,
        budget: &Deadline,
        wanted: impl Fn(&HaMessage) -> bool,
    ) -> Result<HaMessage> {
        if let Some(found) = self.backlog.take(&wanted) {
            return Ok(found);
        }
        // Bounded by the budget: every read waits at most until its end.
        loop {
            let mut found = None;
            for message in self.read_frame(budget)? {
                if found.is_none() && wanted(&message) {
                    found = Some(message);
                } else {
                    self.keep(message);
                }
            }
            if let Some(message) = found {
                return Ok(message);
            }
        }
    }

    /// Takes out the first message of the backlog `wanted` accepts, without reading.
    pub(crate) fn take_kept(&mut self, wanted: impl Fn(&HaMessage) -> bool) -> Option<HaMessage> {
        self.backlog.take(wanted)
    }

    fn keep(&mut self, message: HaMessage) {
        if let HaMessage::Result { id, ref outcome } = message {
            if let Some((features, sent)) = self.features {
                if id == features {
                    self.features = None;
                    self.latency = Some(sent.elapsed());
                    self.coalescing = Some(outcome.is_ok());
                    debug_line!(
                        SCOPE,
                        "Coalescing (session={}, accepted={})",
                        self.name,
                        outcome.is_ok()
                    );
                    return;
                }
            }
        }
        if let HaMessage::Result { id, .. } | HaMessage::Pong { id } = message {
            if self.abandoned.remove(&id) {
                return;
            }
        }
        let dropped = self.backlog.push(message);
        if dropped > 0 {
            let total = self.backlog.dropped;
            // The first drop of a wait, and then every thousandth, so a flood stays readable.
            if total == dropped || total / 1000 != (total - dropped) / 1000 {
                debug_line!(
                    SCOPE,
                    "Backlog full: dropped the oldest messages (session={}, dropped_total={total}, kept={}, bytes={})",
                    self.name,
                    self.backlog.len(),
                    self.backlog.bytes()
                );
            }
            Shared::add(&self.shared.dropped, dropped);
        }
    }

    /// Messages the backlog dropped since the session opened.
    pub(crate) fn dropped(&self) -> u64 {
        self.backlog.dropped
    }

    /// Forgets buffered events of a subscription that ended.
    pub(crate) fn forget_events(&mut self, subscription: u64) {
        self.backlog
            .forget(|m| matches!(m, HaMessage::Event { id, .. } if *id == subscription));
        self.backlog.take_dropped(subscription);
    }

    /// Events of wire subscription `id` the backlog dropped since last asked.
    pub(crate) fn take_dropped(&mut self, id: u64) -> u64 {
        self.backlog.take_dropped(id)
    }

    /// Messages waiting for a reader.
    pub(crate) fn backlog_len(&self) -> usize {
        self.backlog.len()
    }

    /// Bytes waiting for a reader.
    pub(crate) fn backlog_bytes(&self) -> usize {
        self.backlog.bytes()
    }

    /// Scrubs the token out of text Home Assistant sent.
    pub(crate) fn scrub(&self, text: &str) -> String {
        self.config.scrub(text)
    }
}
