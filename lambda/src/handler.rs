//! The event contract: one JSON event in, one envelope out, before the invocation's deadline.

use std::time::Duration;

use debug::{debug_line, CorrelationId, Timer};
use gateway::{Envelope, Failure, Gateway, Operation, Timeout, LAMBDA_RESPONSE_LIMIT};
use std::sync::Arc;

use home_assistant::{HaClient, HaConfig, HaResult, HomeAssistant, ServiceCall, SessionInfo};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::event::{
    all_operations, CallServiceParams, HaOperation, HA_OPERATIONS, MAX_EVENTS_PER_READ,
    WEBSOCKET_OPERATIONS,
};
use crate::invocation::Invocation;
use crate::SCOPE;

/// Where the Home Assistant operations find Home Assistant.
#[derive(Debug, Clone)]
enum HaSource {
    /// `HA_URL`, `HA_TOKEN` and `HA_CA_CERT`, read at each invocation.
    Environment,
    /// Settings given in code.
    Fixed(HaConfig),
}

/// The function: the gateway it runs WebSocket operations on and where Home Assistant is.
/// Build it once (in `main`, or per test) and hand every invocation to [`Function::handle`].
///
/// ```
/// let function = lambda::Function::from_env();
/// let envelope = function.handle(serde_json::json!({"operation": "get_stats"}), &lambda::Invocation::local());
/// assert_eq!(envelope["success"], true);
/// ```
#[derive(Debug, Clone)]
pub struct Function {
    gateway: Gateway,
    home_assistant: HaSource,
    /// The Home Assistant instance (sessions, subscriptions, limits) the operations use;
    /// `None`: the per-process one, made on the first Home Assistant operation (a cold
    /// start that runs none does not pay for it).
    hub: Option<Arc<HomeAssistant>>,
}

impl Function {
    /// The function as deployed: the per-process gateway, Home Assistant from the
    /// environment.
    pub fn from_env() -> Function {
        Function::new(Gateway::global().clone())
    }

    /// A function over `gateway` (its answers limited to Lambda's response size), Home
    /// Assistant from the environment.
    pub fn new(gateway: Gateway) -> Function {
        Function {
            gateway: gateway.with_answer_limit(LAMBDA_RESPONSE_LIMIT),
            home_assistant: HaSource::Environment,
            hub: None,
        }
    }

    /// Uses `config` for the Home Assistant operations instead of the environment.
    ///
    /// ```
    /// let config = home_assistant::HaConfig::new("http://127.0.0.1:8123", "token").unwrap();
    /// let function = lambda::Function::from_env().with_home_assistant(config);
    /// ```
    pub fn with_home_assistant(mut self, config: HaConfig) -> Function {
        self.home_assistant = HaSource::Fixed(config);
        self
    }

    /// Runs the Home Assistant operations on `hub` instead of the per-process instance.
    ///
    /// ```
    /// let mine = std::sync::Arc::new(home_assistant::HomeAssistant::new());
    /// let function = lambda::Function::from_env().with_home_assistant_instance(mine);
    /// ```
    pub fn with_home_assistant_instance(mut self, hub: Arc<HomeAssistant>) -> Function {
        self.hub = Some(hub);
        self
    }

    /// The gateway the WebSocket operations run on.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// Handles one event given as JSON text and answers with the envelope, already
    /// serialized: a large message in the event or in the answer is carried as text, never
    /// built into a tree. Never panics on input; every failure is an envelope with an error
    /// code; an answer above Lambda's response limit becomes a `MESSAGE_TOO_LARGE` envelope.
    ///
    /// ```
    /// let f = lambda::Function::from_env();
    /// let envelope = f.answer(r#"{"operation": "fly"}"#, &lambda::Invocation::local());
    /// assert_eq!(envelope.to_value()["error_code"], "UNKNOWN_OPERATION");
    /// ```
    pub fn answer(&self, event: &str, invocation: &Invocation) -> Envelope {
        // Lambda's response limit is enforced once per path, where the answer is written:
        // by the gateway (its answer limit) and by the Home Assistant answer below; a
        // failure envelope is small.
        match self.dispatch(event, invocation) {
            Ok(envelope) => envelope,
            Err(failure) => Envelope::failure(&failure),
        }
    }

