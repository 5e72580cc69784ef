//! A Home Assistant stand-in: the public WebSocket protocol (auth, ids, results, events,
//! subscriptions, ping) over a small, fixed set of entities.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use tungstenite::{Message, WebSocket};

use crate::ha_states::{is_state_trigger, Change, Context, Entity};
use crate::server::{Server, CONNECTION_LIFETIME};

/// How often an idle session looks for changes made from outside (`set_state`).
const POLL: Duration = Duration::from_millis(5);

/// The `ha_version` the stand-in reports.
pub const STAND_IN_VERSION: &str = "2026.11.0-standin";

#[derive(Debug, Default)]
struct Shared {
    states: Vec<Entity>,
    /// Every change so far; each session sends its subscribers those it has not sent yet.
    changes: Vec<Change>,
    /// The stand-in's clock, microseconds since the epoch: each change moves it on.
    clock: i64,
    /// Sessions numbered below it answer nothing and read nothing (`black_hole`).
    black_hole_below: u64,
    next_session: u64,
    live: Vec<TcpStream>,
    command_log: Vec<String>,
    quirks: Quirks,
    /// The token it accepts (`set_token` rotates it).
    token: String,
}

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    auths: AtomicU64,
    stall: AtomicBool,
}

/// Ways the stand-in can misbehave, as a hostile or broken Home Assistant would.
///
/// ```
/// let ha = peers::HaStandIn::start("token").unwrap();
/// ha.set_quirks(peers::Quirks { stall_auth: true, ..Default::default() });
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quirks {
    /// Never answer the `auth` message.
    pub stall_auth: bool,
    /// Put the token it was sent into `auth_invalid`'s message.
    pub reflect_token: bool,
    /// Answer the `auth` message with text that is not JSON and holds the token.
    pub non_json_auth_reply: bool,
    /// Send this many `state_changed` events to subscribers before each result.
    pub events_before_result: usize,
    /// Pad each of those events with this many bytes.
    pub event_padding: usize,
    /// Answer `get_states` with `[0,0,...]` of about this many bytes instead.
    pub states_of_zeros: Option<usize>,
    /// Never answer `unsubscribe_events`.
    pub ignore_unsubscribe: bool,
    /// Answer `ping` with an error result instead of `pong`.
    pub ping_error: bool,
    /// Report this `ha_version` instead of the stand-in's.
    pub ha_version: Option<String>,
    /// Put the token into every string it sends: `ha_version`, results (as a value and as a
    /// key), error codes and messages, events, and the reason of the close frame it answers
    /// a `close_me` command with.
    pub reflect_token_everywhere: bool,
    /// Once this many bytes were read from a connection, stop reading it for this long (a
    /// client's large command is left half written), with a small receive buffer so the
    /// kernel cannot hide the stall. Applies to connections opened from now on.
    pub stall_reading: Option<(usize, std::time::Duration)>,
    /// Answer `supported_features` with an error (an older Home Assistant): no coalescing.
    pub refuse_features: bool,
    /// Drop the connection as soon as a command of this type arrives, unanswered (a
    /// restart in the middle of it).
    pub drop_on: Option<String>,
}

/// A Home Assistant stand-in on 127.0.0.1.
///
/// It sends `auth_required`, accepts only its token (`auth_invalid` and a close otherwise),
/// rejects ids that do not increase (`id_reuse`), sends a `state_changed` event to
/// subscribers *before* the `call_service` result, and can drop every connection at once to
/// simulate a restart.
///
/// ```
/// let ha = peers::HaStandIn::start("token").unwrap();
/// assert!(ha.url().ends_with("/api/websocket"));
/// ```
#[derive(Debug)]
pub struct HaStandIn {
    server: Server,
    shared: Arc<Mutex<Shared>>,
    counters: Arc<Counters>,
    tls: bool,
}

impl HaStandIn {
    /// Starts the stand-in; clients must authenticate with `token`.
    pub fn start(token: &str) -> std::io::Result<HaStandIn> {
        HaStandIn::start_with(token, None)
    }

