//! The commands of [`HaClient`]: any command, the helpers (states, services, config,
//! registries, templates), events and the ping — each on a live session within its timeout.

use std::time::{Duration, Instant};

use std::borrow::Cow;

use interface::IntoTimeout;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{CommandFailure, Error, Result};
use crate::protocol::{null, HaFailure, HaMessage};
use contract::Deadline;

use debug::{debug_line, Timer};

use crate::answers::HaResult;
use crate::client::{HaClient, Retry};
use crate::entities::EntityState;
use crate::requests::{Registry, ServiceCall};
use crate::session::{Command, HaSession};
use crate::subscriptions::{Events, Topic};
use crate::SCOPE;

impl HaClient {
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
        self.with_session(timeout, Retry::Once, |s, b| run(s, &command, b))
    }

    fn simple(&self, kind: &str, timeout: impl IntoTimeout) -> Result<HaResult> {
        let command = Command::new(kind);
        self.with_session(timeout, Retry::Safe, |s, b| run(s, &command, b))
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
        if !looks_like_entity(entity_id) {
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
        self.with_session(timeout, Retry::Once, |s, b| run(s, &command, b))
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
        self.with_session(timeout, Retry::Safe, |s, b| {
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

    /// Subscribes to events (`None`: all events); returns the subscription's id, which
    /// stays the same when the session is replaced (the subscription is made again).
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
        self.subscribe(Topic::Events(event_type.map(str::to_owned)), timeout)
    }

    /// Subscribes to a trigger (`subscribe_trigger`: a trigger object or a list of them,
    /// and optional variables); each firing is an event with its `variables.trigger`.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let trigger = serde_json::json!({"platform": "state", "entity_id": "light.kitchen", "to": "on"});
    /// let sub = client.subscribe_trigger(trigger, None, t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn subscribe_trigger(
        &self,
        trigger: Value,
        variables: Option<Value>,
        timeout: impl IntoTimeout,
    ) -> Result<u64> {
        if !trigger.is_object() && !trigger.is_array() {
            return Err(Error::invalid_parameter(
                "trigger",
                "must be a JSON object or a list of them",
            ));
        }
        if variables.as_ref().is_some_and(|v| !v.is_object()) {
            return Err(Error::invalid_parameter(
                "variables",
                "must be a JSON object",
            ));
        }
        self.subscribe(Topic::Trigger { trigger, variables }, timeout)
    }

    /// Subscribes to entity states (`subscribe_entities`, of `entity_ids` or all): Home
    /// Assistant's compressed messages are folded into full states
    /// ([`HaClient::entity_states`]); reads answer the entities that changed.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let sub = client.subscribe_entities(Some(&["light.kitchen"]), t)?;
    /// let states = client.entity_states(sub, t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn subscribe_entities(
        &self,
        entity_ids: Option<&[&str]>,
        timeout: impl IntoTimeout,
    ) -> Result<u64> {
        if let Some(ids) = entity_ids {
            if let Some(bad) = ids.iter().find(|id| !looks_like_entity(id)) {
                return Err(Error::invalid_parameter(
                    "entity_ids",
                    &format!(
                        "'{}' does not look like domain.object_id",
                        bad.escape_debug()
                    ),
                ));
            }
        }
        let ids = entity_ids.map(|ids| ids.iter().map(|id| (*id).to_owned()).collect());
        self.subscribe(Topic::Entities(ids), timeout)
    }

    fn subscribe(&self, topic: Topic, timeout: impl IntoTimeout) -> Result<u64> {
        self.with_held(timeout, Retry::Safe, |s, subs, b| {
            subs.add(s, topic.clone(), b)
        })
    }

    /// The next events of a subscription: a [`Gap`](crate::Gap) first when events may
    /// have been missed (the session was replaced, or the backlog dropped some), else up
    /// to `count` events — waiting at most `timeout` for the first, then taking those
    /// already received. Nothing in time is an empty read, not an error.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let sub = client.subscribe_events(Some("state_changed"), t)?;
    /// let read = client.next_events(sub, 10, std::time::Duration::from_secs(30))?;
    /// if read.gap.is_some() { /* read the states again */ }
    /// for event in read.events { println!("{}", event.as_str()); }
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn next_events(
        &self,
        subscription: u64,
        count: usize,
        timeout: impl IntoTimeout,
    ) -> Result<Events> {
        self.with_held(timeout, Retry::Safe, |s, subs, b| {
            subs.next_events(s, subscription, count, b)
        })
    }

    /// The states a `subscribe_entities` subscription folded, after everything Home
    /// Assistant sent before this call (a `ping` marks the point; the events before its
    /// `pong` are folded in first).
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let sub = client.subscribe_entities(None, t)?;
    /// for state in client.entity_states(sub, t)? { println!("{} = {}", state.entity_id, state.state); }
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn entity_states(
        &self,
        subscription: u64,
        timeout: impl IntoTimeout,
    ) -> Result<Vec<EntityState>> {
        self.with_held(timeout, Retry::Safe, |s, subs, b| {
            subs.entity_states(subscription)?;
            ping(s, b)?;
            // Bounded: each read takes one received event out of the backlog.
            loop {
                let read =
                    subs.next_events(s, subscription, usize::MAX, &b.cut_to(Duration::ZERO))?;
                if read.events.is_empty() && read.gap.is_none() {
                    break;
                }
            }
            subs.entity_states(subscription)
        })
    }

    /// Ends a subscription (Home Assistant's `unsubscribe_events` when its session is
    /// open) and forgets its buffered events.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// let sub = client.subscribe_events(None, t)?;
    /// client.unsubscribe(sub, t)?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn unsubscribe(&self, subscription: u64, timeout: impl IntoTimeout) -> Result<()> {
        let result = self.with_held(timeout, Retry::Safe, |s, subs, b| {
            subs.remove(s, subscription, b)
        });
        match result {
            // The session failed under it: the subscription ended with it.
            Err(e) if e.is_transport() => self
                .with_subscriptions(|subs| subs.forget(subscription))
                .or(Ok(())),
            other => other,
        }
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
        self.with_session(timeout, Retry::Safe, |s, b| {
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
        self.with_session(timeout, Retry::Safe, |s, _| Ok(s.backlog_len()))
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
        self.with_session(timeout, Retry::Safe, |s, _| Ok(s.backlog_bytes()))
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
pub(crate) fn interpret(
    session: &HaSession,
    reply: HaMessage,
    kind: Option<&str>,
) -> Result<HaResult> {
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

/// The liveness check of a session used again after a pause: one `ping`, bounded by
/// min(the ping timeout, half the time the call has left); answers the round trip. No
/// answer in time (a black hole) leaves the session dead.
pub(crate) fn check_alive(session: &mut HaSession, budget: &Deadline) -> Result<Duration> {
    let bound = session.ping_timeout().min(budget.left() / 2);
    debug_line!(
        SCOPE,
        "Liveness check (session={}, idle={}, timeout={})",
        session.name,
        debug::seconds(session.idle()),
        debug::seconds(bound)
    );
    let timer = Timer::start(&SCOPE, "liveness_check");
    let started = Instant::now();
    let checked = ping(session, &budget.cut_to(bound));
    timer.finish();
    checked?;
    let rtt = started.elapsed();
    session.latency = Some(rtt);
    debug_line!(
        SCOPE,
        "Alive (session={}, latency_ms={:.3})",
        session.name,
        rtt.as_secs_f64() * 1000.0
    );
    Ok(rtt)
}

fn looks_like_entity(id: &str) -> bool {
    id.contains('.') && !id.chars().any(char::is_whitespace) && id.len() <= 255
}
