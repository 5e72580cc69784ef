//! The event contract: what an event may ask for, read with serde.

use std::str::FromStr;

use home_assistant::Registry;
use interface::from_event_text;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Operations handled by the WebSocket gateway.
pub const WEBSOCKET_OPERATIONS: [&str; 8] = gateway::OPERATION_NAMES;

/// Operations handled by the Home Assistant client (`HA_URL`, `HA_TOKEN`).
pub const HA_OPERATIONS: [&str; 15] = [
    "ha_command",
    "ha_get_states",
    "ha_get_state",
    "ha_call_service",
    "ha_get_config",
    "ha_get_services",
    "ha_registry",
    "ha_render_template",
    "ha_ping",
    "ha_subscribe_events",
    "ha_subscribe_trigger",
    "ha_subscribe_entities",
    "ha_next_events",
    "ha_unsubscribe",
    "ha_info",
];

/// Events `ha_next_events` answers at most (and by default).
pub const MAX_EVENTS_PER_READ: u64 = 1000;

/// Every operation an event may name, in documentation order.
pub fn all_operations() -> Vec<&'static str> {
    WEBSOCKET_OPERATIONS
        .iter()
        .chain(HA_OPERATIONS.iter())
        .copied()
        .collect()
}

/// One Home Assistant operation with its parameters (the common `timeout` and
/// `correlation_id` are read by the handler).
///
/// ```
/// let op = lambda::HaOperation::from_event(serde_json::json!(
///     {"operation": "ha_get_state", "entity_id": "light.kitchen"})).unwrap();
/// assert!(matches!(op, lambda::HaOperation::GetState(_)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum HaOperation {
    /// `ha_command`: any command; the client assigns the id.
    Command(CommandParams),
    /// `ha_get_states`: all entity states.
    GetStates,
    /// `ha_get_state`: one entity's state.
    GetState(GetStateParams),
    /// `ha_call_service`: a service call.
    CallService(CallServiceParams),
    /// `ha_get_config`: the configuration.
    GetConfig,
    /// `ha_get_services`: the services by domain.
    GetServices,
    /// `ha_registry`: a registry list.
    Registry(RegistryParams),
    /// `ha_render_template`: render a template once.
    RenderTemplate(RenderTemplateParams),
    /// `ha_ping`: Home Assistant's application-level ping.
    Ping,
    /// `ha_subscribe_events`: events of one type, or all.
    SubscribeEvents(SubscribeEventsParams),
    /// `ha_subscribe_trigger`: the firings of a trigger.
    SubscribeTrigger(SubscribeTriggerParams),
    /// `ha_subscribe_entities`: entity states, folded from Home Assistant's compressed
    /// messages.
    SubscribeEntities(SubscribeEntitiesParams),
    /// `ha_next_events`: a gap when there was one, then events of a subscription.
    NextEvents(NextEventsParams),
    /// `ha_unsubscribe`: ends a subscription.
    Unsubscribe(SubscriptionParams),
    /// `ha_info`: the state of the warm session (nothing is sent).
    Info,
}

impl HaOperation {
    /// Reads an event whose `operation` is one of [`HA_OPERATIONS`]; each operation's
    /// parameters are read with serde, errors naming the parameter.
    pub fn from_event(event: Value) -> interface::Result<HaOperation> {
        HaOperation::from_event_text(&event.to_string())
    }

    /// [`HaOperation::from_event`] on the event's JSON text.
    pub fn from_event_text(event: &str) -> interface::Result<HaOperation> {
        HaOperation::from_named_event(&interface::event_operation(event)?, event)
    }