    /// Starts the stand-in behind TLS (`wss://`, `https://` base URL) with `acceptor`'s
    /// identity.
    pub fn start_tls(token: &str, acceptor: native_tls::TlsAcceptor) -> std::io::Result<HaStandIn> {
        HaStandIn::start_with(token, Some(Arc::new(acceptor)))
    }

    fn start_with(
        token: &str,
        tls: Option<Arc<native_tls::TlsAcceptor>>,
    ) -> std::io::Result<HaStandIn> {
        let secure = tls.is_some();
        let shared = Arc::new(Mutex::new(Shared {
            states: initial_states(),
            clock: crate::ha_states::EPOCH_MICROS,
            token: token.to_owned(),
            ..Shared::default()
        }));
        let counters = Arc::new(Counters::default());
        let (s, c) = (Arc::clone(&shared), Arc::clone(&counters));
        let server = Server::start(
            if secure { "wss" } else { "ws" },
            Arc::new(move |stream: TcpStream| {
                c.connections.fetch_add(1, Ordering::SeqCst);
                let poll = stream.try_clone().ok();
                if let Ok(clone) = stream.try_clone() {
                    s.lock().live.push(clone);
                }
                let stall = s.lock().quirks.stall_reading;
                if stall.is_some() {
                    crate::stalls::shrink_receive_buffer(&stream);
                }
                let stream = crate::stalls::StallAfter::new(stream, stall);
                let token = s.lock().token.clone();
                let session = Session::new(&token, Arc::clone(&s), Arc::clone(&c));
                match &tls {
                    Some(acceptor) => {
                        if let Ok(Ok(ws)) = acceptor.accept(stream).map(tungstenite::accept) {
                            session.run(ws, poll);
                        }
                    }
                    None => {
                        if let Ok(ws) = tungstenite::accept(stream) {
                            session.run(ws, poll);
                        }
                    }
                }
            }),
        )?;
        Ok(HaStandIn {
            server,
            shared,
            counters,
            tls: secure,
        })
    }

    /// `ws://127.0.0.1:PORT/api/websocket` (`wss://` behind TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!(
            "{scheme}://127.0.0.1:{}/api/websocket",
            self.server.addr().port()
        )
    }

    /// `http://127.0.0.1:PORT` (`https://` behind TLS), the form users put in `HA_URL`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.server.addr().port())
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.counters.connections.load(Ordering::SeqCst)
    }

    /// Successful authentications so far.
    pub fn auths(&self) -> u64 {
        self.counters.auths.load(Ordering::SeqCst)
    }

    /// The `type` of every command received after authentication, in order.
    pub fn command_log(&self) -> Vec<String> {
        self.shared.lock().command_log.clone()
    }

    /// When on, commands are logged but never answered (a server that hangs).
    pub fn set_stalled(&self, stalled: bool) {
        self.counters.stall.store(stalled, Ordering::SeqCst);
    }

    /// Makes the stand-in misbehave (for connections and commands from now on).
    pub fn set_quirks(&self, quirks: Quirks) {
        self.shared.lock().quirks = quirks;
    }

    /// Accepts only `token` from now on (a rotated token; open sessions stay).
    pub fn set_token(&self, token: &str) {
        self.shared.lock().token = token.to_owned();
    }

    /// Drops every open connection at once, as a restart of Home Assistant would.
    pub fn restart(&self) {
        for stream in self.shared.lock().live.drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Turns every open connection into a black hole: the socket stays open, nothing is
    /// read or answered (a frozen NAT, a dead host). Connections opened later are served.
    pub fn black_hole(&self) {
        let mut shared = self.shared.lock();
        shared.black_hole_below = shared.next_session + 1;
    }

    /// Sets an entity's state and attributes (adds it when new), as an integration would:
    /// `last_changed` moves when the state changes, `last_updated` always; a new context.
    /// Subscribers get `state_changed`, triggers and `subscribe_entities` diffs.
    pub fn set_state(&self, entity_id: &str, state: &str, attributes: Value) {
        self.shared
            .lock()
            .set(entity_id, state, attributes.as_object().cloned(), None);
    }

    /// Removes an entity (subscribers get `state_changed` with no new state, and `r`).
    pub fn remove_entity(&self, entity_id: &str) {
        let mut shared = self.shared.lock();
        if let Some(pos) = shared.states.iter().position(|e| e.id == entity_id) {
            let old = shared.states.remove(pos);
            shared.changes.push(Change {
                old: Some(old),
                new: None,
            });
        }
    }
}

