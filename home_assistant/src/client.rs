//! The client: warm session handling and the command helpers.

use std::time::{Duration, Instant};

use std::borrow::Cow;

use debug::{debug_line, CorrelationId};
use gateway::Phase;
use interface::IntoTimeout;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::config::HaConfig;
use crate::error::{CommandFailure, Error, Result};
use crate::pool;
use crate::protocol::{null, HaFailure, HaMessage};
use contract::Deadline;

use websocket::DeadlineExt;

use crate::session::{Command, HaSession};
use crate::stats::{bump, AUTHS, RECONNECTS, REUSED};
use crate::SCOPE;

/// Longest the liveness check of a warm session may take.
pub const LIVENESS_TIMEOUT: Duration = Duration::from_secs(2);

/// Which registry [`HaClient::registry`] lists.
///
/// ```
/// use home_assistant::Registry;
/// assert_eq!("area".parse::<Registry>().unwrap(), Registry::Area);
/// assert_eq!(Registry::Device.command(), "config/device_registry/list");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registry {
    /// `config/entity_registry/list`
    Entity,
    /// `config/area_registry/list`
    Area,
    /// `config/device_registry/list`
    Device,
}

impl Registry {
    /// The Home Assistant command type that lists this registry.
    pub fn command(self) -> &'static str {
        match self {
            Registry::Entity => "config/entity_registry/list",
            Registry::Area => "config/area_registry/list",
            Registry::Device => "config/device_registry/list",
        }
    }
}

impl std::str::FromStr for Registry {
    type Err = Error;
    fn from_str(s: &str) -> Result<Registry> {
        match s {
            "entity" => Ok(Registry::Entity),
            "area" => Ok(Registry::Area),
            "device" => Ok(Registry::Device),
            _ => Err(Error::invalid_parameter(
                "registry",
                "must be entity, area or device",
            )),
        }
    }
}

/// A service call for [`HaClient::call_service`].
///
/// ```
/// use home_assistant::ServiceCall;
/// let call = ServiceCall::new("light", "turn_on")
///     .target(serde_json::json!({"entity_id": "light.kitchen"}))
///     .service_data(serde_json::json!({"brightness": 120}));
/// assert_eq!(call.domain, "light");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceCall {
    /// The integration domain, such as `light`.
    pub domain: String,
    /// The service, such as `turn_on`.
    pub service: String,
    /// Optional service data.
    pub service_data: Option<Value>,
    /// Optional target (`entity_id`, `device_id`, `area_id`).
    pub target: Option<Value>,
    /// Ask for the service's response (services that return data).
    pub return_response: bool,
}

impl ServiceCall {
    /// A call of `domain.service` with no data and no target.
    pub fn new(domain: &str, service: &str) -> ServiceCall {
        ServiceCall {
            domain: domain.to_owned(),
            service: service.to_owned(),
            service_data: None,
            target: None,
            return_response: false,
        }
    }

    /// Sets the service data.
    pub fn service_data(mut self, data: Value) -> Self {
        self.service_data = Some(data);
        self
    }

    /// Sets the target.
    pub fn target(mut self, target: Value) -> Self {
        self.target = Some(target);
        self
    }

    /// Asks for the service's response.
    pub fn return_response(mut self, yes: bool) -> Self {
        self.return_response = yes;
        self
    }
}

/// Home Assistant's answer, kept as the JSON text it sent: passing it on costs its size,
/// not a tree. [`HaResult::to_value`] builds a value for callers that want one.
///
/// ```
/// let r = home_assistant::HaResult::from_json(r#"{"state":"on"}"#).unwrap();
/// assert_eq!(r.to_value()["state"], "on");
/// assert_eq!(r.as_str(), r#"{"state":"on"}"#);
/// ```
#[derive(Debug, Clone)]
pub struct HaResult(Box<RawValue>);

