//! A Home Assistant stand-in: the public WebSocket protocol (auth, ids, results, events,
//! subscriptions, ping) over a small, fixed set of entities.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use tungstenite::{Message, WebSocket};

use crate::server::Server;

/// The `ha_version` the stand-in reports.
pub const STAND_IN_VERSION: &str = "2026.11.0-standin";

#[derive(Debug, Default)]
struct Shared {
    states: Vec<Value>,
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
            token: token.to_owned(),
            ..Shared::default()
        }));
        let counters = Arc::new(Counters::default());
        let (s, c) = (Arc::clone(&shared), Arc::clone(&counters));
        let server = Server::start(
            if secure { "wss" } else { "ws" },
            Arc::new(move |stream: TcpStream| {
                c.connections.fetch_add(1, Ordering::SeqCst);
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
                            session.run(ws);
                        }
                    }
                    None => {
                        if let Ok(ws) = tungstenite::accept(stream) {
                            session.run(ws);
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
}

fn initial_states() -> Vec<Value> {
    let state = |id: &str, s: &str, attrs: Value| {
        json!({"entity_id": id, "state": s, "attributes": attrs,
               "last_changed": "2026-11-22T00:00:00+00:00", "last_updated": "2026-11-22T00:00:00+00:00",
               "context": {"id": "01STANDIN", "parent_id": null, "user_id": null}})
    };
    vec![
        state(
            "light.kitchen",
            "off",
            json!({"friendly_name": "Kitchen Light", "brightness": null}),
        ),
        state(
            "sensor.outdoor_temperature",
            "7.5",
            json!({"friendly_name": "Outdoor Temperature", "unit_of_measurement": "°C"}),
        ),
        state(
            "switch.coffee_maker",
            "off",
            json!({"friendly_name": "Coffee Maker"}),
        ),
    ]
}

/// One authenticated client connection.
struct Session {
    token: String,
    shared: Arc<Mutex<Shared>>,
    counters: Arc<Counters>,
    last_id: u64,
    /// subscription id → event type (`None` = all events)
    subscriptions: HashMap<u64, Option<String>>,
    /// The token the client sent.
    given: String,
}

impl Session {
    fn new(token: &str, shared: Arc<Mutex<Shared>>, counters: Arc<Counters>) -> Self {
        Session {
            token: token.to_owned(),
            shared,
            counters,
            last_id: 0,
            subscriptions: HashMap::new(),
            given: String::new(),
        }
    }

    fn quirks(&self) -> Quirks {
        self.shared.lock().quirks.clone()
    }

    fn run<S: Read + Write>(mut self, mut ws: WebSocket<S>) {
        if !self.authenticate(&mut ws) {
            let _ = ws.close(None);
            let _ = ws.flush();
            return;
        }
        while let Ok(message) = ws.read() {
            let Message::Text(text) = message else {
                continue;
            };
            let Ok(command) = serde_json::from_str::<Value>(text.as_str()) else {
                continue;
            };
            let reflect = self.quirks().reflect_token_everywhere;
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
            if !self.flood(&mut ws, &command) {
                return;
            }
            for reply in self.handle(&command) {
                let reply = if reflect { self.reflect(&reply) } else { reply };
                if ws.send(Message::text(reply)).is_err() {
                    return;
                }
            }
        }
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
            "get_states" => vec![result(id, Value::Array(self.shared.lock().states.clone()))],
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
                self.subscriptions.insert(id, event_type);
                vec![result(id, Value::Null)]
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
                self.subscriptions.insert(id, Some("__template__".into()));
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
            let id = state["entity_id"].as_str().unwrap_or_default();
            let value = state["state"].as_str().unwrap_or_default();
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
        let mut replies = Vec::new();
        let mut shared = self.shared.lock();
        if let Some(state) = shared
            .states
            .iter_mut()
            .find(|s| s["entity_id"] == target.as_str())
        {
            let old = state.clone();
            state["state"] = json!(new_state);
            let new = state.clone();
            // Home Assistant delivers the state change to subscribers before the result.
            for (sub, event_type) in &self.subscriptions {
                if event_type.as_deref().is_none_or(|t| t == "state_changed") {
                    replies.push(json!({"id": sub, "type": "event", "event": {
                        "event_type": "state_changed",
                        "data": {"entity_id": target, "old_state": old, "new_state": new},
                        "origin": "LOCAL", "time_fired": "2026-11-22T00:00:01+00:00",
                        "context": {"id": "01STANDIN", "parent_id": null, "user_id": null}}}));
                }
            }
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