    /// [`Function::answer`] for an event given as a value, answering a value (trees are
    /// built both ways: for tests and Rust callers that hold values).
    ///
    /// ```
    /// let f = lambda::Function::from_env();
    /// let envelope = f.handle(serde_json::json!({"operation": "get_stats"}), &lambda::Invocation::local());
    /// assert_eq!(envelope["success"], true);
    /// ```
    pub fn handle(&self, event: Value, invocation: &Invocation) -> Value {
        self.answer(&event.to_string(), invocation).to_value()
    }

    /// [`Function::answer`] answering a value.
    ///
    /// ```
    /// let envelope = lambda::Function::from_env().handle_text("{not json", &lambda::Invocation::local());
    /// assert_eq!(envelope["error_code"], "INVALID_PARAMETER");
    /// ```
    pub fn handle_text(&self, text: &str, invocation: &Invocation) -> Value {
        self.answer(text, invocation).to_value()
    }

    /// Errors found in the event's common fields carry no correlation id: none is known yet.
    /// Each field is validated once on each path: a WebSocket operation's `timeout` and
    /// `correlation_id` by its own parameters, the others' by the header.
    fn dispatch(&self, event: &str, invocation: &Invocation) -> Result<Envelope, Failure> {
        let header = Header::read(event)?;
        let name = header.operation()?;
        if WEBSOCKET_OPERATIONS.contains(&name.as_str()) {
            let mut operation =
                Operation::from_named_event(&name, event).map_err(|e| Failure::from(&e))?;
            let cid = match operation.correlation_id() {
                Some(given) => given.clone(),
                None => invocation_id(invocation)?,
            };
            let requested = operation.timeout();
            return Ok(self.invoke(&name, &cid, requested, invocation, |budget| {
                if let Some(budget) = budget {
                    operation.cut_to(budget);
                }
                self.gateway.answer(operation)
            }));
        }
        let cid = header.correlation_id(invocation)?;
        let requested = header.timeout()?;
        Ok(self.invoke(&name, &cid, requested, invocation, |budget| {
            if HA_OPERATIONS.contains(&name.as_str()) {
                let timeout = match budget {
                    Some(b) => requested.unwrap_or_default().cut_to(b),
                    None => requested.unwrap_or_default(),
                };
                self.home_assistant(&name, event, timeout, &cid)
                    .unwrap_or_else(|f| {
                        Envelope::failure(&f.with_detail("correlation_id", cid.as_str()))
                    })
            } else {
                Envelope::failure(
                    &Failure::from(gateway::Error::unknown_operation(
                        &name,
                        "operation",
                        &all_operations(),
                    ))
                    .with_detail("correlation_id", cid.as_str()),
                )
            }
        }))
    }

    /// Runs `body` as the invocation of `operation` under `cid`: the id taken up, the
    /// invocation's line and timing, no work when no time is left, a timeout cut by the
    /// deadline marked as such. `body` gets the time left, when the invocation has a deadline.
    fn invoke(
        &self,
        operation: &str,
        cid: &CorrelationId,
        requested: Option<Timeout>,
        invocation: &Invocation,
        body: impl FnOnce(Option<Duration>) -> Envelope,
    ) -> Envelope {
        let _scope = cid.scope();
        let budget = invocation.budget();
        debug_line!(
            SCOPE,
            "Invocation (operation={operation}, request_id={}, remaining_ms={})",
            invocation.request_id,
            budget.map_or_else(|| "unbounded".to_owned(), |b| b.as_millis().to_string())
        );
        let timer = Timer::start(&SCOPE, "invocation");
        let wanted = requested.unwrap_or_default().get();
        let cut = budget.is_some_and(|b| b < wanted);
        let envelope = if budget.is_some_and(|b| b.is_zero()) {
            Envelope::failure(
                &Failure::new(
                    gateway::codes::WEBSOCKET_TIMEOUT,
                    "The invocation has no time left before its deadline.",
                )
                .with_detail("phase", "invocation_deadline")
                .with_detail("correlation_id", cid.as_str()),
            )
        } else {
            body(budget)
        };
        timer.finish();
        if cut && envelope.error_code() == Some(gateway::codes::WEBSOCKET_TIMEOUT) {
            return envelope.map_failure(|f| {
                f.details.insert("cut_by_deadline".into(), true.into());
            });
        }
        envelope
    }

