//! Process-wide singletons, reachable by name. The registry holds nothing of either half:
//! each registers its own (the client half its WebSocket manager).

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use once_cell::sync::Lazy;
use parking_lot::RwLock;

/// A shared, thread-safe singleton; downcast it to its concrete type.
pub type Singleton = Arc<dyn Any + Send + Sync>;

static REGISTRY: Lazy<RwLock<HashMap<String, Singleton>>> = Lazy::new(Default::default);

/// The singleton registered under `name`, if any.
///
/// ```
/// contract::singleton_register("answer", std::sync::Arc::new(42u32));
/// let v = contract::singleton_get("answer").unwrap();
/// assert_eq!(v.downcast_ref::<u32>(), Some(&42));
/// ```
pub fn singleton_get(name: &str) -> Option<Singleton> {
    REGISTRY.read().get(name).cloned()
}

/// Registers `value` under `name`, returning what was there before. Reserving names is the
/// registering crate's business (the client gateway refuses `websocket_manager`).
pub fn singleton_register(name: &str, value: Singleton) -> Option<Singleton> {
    REGISTRY.write().insert(name.to_owned(), value)
}
