//! The event contract: one JSON event in, one envelope out.

use std::time::Duration;

use debug::{debug_line, Scope, Timer};
use gateway::{Error, ErrorCode, Result};
use home_assistant::{HaClient, HaConfig, Registry, ServiceCall};
use serde_json::{json, Map, Value};

use crate::invocation::Invocation;

const S: Scope = Scope::Lambda;

/// Operations handled by the WebSocket gateway.
pub const WEBSOCKET_OPERATIONS: [&str; 7] = gateway::OPERATION_NAMES;

/// Operations handled by the Home Assistant client (`HA_URL`, `HA_TOKEN`).
pub const HA_OPERATIONS: [&str; 9] = [
    "ha_command",
    "ha_get_states",
    "ha_get_state",
    "ha_call_service",
    "ha_get_config",
    "ha_get_services",
    "ha_registry",
    "ha_render_template",
    "ha_ping",
];

/// Timeout when an event gives none.
pub const DEFAULT_TIMEOUT: Duration = gateway::DEFAULT_TIMEOUT;

/// Handles one event and answers with the envelope. Never panics on input; every failure
/// is an envelope with an error code.
///
/// ```
/// let envelope = lambda::handle(&serde_json::json!({"operation": "get_stats"}), &lambda::Invocation::local());
/// assert_eq!(envelope["success"], true);
/// let envelope = lambda::handle(&serde_json::json!({"operation": "fly"}), &lambda::Invocation::local());
/// assert_eq!(envelope["error_code"], "UNKNOWN_OPERATION");
/// ```
pub fn handle(event: &Value, invocation: &Invocation) -> Value {
    match dispatch(event, invocation) {
        Ok(envelope) => envelope,
        Err(e) => gateway::error_envelope(&e),
    }
}

/// Parses `text` as the event, then [`handle`]s it; text that is not JSON is an
/// `INVALID_PARAMETER` envelope.
///
/// ```
/// let envelope = lambda::handle_text("{not json", &lambda::Invocation::local());
/// assert_eq!(envelope["error_code"], "INVALID_PARAMETER");
/// ```
pub fn handle_text(text: &str, invocation: &Invocation) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(event) => handle(&event, invocation),
        Err(e) => gateway::error_envelope(&Error::invalid_parameter(
            "event",
            &format!("is not valid JSON ({e})"),
        )),
    }
}

/// The timeout an operation gets: the event's (or the default), cut to the invocation's
/// remaining budget.
#[derive(Debug, Clone, Copy)]
struct Allowance {
    timeout: Duration,
    cut: bool,
}

fn allowance(requested: Option<Duration>, budget: Option<Duration>) -> Allowance {
    let wanted = requested.unwrap_or(DEFAULT_TIMEOUT);
    match budget {
        Some(b) if b < wanted => Allowance {
            timeout: b,
            cut: true,
        },
        _ => Allowance {
            timeout: wanted,
            cut: false,
        },
    }
}

fn dispatch(event: &Value, invocation: &Invocation) -> Result<Value> {
    let obj = event
        .as_object()
        .ok_or_else(|| Error::invalid_parameter("event", "must be a JSON object"))?;
    let operation = match obj.get("operation") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(Error::invalid_parameter("operation", "must be a string")),
        None => return Err(Error::invalid_parameter("operation", "is required")),
    };
    let cid = match obj.get("correlation_id") {
        Some(Value::String(s)) => gateway::correlation_id(Some(s))?,
        Some(Value::Null) | None if !invocation.request_id.is_empty() => {
            gateway::correlation_id(Some(&invocation.request_id))?
        }
        Some(Value::Null) | None => gateway::correlation_id(None)?,
        Some(_) => {
            return Err(Error::invalid_parameter(
                "correlation_id",
                "must be a string",
            ))
        }
    };
    let budget = invocation.budget();
    debug_line!(
        S,
        &cid,
        "Invocation (operation={}, request_id={}, remaining_ms={})",
        printable(operation),
        invocation.request_id,
        budget.map_or_else(|| "unbounded".to_owned(), |b| b.as_millis().to_string())
    );
    let timer = Timer::start(S, &cid, "invocation");
    let requested = requested_timeout(obj)?;
    let allowance = allowance(requested, budget);
    let result = if budget.is_some_and(|b| b.is_zero()) {
        Err(Error::new(
            ErrorCode::WebsocketTimeout,
            "The invocation has no time left before its deadline.",
        )
        .with_detail("phase", "invocation_deadline"))
    } else if WEBSOCKET_OPERATIONS.contains(&operation) {
        Ok(websocket(
            operation, obj, &cid, requested, budget, allowance,
        ))
    } else if HA_OPERATIONS.contains(&operation) {
        home_assistant(operation, obj, &cid, allowance.timeout)
    } else {
        Err(unknown_operation(operation))
    };
    timer.finish();
    let mut envelope = result.unwrap_or_else(|e| {
        gateway::error_envelope(&e.with_detail("correlation_id", cid.as_str()))
    });
    if allowance.cut && envelope["error_code"] == "WEBSOCKET_TIMEOUT" {
        envelope["details"]["cut_by_deadline"] = json!(true);
    }
    Ok(envelope)
}

fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

fn unknown_operation(operation: &str) -> Error {
    let valid: Vec<&str> = WEBSOCKET_OPERATIONS
        .iter()
        .chain(HA_OPERATIONS.iter())
        .copied()
        .collect();
    Error::new(
        ErrorCode::UnknownOperation,
        format!(
            "Unknown operation: '{}'. Valid: {}",
            printable(operation),
            valid.join(", ")
        ),
    )
    .with_detail("operation", printable(operation))
    .with_detail("valid_operations", valid)
}

fn requested_timeout(obj: &Map<String, Value>) -> Result<Option<Duration>> {
    match obj.get("timeout") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            gateway::validate_timeout(n.as_f64().unwrap_or(f64::NAN)).map(Some)
        }
        Some(_) => Err(Error::invalid_parameter(
            "timeout",
            "must be a number of seconds",
        )),
    }
}

/// The WebSocket operations go to the gateway's JSON entry with the timeout cut to the
/// budget.
fn websocket(
    operation: &str,
    obj: &Map<String, Value>,
    cid: &str,
    requested: Option<Duration>,
    budget: Option<Duration>,
    allowance: Allowance,
) -> Value {
    let mut params = obj.clone();
    params.remove("operation");
    params.insert("correlation_id".into(), json!(cid));
    let timeout = match operation {
        "connect" | "receive" | "request" => Some(allowance.timeout),
        // Without a deadline or a timeout, send keeps the connection's own timeout.
        "send" | "close" if requested.is_some() || budget.is_some() => Some(allowance.timeout),
        _ => None,
    };
    if let Some(t) = timeout {
        params.insert("timeout".into(), json!(t.as_secs_f64()));
    }
    gateway::websocket_execute(operation, Value::Object(params))
}

fn home_assistant(
    operation: &str,
    obj: &Map<String, Value>,
    cid: &str,
    timeout: Duration,
) -> Result<Value> {
    let client = HaClient::new(HaConfig::from_env()?, Some(cid))?;
    let result = match operation {
        "ha_command" => client.command(object_param(obj, "command")?.clone(), timeout)?,
        "ha_get_states" => client.get_states(timeout)?,
        "ha_get_state" => client.get_state(str_param(obj, "entity_id")?, timeout)?,
        "ha_call_service" => {
            let mut call = ServiceCall::new(str_param(obj, "domain")?, str_param(obj, "service")?);
            if let Some(data) = optional_object(obj, "service_data")? {
                call = call.service_data(data.clone());
            }
            if let Some(target) = optional_object(obj, "target")? {
                call = call.target(target.clone());
            }
            match obj.get("return_response") {
                None | Some(Value::Null) => {}
                Some(Value::Bool(b)) => call = call.return_response(*b),
                Some(_) => {
                    return Err(Error::invalid_parameter(
                        "return_response",
                        "must be true or false",
                    ))
                }
            }
            client.call_service(&call, timeout)?
        }
        "ha_get_config" => client.get_config(timeout)?,
        "ha_get_services" => client.get_services(timeout)?,
        "ha_registry" => {
            client.registry(str_param(obj, "registry")?.parse::<Registry>()?, timeout)?
        }
        "ha_render_template" => client.render_template(str_param(obj, "template")?, timeout)?,
        _ => json!({"round_trip_ms": client.ping(timeout)?.as_secs_f64() * 1000.0}),
    };
    Ok(gateway::success_envelope(
        "Home Assistant command completed",
        json!({
            "result": result,
            "correlation_id": cid,
            "session": client.session_info(),
        }),
    ))
}

fn str_param<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str> {
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(Error::invalid_parameter(name, "is required")),
        Some(_) => Err(Error::invalid_parameter(name, "must be a string")),
    }
}

fn object_param<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a Value> {
    optional_object(obj, name)?.ok_or_else(|| Error::invalid_parameter(name, "is required"))
}

fn optional_object<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<Option<&'a Value>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(Error::invalid_parameter(name, "must be a JSON object")),
    }
}
