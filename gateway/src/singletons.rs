//! Process-wide singletons, reachable by name.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use once_cell::sync::Lazy;
use parking_lot::RwLock;
use websocket::WebSocketCore;

use crate::Error;

/// A shared, thread-safe singleton; downcast it to its concrete type.
pub type Singleton = Arc<dyn Any + Send + Sync>;

/// The name under which the WebSocket manager is registered.
pub const WEBSOCKET_MANAGER: &str = "websocket_manager";

static REGISTRY: Lazy<RwLock<HashMap<String, Singleton>>> = Lazy::new(|| {
    let mut map: HashMap<String, Singleton> = HashMap::new();
    let manager: Arc<WebSocketCore> = Arc::clone(WebSocketCore::global());
    map.insert(WEBSOCKET_MANAGER.to_owned(), manager);
    RwLock::new(map)
});

/// The singleton registered under `name`, if any.
///
/// ```
/// let any = gateway::singleton_get("websocket_manager").unwrap();
/// let manager = any.downcast_ref::<gateway::WebSocketCore>().unwrap();
/// assert_eq!(manager.stats().max_rate_limit, 300);
/// ```
pub fn singleton_get(name: &str) -> Option<Singleton> {
    REGISTRY.read().get(name).cloned()
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
    Ok(REGISTRY.write().insert(name.to_owned(), value))
}