impl Shared {
    /// Applies a change of `entity_id` and logs it; `attributes` `None` keeps them.
    fn set(
        &mut self,
        entity_id: &str,
        state: &str,
        attributes: Option<Map<String, Value>>,
        user_id: Option<&str>,
    ) -> Change {
        // Whole seconds and some microseconds, so both time shapes are exercised.
        self.clock += 1_234_567;
        let now = self.clock;
        let context = Context {
            id: format!("01STANDIN{now}"),
            parent_id: None,
            user_id: user_id.map(str::to_owned),
        };
        let change = match self.states.iter_mut().find(|e| e.id == entity_id) {
            Some(entity) => {
                let old = entity.clone();
                if entity.state != state {
                    entity.last_changed = now;
                }
                entity.state = state.to_owned();
                if let Some(attributes) = attributes {
                    entity.attributes = attributes;
                }
                entity.last_updated = now;
                entity.context = context;
                Change {
                    old: Some(old),
                    new: Some(entity.clone()),
                }
            }
            None => {
                let mut entity = Entity::new(
                    entity_id,
                    state,
                    Value::Object(attributes.unwrap_or_default()),
                );
                entity.last_changed = now;
                entity.last_updated = now;
                entity.context = context;
                self.states.push(entity.clone());
                Change {
                    old: None,
                    new: Some(entity),
                }
            }
        };
        self.changes.push(change.clone());
        change
    }
}

fn initial_states() -> Vec<Entity> {
    vec![
        Entity::new(
            "light.kitchen",
            "off",
            json!({"friendly_name": "Kitchen Light", "brightness": null}),
        ),
        Entity::new(
            "sensor.outdoor_temperature",
            "7.5",
            json!({"friendly_name": "Outdoor Temperature", "unit_of_measurement": "°C"}),
        ),
        Entity::new(
            "switch.coffee_maker",
            "off",
            json!({"friendly_name": "Coffee Maker"}),
        ),
    ]
}

/// What a subscription of a session listens to.
#[derive(Debug, Clone)]
enum Sub {
    /// `subscribe_events` of one type, or all (`None`).
    Events(Option<String>),
    /// `render_template`: nothing more after its one rendering.
    Template,
    /// `subscribe_trigger` with its state triggers.
    Trigger(Vec<Value>),
    /// `subscribe_entities` of some entities, or all.
    Entities(Option<Vec<String>>),
}

/// One authenticated client connection.
struct Session {
    token: String,
    shared: Arc<Mutex<Shared>>,
    counters: Arc<Counters>,
    last_id: u64,
    subscriptions: HashMap<u64, Sub>,
    /// The token the client sent.
    given: String,
    /// Its number, for `black_hole`.
    number: u64,
    /// Changes already sent to its subscribers (an index into the shared log).
    cursor: usize,
    /// Whether it asked for coalesced messages (and was not refused).
    coalesce: bool,
}

impl Session {
    fn new(token: &str, shared: Arc<Mutex<Shared>>, counters: Arc<Counters>) -> Self {
        let (number, cursor) = {
            let mut s = shared.lock();
            s.next_session += 1;
            (s.next_session, s.changes.len())
        };
        Session {
            token: token.to_owned(),
            shared,
            counters,
            last_id: 0,
            subscriptions: HashMap::new(),
            given: String::new(),
            number,
            cursor,
            coalesce: false,
        }
    }

