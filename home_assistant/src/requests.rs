//! What a caller asks for: which registry to list, a service call.

use serde_json::Value;

use crate::error::{Error, Result};

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
