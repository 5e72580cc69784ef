//! The client: warm session handling and the command helpers.

use std::time::{Duration, Instant};

use debug::{debug_line, CorrelationId};
use gateway::{Phase, Timeout};
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::config::HaConfig;
use crate::error::{CommandFailure, Error, Result};
use crate::pool;
use crate::session::{Budget, HaSession};
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

/// What the last call ran on: the connection, Home Assistant's version, and whether a warm
/// session was reused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    /// The gateway connection handle.
    pub connection: String,
    /// Home Assistant's version from `auth_ok`.
    pub ha_version: String,
    /// Whether this call reused a session opened earlier in the process.
    pub reused: bool,
}

/// A Home Assistant client for one logical request (one Lambda invocation).
///
/// Sessions are shared: a client for the same URL and token reuses the authenticated
/// session a previous client left open, after a liveness check (a Home Assistant `ping`).
/// A dead session is replaced transparently. A command that was sent but not answered in
/// time fails with `WEBSOCKET_TIMEOUT` and is never sent again.
///
/// ```no_run
/// use std::time::Duration;
/// use home_assistant::{HaClient, HaConfig, ServiceCall};
/// let client = HaClient::new(HaConfig::from_env()?, None)?;
/// let states = client.get_states(Duration::from_secs(10))?;
/// client.call_service(
///     &ServiceCall::new("light", "turn_on").target(serde_json::json!({"entity_id": "light.kitchen"})),
///     Duration::from_secs(10),
/// )?;
/// # Ok::<(), home_assistant::Error>(())
/// ```
#[derive(Debug)]
pub struct HaClient {
    config: HaConfig,
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
        Ok(HaClient {
            config,
            correlation_id: CorrelationId::given_or_current(correlation_id)
                .map_err(|e| Error::invalid_parameter("correlation_id", &e.to_string()))?,
            verified: Mutex::new(false),
            info: Mutex::new(None),
        })
    }

    /// The correlation id threaded through this client's calls.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
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
        timeout: Duration,
        body: impl FnOnce(&mut HaSession, Budget) -> Result<T>,
    ) -> Result<T> {
        let timeout = Timeout::new(timeout)?.get();
        let budget = Budget::new(timeout);
        let cid = &self.correlation_id;
        let current = debug::current();
        let span = (current.as_ref() != Some(cid)).then(|| cid.span());
        let _entered = span.as_ref().map(|s| cid.enter(s));
        let entry = pool::entry(&self.config);
        let mut slot = entry
            .try_lock_until(budget.deadline)
            .ok_or_else(|| budget.timed_out(Phase::WaitForConnection))?;
        let mut verified = self.verified.lock();
        let mut reused = false;
        if !*verified {
            if let Some(session) = slot.as_mut() {
                match check_alive(session, budget) {
                    Ok(()) => {
                        debug_line!(
                            SCOPE,
                            "Reusing session (connection={}, ha_version={})",
                            session.handle,
                            session.ha_version
                        );
                        bump(&REUSED);
                        reused = true;
                    }
                    Err(e) if budget.left(Phase::Connect).is_err() => return Err(e),
                    Err(e) => {
                        debug_line!(
                            SCOPE,
                            "Warm session is gone (error_code={}); reconnecting",
                            e.code()
                        );
                        if let Some(dead) = slot.take() {
                            dead.close();
                        }
                        bump(&RECONNECTS);
                    }
                }
            }
        }
        let session = match slot.as_mut() {
            Some(session) => session,
            None => {
                let fresh = HaSession::open(&self.config, budget)?;
                bump(&AUTHS);
                slot.insert(fresh)
            }
        };
        *verified = true;
        *self.info.lock() = Some(SessionInfo {
            connection: session.handle.clone(),
            ha_version: session.ha_version.clone(),
            reused,
        });
        let result = body(session, budget);
        if let Err(e) = &result {
            if matches!(
                e.code(),
                gateway::ErrorCode::WebsocketConnectionClosed
                    | gateway::ErrorCode::WebsocketNoConnection
            ) {
                if let Some(dead) = slot.take() {
                    dead.close();
                }
                *verified = false;
            }
        }
        result
    }

    /// Sends any command (a JSON object with a `type`; the client assigns the `id`) and
    /// returns Home Assistant's `result`.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// let r = client.command(serde_json::json!({"type": "get_panels"}), std::time::Duration::from_secs(5))?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn command(&self, command: Value, timeout: Duration) -> Result<Value> {
        let map = match command {
            Value::Object(map) => map,
            _ => return Err(Error::invalid_parameter("command", "must be a JSON object")),
        };
        if !map.get("type").is_some_and(Value::is_string) {
            return Err(Error::invalid_parameter("command", "needs a string 'type'"));
        }
        if map.contains_key("id") {
            return Err(Error::invalid_parameter(
                "command",
                "must not carry an 'id': the client assigns increasing ids",
            ));
        }
        self.with_session(timeout, |s, b| run(s, map, b))
    }

    fn simple(&self, kind: &str, timeout: Duration) -> Result<Value> {
        self.command(json!({ "type": kind }), timeout)
    }

    /// All entity states (`get_states`).
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let states = client.get_states(t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn get_states(&self, timeout: Duration) -> Result<Value> {
        self.simple("get_states", timeout)
    }

    /// One entity's state, from `get_states`. An unknown entity is `HA_COMMAND_FAILED`
    /// with `ha_error_code` `not_found`.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let kitchen = client.get_state("light.kitchen", t)?;
    /// println!("{}", kitchen["state"]);
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn get_state(&self, entity_id: &str, timeout: Duration) -> Result<Value> {
        if !entity_id.contains('.') || entity_id.chars().any(char::is_whitespace) {
            return Err(Error::invalid_parameter(
                "entity_id",
                "must look like domain.object_id",
            ));
        }
        let states = self.get_states(timeout)?;
        states
            .as_array()
            .and_then(|all| all.iter().find(|s| s["entity_id"] == entity_id))
            .cloned()
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
    pub fn call_service(&self, call: &ServiceCall, timeout: Duration) -> Result<Value> {
        let mut command =
            json!({"type": "call_service", "domain": call.domain, "service": call.service});
        if let Some(data) = &call.service_data {
            command["service_data"] = data.clone();
        }
        if let Some(target) = &call.target {
            command["target"] = target.clone();
        }
        if call.return_response {
            command["return_response"] = json!(true);
        }
        self.command(command, timeout)
    }

    /// The configuration (`get_config`).
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let version = client.get_config(t)?["version"].clone();
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn get_config(&self, timeout: Duration) -> Result<Value> {
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
    pub fn get_services(&self, timeout: Duration) -> Result<Value> {
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
    pub fn registry(&self, registry: Registry, timeout: Duration) -> Result<Value> {
        self.simple(registry.command(), timeout)
    }

    /// Renders a template once (`render_template`, then unsubscribes) and returns the text.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let text = client.render_template("{{ states('sun.sun') }}", t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn render_template(&self, template: &str, timeout: Duration) -> Result<Value> {
        self.with_session(timeout, |s, b| {
            let mut command = typed("render_template");
            command.insert("template".into(), json!(template));
            let (id, reply) = s.exchange(command, b)?;
            interpret(&reply)?;
            let event = s.wait(b, |m| is_event_of(m, id))?;
            let _ = unsubscribe(s, id, b);
            if let Some(error) = event["event"].get("error") {
                return Err(Error::TemplateFailed {
                    error: Box::new(error.clone()),
                });
            }
            Ok(event["event"]["result"].clone())
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
    pub fn subscribe_events(&self, event_type: Option<&str>, timeout: Duration) -> Result<u64> {
        self.with_session(timeout, |s, b| {
            let mut command = typed("subscribe_events");
            if let Some(t) = event_type {
                command.insert("event_type".into(), json!(t));
            }
            let (id, reply) = s.exchange(command, b)?;
            interpret(&reply)?;
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
    pub fn next_event(&self, subscription: u64, timeout: Duration) -> Result<Value> {
        self.with_session(timeout, |s, b| {
            let message = s.wait(b, |m| is_event_of(m, subscription))?;
            Ok(message["event"].clone())
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
    pub fn unsubscribe_events(&self, subscription: u64, timeout: Duration) -> Result<()> {
        self.with_session(timeout, |s, b| unsubscribe(s, subscription, b))
    }

    /// Home Assistant's application-level ping; returns the round-trip time.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let rtt = client.ping(t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn ping(&self, timeout: Duration) -> Result<Duration> {
        self.with_session(timeout, |s, b| {
            let start = Instant::now();
            s.exchange(typed("ping"), b)?;
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
    pub fn pending_messages(&self, timeout: Duration) -> Result<usize> {
        self.with_session(timeout, |s, _| Ok(s.backlog_len()))
    }
}

/// A command with only its `type`; callers add the other fields.
fn typed(kind: &str) -> Map<String, Value> {
    let mut command = Map::new();
    command.insert("type".into(), json!(kind));
    command
}

fn is_event_of(message: &Value, subscription: u64) -> bool {
    message.get("type").and_then(Value::as_str) == Some("event")
        && message.get("id").and_then(Value::as_u64) == Some(subscription)
}

fn run(session: &mut HaSession, command: Map<String, Value>, budget: Budget) -> Result<Value> {
    let kind = command
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let (_, reply) = session.exchange(command, budget)?;
    interpret(&reply).map_err(|e| match e {
        Error::CommandFailed(mut failure) => {
            failure.command_type = kind;
            Error::CommandFailed(failure)
        }
        other => other,
    })
}

fn unsubscribe(session: &mut HaSession, subscription: u64, budget: Budget) -> Result<()> {
    let mut command = typed("unsubscribe_events");
    command.insert("subscription".into(), json!(subscription));
    run(session, command, budget)?;
    session.forget_events(subscription);
    Ok(())
}

/// A cheap liveness check of a warm session: one `ping`, bounded by [`LIVENESS_TIMEOUT`].
fn check_alive(session: &mut HaSession, budget: Budget) -> Result<()> {
    let deadline = budget.deadline.min(Instant::now() + LIVENESS_TIMEOUT);
    let check = Budget {
        deadline,
        timeout: deadline.saturating_duration_since(Instant::now()),
    };
    session.exchange(typed("ping"), check).map(drop)
}

/// `result` with `success: true` → its `result`; `success: false` → `HA_COMMAND_FAILED`.
fn interpret(reply: &Value) -> Result<Value> {
    if reply["type"] == "pong" || reply["success"] == true {
        return Ok(reply.get("result").cloned().unwrap_or(Value::Null));
    }
    let code = reply["error"]["code"].as_str().unwrap_or("unknown_error");
    let message = reply["error"]["message"].as_str().unwrap_or("no message");
    Err(Error::CommandFailed(Box::new(CommandFailure {
        code: code.to_owned(),
        message: message.to_owned(),
        command_type: None,
    })))
}