    /// The Home Assistant settings; a token read from the Parameters and Secrets extension
    /// is read by `deadline` (the operation's).
    fn home_assistant_config(
        &self,
        deadline: &contract::Deadline,
    ) -> home_assistant::Result<HaConfig> {
        match &self.home_assistant {
            HaSource::Environment => HaConfig::from_env_within(deadline),
            HaSource::Fixed(config) => Ok(config.clone()),
        }
    }

    fn home_assistant(
        &self,
        operation: &str,
        event: &str,
        timeout: Timeout,
        cid: &CorrelationId,
    ) -> Result<Envelope, Failure> {
        let ha = |e: home_assistant::Error| Failure::from(&e);
        let deadline = contract::Deadline::after(timeout.get());
        let config = self.home_assistant_config(&deadline).map_err(ha)?;
        // What reading the token took comes off the operation's time.
        let timeout = timeout.cut_to(deadline.left());
        let operation = HaOperation::from_named_event(operation, event).map_err(Failure::from)?;
        let hub = self.hub.as_ref().unwrap_or_else(|| HomeAssistant::global());
        let client = HaClient::on(Arc::clone(hub), config, cid.clone());
        let result = match operation {
            HaOperation::Command(p) => client.command(Value::Object(p.command), timeout),
            HaOperation::GetStates => client.get_states(timeout),
            HaOperation::GetState(p) => client.get_state(&p.entity_id, timeout),
            HaOperation::CallService(CallServiceParams {
                domain,
                service,
                service_data,
                target,
                return_response,
            }) => {
                let mut call = ServiceCall::new(&domain, &service);
                if let Some(data) = service_data {
                    call = call.service_data(Value::Object(data));
                }
                if let Some(target) = target {
                    call = call.target(Value::Object(target));
                }
                if let Some(yes) = return_response {
                    call = call.return_response(yes);
                }
                client.call_service(&call, timeout)
            }
            HaOperation::GetConfig => client.get_config(timeout),
            HaOperation::GetServices => client.get_services(timeout),
            HaOperation::Registry(p) => client.registry(p.registry, timeout),
            HaOperation::RenderTemplate(p) => client.render_template(&p.template, timeout),
            HaOperation::Ping => client.ping(timeout).and_then(|rtt| {
                HaResult::from_json(
                    &json!({"round_trip_ms": rtt.as_secs_f64() * 1000.0}).to_string(),
                )
            }),
            HaOperation::SubscribeEvents(p) => client
                .subscribe_events(p.event_type.as_deref(), timeout)
                .and_then(subscribed),
            HaOperation::SubscribeTrigger(p) => client
                .subscribe_trigger(p.trigger, p.variables.map(Value::Object), timeout)
                .and_then(subscribed),
            HaOperation::SubscribeEntities(p) => {
                let ids: Option<Vec<&str>> = p
                    .entity_ids
                    .as_ref()
                    .map(|ids| ids.iter().map(String::as_str).collect());
                client
                    .subscribe_entities(ids.as_deref(), timeout)
                    .and_then(subscribed)
            }
            HaOperation::NextEvents(p) => {
                let count = p.count.unwrap_or(MAX_EVENTS_PER_READ) as usize;
                client
                    .next_events(p.subscription, count, timeout)
                    .and_then(|events| as_result(&events))
            }
            HaOperation::Unsubscribe(p) => {
                client.unsubscribe(p.subscription, timeout).and_then(|()| {
                    as_result(&json!({"subscription": p.subscription, "unsubscribed": true}))
                })
            }
            HaOperation::Info => client
                .session_status(timeout)
                .and_then(|status| as_result(&status)),
        }
        .map_err(ha)?;
        Envelope::success_within(
            "Home Assistant command completed",
            &HaAnswer {
                result: &result,
                correlation_id: cid.as_str(),
                session: client.session_info(),
            },
            LAMBDA_RESPONSE_LIMIT,
        )
    }
}