    fn quirks(&self) -> Quirks {
        self.shared.lock().quirks.clone()
    }

    fn run<S: Read + Write>(mut self, mut ws: WebSocket<S>, poll: Option<TcpStream>) {
        if !self.authenticate(&mut ws) {
            let _ = ws.close(None);
            let _ = ws.flush();
            return;
        }
        // From now on reads wake every POLL to send changes made from outside.
        if let Some(stream) = &poll {
            let _ = stream.set_read_timeout(Some(POLL));
        }
        let mut last_heard = Instant::now();
        // Bounded: a session silent for CONNECTION_LIFETIME ends.
        while last_heard.elapsed() < CONNECTION_LIFETIME {
            if self.black_holed() {
                std::thread::sleep(POLL);
                continue;
            }
            let message = match ws.read() {
                Ok(message) => message,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    let events = self.pending_events();
                    if !events.is_empty() && !self.send_all(&mut ws, events) {
                        return;
                    }
                    continue;
                }
                Err(_) => return,
            };
            last_heard = Instant::now();
            let Message::Text(text) = message else {
                continue;
            };
            let Ok(command) = serde_json::from_str::<Value>(text.as_str()) else {
                continue;
            };
            let quirks = self.quirks();
            let reflect = quirks.reflect_token_everywhere;
            if reflect && command["type"] == "close_me" {
                let reason = format!("bye {}", self.given);
                let _ = ws.close(Some(tungstenite::protocol::CloseFrame {
                    code: tungstenite::protocol::frame::coding::CloseCode::Normal,
                    reason: reason.into(),
                }));
                let _ = ws.flush();
                while ws.read().is_ok() {}
                return;
            }
            if quirks
                .drop_on
                .as_deref()
                .is_some_and(|t| command["type"] == t)
            {
                if let Some(kind) = command["type"].as_str() {
                    self.shared.lock().command_log.push(kind.to_owned());
                }
                if let Some(stream) = &poll {
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                }
                return;
            }
            if !self.flood(&mut ws, &command) {
                return;
            }
            let replies: Vec<String> = self
                .handle(&command)
                .into_iter()
                .map(|reply| if reflect { self.reflect(&reply) } else { reply })
                .collect();
            if !self.send_all(&mut ws, replies) {
                return;
            }
        }
    }

    fn black_holed(&self) -> bool {
        self.number < self.shared.lock().black_hole_below
    }

    /// Sends `replies` in order: in one JSON array frame when the client asked for
    /// coalescing and there are several, as Home Assistant does; false when it went away.
    fn send_all<S: Read + Write>(&self, ws: &mut WebSocket<S>, replies: Vec<String>) -> bool {
        if self.coalesce && replies.len() > 1 {
            return ws
                .send(Message::text(format!("[{}]", replies.join(","))))
                .is_ok();
        }
        replies
            .into_iter()
            .all(|reply| ws.send(Message::text(reply)).is_ok())
    }

    /// The events of the changes it has not sent yet, for its subscriptions.
    fn pending_events(&mut self) -> Vec<String> {
        let changes: Vec<Change> = {
            let shared = self.shared.lock();
            let fresh = shared
                .changes
                .get(self.cursor..)
                .unwrap_or_default()
                .to_vec();
            self.cursor = shared.changes.len();
            fresh
        };
        let mut events = Vec::new();
        for change in &changes {
            let mut subs: Vec<(&u64, &Sub)> = self.subscriptions.iter().collect();
            subs.sort_by_key(|(id, _)| **id);
            for (id, sub) in subs {
                let bodies = match sub {
                    Sub::Events(t) if t.as_deref().is_none_or(|t| t == "state_changed") => {
                        vec![change.state_changed()]
                    }
                    Sub::Events(_) | Sub::Template => vec![],
                    Sub::Trigger(triggers) => change.trigger_events(triggers),
                    Sub::Entities(ids) => {
                        if ids
                            .as_ref()
                            .is_none_or(|ids| ids.iter().any(|i| i == change.entity_id()))
                        {
                            vec![change.entities_event()]
                        } else {
                            vec![]
                        }
                    }
                };
                for body in bodies {
                    events.push(json!({"id": id, "type": "event", "event": body}).to_string());
                }
            }
        }
        events
    }

    /// `reply` with the token it was sent put into every string field it has, and as a key.
    fn reflect(&self, reply: &str) -> String {
        let token = self.given.as_str();
        let Ok(mut value) = serde_json::from_str::<Value>(reply) else {
            return reply.to_owned();
        };
        if let Some(error) = value.get_mut("error").and_then(Value::as_object_mut) {
            error.insert("code".into(), json!(token));
            error.insert("message".into(), json!(format!("Refused {token}")));
        }
        if let Some(result) = value.get_mut("result") {
            let echo = json!({"echo": token, token: 1, "nested": [token]});
            match result {
                Value::Object(map) => {
                    map.insert("echo".into(), json!(token));
                    map.insert(token.to_owned(), echo);
                }
                Value::Array(items) => items.push(echo),
                other => *other = echo,
            }
        }
        if let Some(event) = value.get_mut("event").and_then(Value::as_object_mut) {
            event.insert("echo".into(), json!(token));
            event.insert(token.to_owned(), json!(token));
        }
        value.to_string()
    }

    fn authenticate<S: Read + Write>(&mut self, ws: &mut WebSocket<S>) -> bool {
        let quirks = self.quirks();
        let mut version = quirks
            .ha_version
            .clone()
            .unwrap_or_else(|| STAND_IN_VERSION.into());
        if quirks.reflect_token_everywhere {
            version = self.token.clone();
        }
        let hello = json!({"type": "auth_required", "ha_version": version});
        if ws.send(Message::text(hello.to_string())).is_err() {
            return false;
        }
        let Ok(Message::Text(text)) = ws.read() else {
            return false;
        };
        let auth: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
        let given = auth["access_token"].as_str().unwrap_or_default().to_owned();
        self.given = given.clone();
        if quirks.reflect_token_everywhere {
            version = given.clone();
        }
        if quirks.stall_auth {
            // Read on, answer nothing.
            while ws.read().is_ok() {}
            return false;
        }
        if quirks.non_json_auth_reply {
            let _ = ws.send(Message::text(format!("unexpected: you sent {given}")));
            return false;
        }
        let ok = auth["type"] == "auth" && given == self.token;
        let reply = if ok {
            self.counters.auths.fetch_add(1, Ordering::SeqCst);
            json!({"type": "auth_ok", "ha_version": version})
        } else if quirks.reflect_token {
            json!({"type": "auth_invalid", "message": format!("Invalid access token {given}")})
        } else {
            json!({"type": "auth_invalid", "message": "Invalid access token or password"})
        };
        ws.send(Message::text(reply.to_string())).is_ok() && ok
    }

    /// Sends the events [`Quirks::events_before_result`] asks for, one at a time (so the
    /// stand-in never holds more than one); false when the client went away.
    fn flood<S: Read + Write>(&mut self, ws: &mut WebSocket<S>, command: &Value) -> bool {
        let quirks = self.quirks();
        if command["type"] == "unsubscribe_events" || command["type"] == "ping" {
            return true;
        }
        let subscriptions: Vec<u64> = self.subscriptions.keys().copied().collect();
        for n in 0..quirks.events_before_result {
            for sub in &subscriptions {
                let event = format!(
                    r#"{{"id":{sub},"type":"event","event":{{"event_type":"flood","data":{{"n":{n},"padding":"{}"}}}}}}"#,
                    "p".repeat(quirks.event_padding)
                );
                if ws.send(Message::text(event)).is_err() {
                    return false;
                }
            }
        }
        true
    }

    /// The replies to one command, in the order Home Assistant sends them, as text.
    fn handle(&mut self, command: &Value) -> Vec<String> {
        let quirks = self.quirks();
        let mut replies: Vec<String> = Vec::new();
        if let (Some(size), "get_states") = (
            quirks.states_of_zeros,
            command["type"].as_str().unwrap_or_default(),
        ) {
            if let Some(id) = command["id"].as_u64() {
                self.shared.lock().command_log.push("get_states".into());
                self.last_id = id;
                let zeros = vec!["0"; size / 2].join(",");
                replies.push(format!(
                    r#"{{"id":{id},"type":"result","success":true,"result":[{zeros}]}}"#
                ));
                return replies;
            }
        }
        replies.extend(
            self.answer(command, &quirks)
                .into_iter()
                .map(|v| v.to_string()),
        );
        replies
    }

    /// The answers to one command.
    fn answer(&mut self, command: &Value, quirks: &Quirks) -> Vec<Value> {
        let kind = command["type"].as_str().unwrap_or_default().to_owned();
        let Some(id) = command["id"].as_u64() else {
            return vec![];
        };
        self.shared.lock().command_log.push(kind.clone());
        if id <= self.last_id {
            return vec![error(id, "id_reuse", "Identifier values have to increase.")];
        }
        self.last_id = id;
        if self.counters.stall.load(Ordering::SeqCst) {
            return vec![];
        }
        match kind.as_str() {
            "ping" if quirks.ping_error => vec![error(id, "unknown_error", "Not today.")],
            "ping" => vec![json!({"id": id, "type": "pong"})],
            "unsubscribe_events" if quirks.ignore_unsubscribe => vec![],
            "get_states" => {
                let states = self.shared.lock().states.iter().map(Entity::full).collect();
                vec![result(id, Value::Array(states))]
            }
            "supported_features" if quirks.refuse_features => {
                vec![error(id, "unknown_command", "Unknown command.")]
            }
            "supported_features" => {
                self.coalesce = command["features"]["coalesce_messages"] == 1;
                vec![result(id, Value::Null)]
            }
            "get_config" => vec![result(
                id,
                json!({"location_name": "Stand-in Home", "version": quirks.ha_version.as_deref().unwrap_or(STAND_IN_VERSION),
                       "time_zone": "UTC", "unit_system": {"temperature": "°C"},
                       "components": ["light", "sensor", "switch"], "state": "RUNNING"}),
            )],
            "get_services" => vec![result(
                id,
                json!({"light": {"turn_on": {"name": "Turn on", "fields": {}},
                                 "turn_off": {"name": "Turn off", "fields": {}}},
                       "switch": {"turn_on": {"name": "Turn on", "fields": {}},
                                  "turn_off": {"name": "Turn off", "fields": {}}}}),
            )],
            "config/entity_registry/list" => vec![result(
                id,
                json!([{"entity_id": "light.kitchen", "platform": "standin", "area_id": "kitchen", "device_id": "dev1"},
                       {"entity_id": "switch.coffee_maker", "platform": "standin", "area_id": "kitchen", "device_id": "dev2"}]),
            )],
            "config/area_registry/list" => vec![result(
                id,
                json!([{"area_id": "kitchen", "name": "Kitchen"}, {"area_id": "garden", "name": "Garden"}]),
            )],
            "config/device_registry/list" => vec![result(
                id,
                json!([{"id": "dev1", "name": "Kitchen Light", "area_id": "kitchen"},
                       {"id": "dev2", "name": "Coffee Maker", "area_id": "kitchen"}]),
            )],
            "subscribe_events" => {
                let event_type = command["event_type"].as_str().map(str::to_owned);
                self.subscriptions.insert(id, Sub::Events(event_type));
                vec![result(id, Value::Null)]
            }
            "subscribe_trigger" => {
                let triggers = match &command["trigger"] {
                    Value::Array(list) => list.clone(),
                    one => vec![one.clone()],
                };
                if triggers.is_empty() || !triggers.iter().all(is_state_trigger) {
                    return vec![error(id, "invalid_format", "Unsupported trigger.")];
                }
                self.subscriptions.insert(id, Sub::Trigger(triggers));
                vec![result(id, Value::Null)]
            }
            "subscribe_entities" => {
                let ids: Option<Vec<String>> = command["entity_ids"].as_array().map(|ids| {
                    ids.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                });
                let snapshot: Map<String, Value> = {
                    let shared = self.shared.lock();
                    // Everything before the snapshot is in it.
                    self.cursor = shared.changes.len();
                    shared
                        .states
                        .iter()
                        .filter(|e| ids.as_ref().is_none_or(|ids| ids.contains(&e.id)))
                        .map(|e| (e.id.clone(), e.compressed()))
                        .collect()
                };
                self.subscriptions.insert(id, Sub::Entities(ids));
                vec![
                    result(id, Value::Null),
                    json!({"id": id, "type": "event", "event": {"a": snapshot}}),
                ]
            }
            "unsubscribe_events" => {
                let sub = command["subscription"].as_u64().unwrap_or(0);
                if self.subscriptions.remove(&sub).is_some() {
                    vec![result(id, Value::Null)]
                } else {
                    vec![error(id, "not_found", "Subscription not found.")]
                }
            }
            "render_template" => {
                let template = command["template"].as_str().unwrap_or_default();
                let rendered = self.render(template);
                self.subscriptions.insert(id, Sub::Template);
                vec![
                    result(id, Value::Null),
                    json!({"id": id, "type": "event", "event": {"result": rendered, "listeners": {"all": false, "entities": [], "domains": [], "time": false}}}),
                ]
            }
            "call_service" => self.call_service(id, command),
            _ => vec![error(id, "unknown_command", "Unknown command.")],
        }
    }

    /// Renders `{{ states('entity_id') }}`; other text is kept as it is.
    fn render(&self, template: &str) -> String {
        let shared = self.shared.lock();
        let mut out = template.to_owned();
        for state in &shared.states {
            let (id, value) = (state.id.as_str(), state.state.as_str());
            for quote in ['\'', '"'] {
                out = out.replace(&format!("{{{{ states({quote}{id}{quote}) }}}}"), value);
            }
        }
        out
    }

    fn call_service(&mut self, id: u64, command: &Value) -> Vec<Value> {
        let domain = command["domain"].as_str().unwrap_or_default();
        let service = command["service"].as_str().unwrap_or_default();
        let new_state = match (domain, service) {
            ("light" | "switch", "turn_on") => "on",
            ("light" | "switch", "turn_off") => "off",
            _ => {
                return vec![error(
                    id,
                    "not_found",
                    &format!("Service {domain}.{service} not found."),
                )]
            }
        };
        let target = command["target"]["entity_id"]
            .as_str()
            .or_else(|| command["service_data"]["entity_id"].as_str())
            .unwrap_or_default()
            .to_owned();
        let known = self.shared.lock().states.iter().any(|e| e.id == target);
        // Home Assistant delivers the state change to subscribers before the result.
        let mut replies: Vec<Value> = Vec::new();
        if known {
            self.shared
                .lock()
                .set(&target, new_state, None, Some("standin-user"));
            replies.extend(
                self.pending_events()
                    .iter()
                    .filter_map(|e| serde_json::from_str(e).ok()),
            );
        }
        let mut body = Map::new();
        body.insert(
            "context".into(),
            json!({"id": "01STANDIN", "parent_id": null, "user_id": null}),
        );
        if command["return_response"] == true {
            body.insert(
                "response".into(),
                json!({"entity_id": target, "state": new_state}),
            );
        }
        replies.push(result(id, Value::Object(body)));
        replies
    }
}

fn result(id: u64, value: Value) -> Value {
    json!({"id": id, "type": "result", "success": true, "result": value})
}

fn error(id: u64, code: &str, message: &str) -> Value {
    json!({"id": id, "type": "result", "success": false, "error": {"code": code, "message": message}})
}
