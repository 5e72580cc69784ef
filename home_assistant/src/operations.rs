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

use crate::answers::HaResult;
use crate::client::{HaClient, LIVENESS_TIMEOUT};
use crate::requests::{Registry, ServiceCall};
use crate::session::{Command, HaSession};

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
pub(crate) fn check_alive(session: &mut HaSession, budget: &Deadline) -> Result<()> {
    let started = Instant::now();
    ping(session, &budget.cut_to(LIVENESS_TIMEOUT))?;
    session.latency = Some(started.elapsed());
    Ok(())
}