impl HaResult {
    /// A result from JSON text (checked).
    pub fn from_json(text: &str) -> Result<HaResult> {
        RawValue::from_string(text.to_owned())
            .map(HaResult)
            .map_err(|e| Error::invalid_parameter("result", &format!("is not JSON ({e})")))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The raw JSON.
    pub fn raw(&self) -> &RawValue {
        &self.0
    }

    /// The result as a value.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

impl Serialize for HaResult {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// What the last call ran on: the session, Home Assistant's version, and whether a warm
/// session was reused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    /// The session's name (`ha-<n>`): Home Assistant's connections are its own, not
    /// handles of the gateway.
    pub connection: String,
    /// Home Assistant's version from `auth_ok`.
    pub ha_version: String,
    /// Whether this call reused a session opened earlier in the process.
    pub reused: bool,
    /// Events (and other messages for later readers) the session's backlog dropped during
    /// this call to stay within its bounds; absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub events_dropped: u64,
    /// Messages the session's backlog dropped since it opened; absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub events_dropped_total: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A Home Assistant client for one logical request (one Lambda invocation).
///
/// Sessions are shared: a client for the same URL and token reuses the authenticated
/// session a previous client left open, after a liveness check (a Home Assistant `ping`).
/// A dead session is replaced transparently. A command that was sent but not answered in
/// time fails with `WEBSOCKET_TIMEOUT` and is never sent again. Every step — connecting,
/// authenticating, the liveness check, closing a dead session — is cut to the call's
/// timeout.
///
/// ```no_run
/// use std::time::Duration;
/// use home_assistant::{HaClient, HaConfig, ServiceCall};
/// let client = HaClient::new(HaConfig::from_env()?, None)?;
/// let states = client.get_states(Duration::from_secs(10))?.to_value();
/// client.call_service(
///     &ServiceCall::new("light", "turn_on").target(serde_json::json!({"entity_id": "light.kitchen"})),
///     Duration::from_secs(10),
/// )?;
/// # Ok::<(), home_assistant::Error>(())
/// ```
#[derive(Debug)]
pub struct HaClient {
    /// Replaced once when Home Assistant refuses a token read from the extension and the
    /// extension has a newer one (a rotated secret).
    config: Mutex<HaConfig>,
    correlation_id: CorrelationId,
    /// Whether this client already checked (or opened) its session.
    verified: Mutex<bool>,
    info: Mutex<Option<SessionInfo>>,
}

impl HaClient {
    /// A client; `correlation_id` is used unchanged, or when `None` the current request's,
    /// or a new one.
    ///
    /// ```no_run
    /// let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "token")?, Some("req-1"))?;
    /// assert_eq!(client.correlation_id(), "req-1");
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn new(config: HaConfig, correlation_id: Option<&str>) -> Result<HaClient> {
        let correlation_id = CorrelationId::given_or_current(correlation_id)
            .map_err(|e| Error::invalid_parameter("correlation_id", &e.to_string()))?;
        Ok(HaClient::with_correlation_id(config, correlation_id))
    }

    /// A client under a correlation id checked already (at a boundary that read it).
    ///
    /// ```no_run
    /// let id = debug::CorrelationId::parse("req-2").unwrap();
    /// let client = home_assistant::HaClient::with_correlation_id(home_assistant::HaConfig::new("http://h:8123", "t")?, id);
    /// assert_eq!(client.correlation_id(), "req-2");
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn with_correlation_id(config: HaConfig, correlation_id: CorrelationId) -> HaClient {
        HaClient {
            config: Mutex::new(config),
            correlation_id,
            verified: Mutex::new(false),
            info: Mutex::new(None),
        }
    }

    /// The correlation id of this client's calls.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// assert!(!client.correlation_id().is_empty());
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn correlation_id(&self) -> &str {
        self.correlation_id.as_str()
    }

    /// The session the last call ran on.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// client.get_states(t)?;
    /// let reused = client.session_info().map(|i| i.reused);
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn session_info(&self) -> Option<SessionInfo> {
        self.info.lock().clone()
    }

    /// Runs `body` on a live, authenticated session within `timeout`.
    fn with_session<T>(
        &self,
        timeout: impl IntoTimeout,
        body: impl FnOnce(&mut HaSession, &Deadline) -> Result<T>,
    ) -> Result<T> {
        let timeout = timeout.into_timeout()?.get();
        let deadline = Deadline::after(timeout);
        let budget = &deadline;
        let cid = &self.correlation_id;
        let _scope = cid.scope();
        // At most two passes: the second only after the token was read once more.
        let mut token_reread = false;
        loop {
            let config = self.config.lock().clone();
            let entry = pool::entry(&config);
            let mut slot = entry
                .try_lock_until(budget.at())
                .ok_or_else(|| budget.timed_out(Phase::WaitForConnection))?;
            let mut verified = self.verified.lock();
            let mut reused = false;
            if !*verified {
                if let Some(session) = slot.as_mut() {
                    match check_alive(session, budget) {
                        Ok(()) => {
                            debug_line!(
                                SCOPE,
                                "Reusing session (session={}, ha_version={})",
                                session.name,
                                session.ha_version
                            );
                            bump(&REUSED);
                            reused = true;
                        }
                        Err(e) => {
                            debug_line!(
                                SCOPE,
                                "Warm session is gone (error_code={}); reconnecting",
                                e.code()
                            );
                            if let Some(dead) = slot.take() {
                                dead.close(budget);
                            }
                            bump(&RECONNECTS);
                            // No time left for a new session: answer now.
                            budget.left_in(Phase::Connect)?;
                        }
                    }
                }
            }
            let session = match slot.as_mut() {
                Some(session) => session,
                None => match HaSession::open(&config, budget) {
                    Ok(fresh) => {
                        bump(&AUTHS);
                        slot.insert(fresh)
                    }
                    Err(refused @ Error::AuthFailed { .. }) if !token_reread => {
                        // A token from Parameter Store or Secrets Manager may have rotated:
                        // read it once more and, when it changed, authenticate once more.
                        match config.refreshed(budget)? {
                            Some(newer) => {
                                debug_line!(
                                    SCOPE,
                                    "Token refused; read it again and retrying once"
                                );
                                *self.config.lock() = newer;
                                token_reread = true;
                                continue;
                            }
                            None => return Err(refused),
                        }
                    }
                    Err(e) => return Err(e),
                },
            };
            *verified = true;
            let dropped_before = session.dropped();
            let result = body(session, budget);
            let dropped_total = session.dropped();
            *self.info.lock() = Some(SessionInfo {
                connection: session.name.clone(),
                ha_version: session.ha_version.clone(),
                reused,
                events_dropped: dropped_total - dropped_before,
                events_dropped_total: dropped_total,
            });
            if result.as_ref().is_err_and(Error::breaks_session) {
                if let Some(dead) = slot.take() {
                    dead.close(budget);
                }
                *verified = false;
            }
            return result;
        }
    }

    /// Sends any command (a JSON object with a `type`; the client assigns the `id`) and
    /// returns Home Assistant's `result`.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// let r = client.command(serde_json::json!({"type": "get_panels"}), std::time::Duration::from_secs(5))?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn command(&self, command: Value, timeout: impl IntoTimeout) -> Result<HaResult> {
        let Value::Object(mut fields) = command else {
            return Err(Error::invalid_parameter("command", "must be a JSON object"));
        };
        let Some(Value::String(kind)) = fields.remove("type") else {
            return Err(Error::invalid_parameter("command", "needs a string 'type'"));
        };
        if fields.contains_key("id") {
            return Err(Error::invalid_parameter(
                "command",
                "must not carry an 'id': the client assigns increasing ids",
            ));
        }
        let command = Command { kind, fields };
        self.with_session(timeout, |s, b| run(s, &command, b))
    }

    fn simple(&self, kind: &str, timeout: impl IntoTimeout) -> Result<HaResult> {
        let command = Command::new(kind);
        self.with_session(timeout, |s, b| run(s, &command, b))
    }

    /// All entity states (`get_states`).
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let states = client.get_states(t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn get_states(&self, timeout: impl IntoTimeout) -> Result<HaResult> {
        self.simple("get_states", timeout)
    }

    /// One entity's state, from `get_states`. An unknown entity is `HA_COMMAND_FAILED`
    /// with `ha_error_code` `not_found`.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let kitchen = client.get_state("light.kitchen", t)?.to_value();
    /// println!("{}", kitchen["state"]);
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn get_state(&self, entity_id: &str, timeout: impl IntoTimeout) -> Result<HaResult> {
        if !entity_id.contains('.') || entity_id.chars().any(char::is_whitespace) {
            return Err(Error::invalid_parameter(
                "entity_id",
                "must look like domain.object_id",
            ));
        }
        let states = self.get_states(timeout)?;
        #[derive(Deserialize)]
        struct Entity<'a> {
            #[serde(borrow, default)]
            entity_id: Cow<'a, str>,
        }
        let all: Vec<&RawValue> = serde_json::from_str(states.as_str()).unwrap_or_default();
        all.into_iter()
            .find(|raw| {
                serde_json::from_str::<Entity<'_>>(raw.get())
                    .is_ok_and(|e| e.entity_id == entity_id)
            })
            .map(|raw| HaResult(raw.to_owned()))
            .ok_or_else(|| Error::NoEntity {
                entity_id: entity_id.into(),
            })
    }

    /// Calls a service (`call_service`); returns Home Assistant's result (its `context`,
    /// and `response` when asked for).
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// use home_assistant::ServiceCall;
    /// let call = ServiceCall::new("light", "turn_on").target(serde_json::json!({"entity_id": "light.kitchen"}));
    /// client.call_service(&call, t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn call_service(&self, call: &ServiceCall, timeout: impl IntoTimeout) -> Result<HaResult> {
        let mut command = Command::new("call_service")
            .with("domain", call.domain.as_str())
            .with("service", call.service.as_str());
        if let Some(data) = &call.service_data {
            command = command.with("service_data", data.clone());
        }
        if let Some(target) = &call.target {
            command = command.with("target", target.clone());
        }
        if call.return_response {
            command = command.with("return_response", true);
        }
        self.with_session(timeout, |s, b| run(s, &command, b))
    }

    /// The configuration (`get_config`).
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let version = client.get_config(t)?.to_value()["version"].clone();
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn get_config(&self, timeout: impl IntoTimeout) -> Result<HaResult> {
        self.simple("get_config", timeout)
    }

    /// The services by domain (`get_services`).
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let services = client.get_services(t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn get_services(&self, timeout: impl IntoTimeout) -> Result<HaResult> {
        self.simple("get_services", timeout)
    }

    /// A registry list (entity, area or device).
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let areas = client.registry(home_assistant::Registry::Area, t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn registry(&self, registry: Registry, timeout: impl IntoTimeout) -> Result<HaResult> {
        self.simple(registry.command(), timeout)
    }

    /// Renders a template once and returns the text: `render_template`, its first event's
    /// `result`, then `unsubscribe_events` without waiting for its answer (a late answer is
    /// discarded), so a Home Assistant that never answers the unsubscribe costs nothing.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let text = client.render_template("{{ states('sun.sun') }}", t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn render_template(&self, template: &str, timeout: impl IntoTimeout) -> Result<HaResult> {
        let command = Command::new("render_template").with("template", template);
        self.with_session(timeout, |s, b| {
            let (id, reply) = s.exchange(&command, b)?;
            interpret(s, reply, Some("render_template"))?;
            let event = s.wait(b, |m| is_event_of(m, id))?;
            let unsubscribe = Command::new("unsubscribe_events").with("subscription", id);
            if let Ok(unsub_id) = s.send(&unsubscribe, b) {
                s.abandon(unsub_id);
            }
            s.forget_events(id);
            let HaMessage::Event { event, .. } = event else {
                return Err(Error::invalid_parameter("template", "got no rendering"));
            };
            #[derive(Deserialize)]
            struct Rendered {
                #[serde(default)]
                result: Option<Box<RawValue>>,
                #[serde(default)]
                error: Option<Box<RawValue>>,
            }
            let rendered: Rendered =
                serde_json::from_str(event.get()).map_err(|_| Error::Unexpected {
                    expected: "a template event",
                    got: "<malformed>".into(),
                })?;
            if let Some(error) = rendered.error {
                let error: Value = serde_json::from_str(&s.scrub(error.get())).unwrap_or_default();
                return Err(Error::TemplateFailed {
                    error: Box::new(error),
                });
            }
            Ok(HaResult(rendered.result.unwrap_or_else(null)))
        })
    }

    /// Subscribes to events (`None`: all events); returns the subscription id.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let sub = client.subscribe_events(Some("state_changed"), t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn subscribe_events(
        &self,
        event_type: Option<&str>,
        timeout: impl IntoTimeout,
    ) -> Result<u64> {
        let mut command = Command::new("subscribe_events");
        if let Some(t) = event_type {
            command = command.with("event_type", t);
        }
        self.with_session(timeout, |s, b| {
            let (id, reply) = s.exchange(&command, b)?;
            interpret(s, reply, Some("subscribe_events"))?;
            Ok(id)
        })
    }

    /// The next event of a subscription (the `event` object), waiting at most `timeout`.
    /// Events that arrived earlier (even during other commands) come first, in order.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let sub = client.subscribe_events(Some("state_changed"), t)?;
    /// let event = client.next_event(sub, std::time::Duration::from_secs(30))?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn next_event(&self, subscription: u64, timeout: impl IntoTimeout) -> Result<HaResult> {
        self.with_session(timeout, |s, b| {
            match s.wait(b, |m| is_event_of(m, subscription))? {
                HaMessage::Event { event, .. } => Ok(HaResult(event)),
                _ => Ok(HaResult(null())),
            }
        })
    }