/// A value as a result.
fn as_result(value: &impl Serialize) -> home_assistant::Result<HaResult> {
    let text = serde_json::to_string(value).map_err(|e| {
        home_assistant::Error::invalid_parameter("result", &format!("cannot be serialized ({e})"))
    })?;
    HaResult::from_json(&text)
}

/// What a subscribe operation answers: the subscription's id.
fn subscribed(id: u64) -> home_assistant::Result<HaResult> {
    as_result(&json!({ "subscription": id }))
}

/// What a Home Assistant operation answers.
#[derive(Serialize)]
struct HaAnswer<'a> {
    result: &'a HaResult,
    correlation_id: &'a str,
    session: Option<SessionInfo>,
}

/// The invocation's request id as the correlation id, else a new one.
fn invocation_id(invocation: &Invocation) -> Result<CorrelationId, Failure> {
    if invocation.request_id.is_empty() {
        return Ok(CorrelationId::generate());
    }
    CorrelationId::parse(&invocation.request_id)
        .map_err(|e| invalid("correlation_id", &e.to_string()))
}

fn invalid(name: &str, problem: &str) -> Failure {
    Failure::from(gateway::Error::invalid_parameter(name, problem))
}

/// The fields every event may carry, read from its text without building the rest.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow, default)]
    operation: Option<&'a RawValue>,
    #[serde(borrow, default)]
    correlation_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    timeout: Option<&'a RawValue>,
}

/// A present, non-null field.
fn given(raw: Option<&RawValue>) -> Option<&RawValue> {
    raw.filter(|r| r.get() != "null")
}

impl<'a> Header<'a> {
    /// Reads the header in one pass over the text, which also checks that it is JSON.
    fn read(event: &'a str) -> Result<Header<'a>, Failure> {
        let not_object = || invalid("event", "must be a JSON object");
        match serde_json::from_str::<Header<'a>>(event) {
            Err(e) if e.is_syntax() || e.is_eof() => {
                Err(invalid("event", &format!("is not valid JSON ({e})")))
            }
            Err(_) => Err(not_object()),
            // A JSON array reads as a header too (serde takes it field by field).
            Ok(_) if !event.trim_start().starts_with('{') => Err(not_object()),
            Ok(header) => Ok(header),
        }
    }

    fn operation(&self) -> Result<String, Failure> {
        let raw = given(self.operation).ok_or_else(|| invalid("operation", "is required"))?;
        serde_json::from_str(raw.get()).map_err(|_| invalid("operation", "must be a string"))
    }

    /// The event's correlation id, else the invocation's (see [`invocation_id`]).
    fn correlation_id(&self, invocation: &Invocation) -> Result<CorrelationId, Failure> {
        match given(self.correlation_id) {
            Some(raw) => {
                let id: String = serde_json::from_str(raw.get())
                    .map_err(|_| invalid("correlation_id", "must be a string"))?;
                CorrelationId::parse(&id).map_err(|e| invalid("correlation_id", &e.to_string()))
            }
            None => invocation_id(invocation),
        }
    }

    fn timeout(&self) -> Result<Option<Timeout>, Failure> {
        match given(self.timeout) {
            None => Ok(None),
            Some(raw) => match serde_json::from_str::<f64>(raw.get()) {
                Ok(seconds) => Timeout::from_secs_f64(seconds)
                    .map(Some)
                    .map_err(Failure::from),
                Err(_) => Err(invalid("timeout", "must be a number of seconds")),
            },
        }
    }
}