    /// [`HaOperation::from_event_text`] when the caller already read the event's
    /// `operation` (`name`).
    pub fn from_named_event(name: &str, event: &str) -> interface::Result<HaOperation> {
        Ok(match name {
            "ha_command" => HaOperation::Command(from_event_text(event)?),
            "ha_get_states" => HaOperation::GetStates,
            "ha_get_state" => HaOperation::GetState(from_event_text(event)?),
            "ha_call_service" => HaOperation::CallService(from_event_text(event)?),
            "ha_get_config" => HaOperation::GetConfig,
            "ha_get_services" => HaOperation::GetServices,
            "ha_registry" => HaOperation::Registry(from_event_text(event)?),
            "ha_render_template" => HaOperation::RenderTemplate(from_event_text(event)?),
            "ha_ping" => HaOperation::Ping,
            "ha_subscribe_events" => HaOperation::SubscribeEvents(from_event_text(event)?),
            "ha_subscribe_trigger" => HaOperation::SubscribeTrigger(from_event_text(event)?),
            "ha_subscribe_entities" => HaOperation::SubscribeEntities(from_event_text(event)?),
            "ha_next_events" => HaOperation::NextEvents(from_event_text(event)?),
            "ha_unsubscribe" => HaOperation::Unsubscribe(from_event_text(event)?),
            "ha_info" => HaOperation::Info,
            other => {
                return Err(interface::Error::unknown_operation(
                    other,
                    "operation",
                    &all_operations(),
                ))
            }
        })
    }
}

/// Parameters of `ha_command`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CommandParams {
    /// A JSON object with a `type`.
    pub command: Map<String, Value>,
}

/// Parameters of `ha_get_state`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GetStateParams {
    /// `domain.object_id`.
    pub entity_id: String,
}

/// Parameters of `ha_call_service`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CallServiceParams {
    /// The integration domain, such as `light`.
    pub domain: String,
    /// The service, such as `turn_on`.
    pub service: String,
    /// Optional service data.
    #[serde(default)]
    pub service_data: Option<Map<String, Value>>,
    /// Optional target (`entity_id`, `device_id`, `area_id`).
    #[serde(default)]
    pub target: Option<Map<String, Value>>,
    /// Ask for the service's response.
    #[serde(default)]
    pub return_response: Option<bool>,
}

/// Parameters of `ha_registry`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RegistryParams {
    /// `entity`, `area` or `device`.
    #[serde(deserialize_with = "registry")]
    pub registry: Registry,
}

/// Parameters of `ha_render_template`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RenderTemplateParams {
    /// The template.
    pub template: String,
}

/// Parameters of `ha_subscribe_events`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SubscribeEventsParams {
    /// One event type (such as `state_changed`); absent: all events.
    #[serde(default)]
    pub event_type: Option<String>,
}

/// Parameters of `ha_subscribe_trigger`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SubscribeTriggerParams {
    /// A trigger object, or a list of them, as in an automation.
    pub trigger: Value,
    /// Variables for the trigger's templates.
    #[serde(default)]
    pub variables: Option<Map<String, Value>>,
}

/// Parameters of `ha_subscribe_entities`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SubscribeEntitiesParams {
    /// The entities; absent: all.
    #[serde(default)]
    pub entity_ids: Option<Vec<String>>,
}

/// Parameters of `ha_next_events`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NextEventsParams {
    /// The subscription's id.
    pub subscription: u64,
    /// Events to answer at most (1 to [`MAX_EVENTS_PER_READ`], default that).
    #[serde(default, deserialize_with = "event_count")]
    pub count: Option<u64>,
}

/// Parameters of `ha_unsubscribe`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SubscriptionParams {
    /// The subscription's id.
    pub subscription: u64,
}

fn event_count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<u64>::deserialize(d)? {
        Some(n) if n == 0 || n > MAX_EVENTS_PER_READ => Err(serde::de::Error::custom(format!(
            "must be between 1 and {MAX_EVENTS_PER_READ}"
        ))),
        other => Ok(other),
    }
}

fn registry<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Registry, D::Error> {
    let name = String::deserialize(d)?;
    Registry::from_str(&name)
        .map_err(|_| serde::de::Error::custom("must be entity, area or device"))
}