    /// Ends a subscription and forgets its buffered events.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let sub = client.subscribe_events(None, t)?;
    /// client.unsubscribe_events(sub, t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn unsubscribe_events(&self, subscription: u64, timeout: impl IntoTimeout) -> Result<()> {
        let command = Command::new("unsubscribe_events").with("subscription", subscription);
        self.with_session(timeout, |s, b| {
            run(s, &command, b)?;
            s.forget_events(subscription);
            Ok(())
        })
    }

    /// Home Assistant's application-level ping; returns the round-trip time. An error
    /// answer is `HA_COMMAND_FAILED`, not a pong.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let rtt = client.ping(t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn ping(&self, timeout: impl IntoTimeout) -> Result<Duration> {
        self.with_session(timeout, |s, b| {
            let start = Instant::now();
            ping(s, b)?;
            Ok(start.elapsed())
        })
    }

    /// Messages received but not yet read (events of subscriptions, mostly).
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let waiting = client.pending_messages(t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn pending_messages(&self, timeout: impl IntoTimeout) -> Result<usize> {
        self.with_session(timeout, |s, _| Ok(s.backlog_len()))
    }

    /// Bytes of messages received but not yet read; never above [`crate::BACKLOG_LIMIT_BYTES`].
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let bytes = client.pending_bytes(t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn pending_bytes(&self, timeout: impl IntoTimeout) -> Result<usize> {
        self.with_session(timeout, |s, _| Ok(s.backlog_bytes()))
    }
}

fn is_event_of(message: &HaMessage, subscription: u64) -> bool {
    matches!(message, HaMessage::Event { id, .. } if *id == subscription)
}

/// Sends `command` and interprets its result.
fn run(session: &mut HaSession, command: &Command, budget: &Deadline) -> Result<HaResult> {
    let (_, reply) = session.exchange(command, budget)?;
    interpret(session, reply, Some(&command.kind))
}

/// A successful `result` → its `result`; `success: false` → `HA_COMMAND_FAILED`, Home
/// Assistant's words scrubbed of the token.
fn interpret(session: &HaSession, reply: HaMessage, kind: Option<&str>) -> Result<HaResult> {
    match reply {
        HaMessage::Result { outcome: Ok(r), .. } => Ok(HaResult(r)),
        HaMessage::Pong { .. } => Ok(HaResult(null())),
        HaMessage::Result {
            outcome: Err(HaFailure { code, message }),
            ..
        } => Err(Error::CommandFailed(Box::new(CommandFailure {
            code: session.scrub(if code.is_empty() {
                "unknown_error"
            } else {
                &code
            }),
            message: session.scrub(if message.is_empty() {
                "no message"
            } else {
                &message
            }),
            command_type: kind.map(str::to_owned),
        }))),
        other => Err(Error::Unexpected {
            expected: "a result",
            got: session.scrub(other.kind()).into(),
        }),
    }
}

/// One `ping`, answered by a `pong` or a successful result; an error result is not alive.
fn ping(session: &mut HaSession, budget: &Deadline) -> Result<()> {
    let (_, reply) = session.exchange(&Command::new("ping"), budget)?;
    interpret(session, reply, Some("ping")).map(drop)
}

/// A cheap liveness check of a warm session: one `ping`, bounded by [`LIVENESS_TIMEOUT`]
/// and by the call's budget.
fn check_alive(session: &mut HaSession, budget: &Deadline) -> Result<()> {
    ping(session, &budget.cut_to(LIVENESS_TIMEOUT))
}
