//! The event contract: one JSON event in, one envelope out, before the invocation's deadline.

use std::time::Duration;

use debug::{debug_line, CorrelationId, Timer};
use gateway::{ErrorCode, Failure, Gateway, Operation, Timeout};
use home_assistant::{HaClient, HaConfig, ServiceCall};
use serde_json::{json, Map, Value};

use crate::event::{
    all_operations, CallServiceParams, HaOperation, HA_OPERATIONS, WEBSOCKET_OPERATIONS,
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
}

impl Function {
    /// The function as deployed: the per-process gateway, Home Assistant from the
    /// environment.
    pub fn from_env() -> Function {
        Function {
            gateway: Gateway::global().clone(),
            home_assistant: HaSource::Environment,
        }
    }

    /// A function over `gateway`, Home Assistant from the environment.
    pub fn new(gateway: Gateway) -> Function {
        Function {
            gateway,
            home_assistant: HaSource::Environment,
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

    /// The gateway the WebSocket operations run on.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// Handles one event and answers with the envelope. Never panics on input; every
    /// failure is an envelope with an error code.
    ///
    /// ```
    /// let f = lambda::Function::from_env();
    /// let envelope = f.handle(serde_json::json!({"operation": "fly"}), &lambda::Invocation::local());
    /// assert_eq!(envelope["error_code"], "UNKNOWN_OPERATION");
    /// ```
    pub fn handle(&self, event: Value, invocation: &Invocation) -> Value {
        match self.dispatch(event, invocation) {
            Ok(envelope) => envelope,
            Err(failure) => gateway::error_envelope(&failure),
        }
    }

    /// Parses `text` as the event, then [`Function::handle`]s it; text that is not JSON is
    /// an `INVALID_PARAMETER` envelope.
    ///
    /// ```
    /// let envelope = lambda::Function::from_env().handle_text("{not json", &lambda::Invocation::local());
    /// assert_eq!(envelope["error_code"], "INVALID_PARAMETER");
    /// ```
    pub fn handle_text(&self, text: &str, invocation: &Invocation) -> Value {
        match serde_json::from_str::<Value>(text) {
            Ok(event) => self.handle(event, invocation),
            Err(e) => gateway::error_envelope(&Failure::from(gateway::Error::invalid_parameter(
                "event",
                &format!("is not valid JSON ({e})"),
            ))),
        }
    }

    /// Errors found in the event's common fields carry no correlation id: none is known yet.
    fn dispatch(&self, event: Value, invocation: &Invocation) -> Result<Value, Failure> {
        let obj = event
            .as_object()
            .ok_or_else(|| gateway::Error::invalid_parameter("event", "must be a JSON object"))?;
        let operation = match obj.get("operation") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(invalid("operation", "must be a string")),
            None => return Err(invalid("operation", "is required")),
        };
        let cid = correlation_id(obj, invocation)?;
        let requested = requested_timeout(obj)?;
        let span = cid.span();
        let _entered = cid.enter(&span);
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
        let mut envelope = if budget.is_some_and(|b| b.is_zero()) {
            gateway::error_envelope(
                &Failure::new(
                    ErrorCode::WebsocketTimeout,
                    "The invocation has no time left before its deadline.",
                )
                .with_detail("phase", "invocation_deadline")
                .with_detail("correlation_id", cid.as_str()),
            )
        } else if WEBSOCKET_OPERATIONS.contains(&operation.as_str()) {
            self.websocket(event, budget)
        } else if HA_OPERATIONS.contains(&operation.as_str()) {
            let timeout = match budget {
                Some(b) => requested.unwrap_or_default().cut_to(b),
                None => requested.unwrap_or_default(),
            };
            self.home_assistant(event, timeout.get(), &cid)
                .unwrap_or_else(|f| {
                    gateway::error_envelope(&f.with_detail("correlation_id", cid.as_str()))
                })
        } else {
            gateway::error_envelope(
                &Failure::from(gateway::Error::unknown_operation(
                    &operation,
                    "operation",
                    &all_operations(),
                ))
                .with_detail("correlation_id", cid.as_str()),
            )
        };
        timer.finish();
        if cut && envelope["error_code"] == ErrorCode::WebsocketTimeout.as_str() {
            envelope["details"]["cut_by_deadline"] = json!(true);
        }
        Ok(envelope)
    }

    /// The WebSocket operations go to the gateway with their timeout cut to the budget.
    fn websocket(&self, event: Value, budget: Option<Duration>) -> Value {
        match Operation::from_event(event) {
            Ok(mut op) => {
                if let Some(budget) = budget {
                    op.cut_to(budget);
                }
                self.gateway.answer(op)
            }
            Err(e) => gateway::error_envelope(&Failure::from(&e)),
        }
    }

    fn home_assistant_config(&self) -> home_assistant::Result<HaConfig> {
        match &self.home_assistant {
            HaSource::Environment => HaConfig::from_env(),
            HaSource::Fixed(config) => Ok(config.clone()),
        }
    }

    fn home_assistant(
        &self,
        event: Value,
        timeout: Duration,
        cid: &CorrelationId,
    ) -> Result<Value, Failure> {
        let ha = |e: home_assistant::Error| Failure::from(&e);
        let config = self.home_assistant_config().map_err(ha)?;
        let operation = HaOperation::from_event(event).map_err(Failure::from)?;
        let client = HaClient::new(config, Some(cid.as_str())).map_err(ha)?;
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
            HaOperation::Ping => client
                .ping(timeout)
                .map(|rtt| json!({"round_trip_ms": rtt.as_secs_f64() * 1000.0})),
        }
        .map_err(ha)?;
        Ok(gateway::success_envelope(
            "Home Assistant command completed",
            json!({
                "result": result,
                "correlation_id": cid.as_str(),
                "session": client.session_info(),
            }),
        ))
    }
}

fn invalid(name: &str, problem: &str) -> Failure {
    Failure::from(gateway::Error::invalid_parameter(name, problem))
}

/// The event's correlation id, else the invocation's request id, else a new one.
fn correlation_id(
    obj: &Map<String, Value>,
    invocation: &Invocation,
) -> Result<CorrelationId, Failure> {
    let given = match obj.get("correlation_id") {
        Some(Value::String(s)) => s.as_str(),
        None | Some(Value::Null) if !invocation.request_id.is_empty() => &invocation.request_id,
        None | Some(Value::Null) => return Ok(CorrelationId::generate()),
        Some(_) => return Err(invalid("correlation_id", "must be a string")),
    };
    CorrelationId::parse(given).map_err(|e| invalid("correlation_id", &e.to_string()))
}

fn requested_timeout(obj: &Map<String, Value>) -> Result<Option<Timeout>, Failure> {
    match obj.get("timeout") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Timeout::from_secs_f64(n.as_f64().unwrap_or(f64::NAN))
            .map(Some)
            .map_err(Failure::from),
        Some(_) => Err(invalid("timeout", "must be a number of seconds")),
    }
}
