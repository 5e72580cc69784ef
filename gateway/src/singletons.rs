//! Process-wide singletons, reachable by name: the ground floor's registry
//! ([`contract::singleton_get`]), where the client half registers its WebSocket manager on
//! first use and keeps that name for it.

use std::sync::Arc;

use once_cell::sync::Lazy;
use websocket::WebSocketCore;

use crate::Error;

pub use contract::Singleton;

/// The name under which the WebSocket manager is registered.
pub const WEBSOCKET_MANAGER: &str = "websocket_manager";

static MANAGER: Lazy<()> = Lazy::new(|| {
    let manager: Arc<WebSocketCore> = Arc::clone(WebSocketCore::global());
    contract::singleton_register(WEBSOCKET_MANAGER, manager);
});

/// The singleton registered under `name`, if any.
///
/// ```
/// let any = gateway::singleton_get("websocket_manager").unwrap();
/// let manager = any.downcast_ref::<gateway::WebSocketCore>().unwrap();
/// assert_eq!(manager.stats().max_rate_limit, 300);
/// ```
pub fn singleton_get(name: &str) -> Option<Singleton> {
    Lazy::force(&MANAGER);
    contract::singleton_get(name)
}

/// Registers `value` under `name`, returning what was there before. The WebSocket
/// manager's name is reserved.
///
/// ```
/// use std::sync::Arc;
/// gateway::singleton_register("my_cache", Arc::new(42u32)).unwrap();
/// let v = gateway::singleton_get("my_cache").unwrap();
/// assert_eq!(v.downcast_ref::<u32>(), Some(&42));
/// assert!(gateway::singleton_register("websocket_manager", Arc::new(0u8)).is_err());
/// ```
pub fn singleton_register(name: &str, value: Singleton) -> Result<Option<Singleton>, Error> {
    if name == WEBSOCKET_MANAGER {
        return Err(Error::invalid_parameter(
            "name",
            "'websocket_manager' is reserved for the framework's own manager",
        ));
    }
    Lazy::force(&MANAGER);
    Ok(contract::singleton_register(name, value))
}
