//! The cached debug switches.

use std::sync::atomic::{AtomicU32, Ordering};

/// A layer of the framework with its own debug and timing switches.
///
/// ```
/// assert_eq!(debug::Scope::Websocket.name(), "WEBSOCKET");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The WebSocket implementation and its connection manager.
    Websocket,
    /// The public gateway.
    Gateway,
    /// The operation router.
    Interface,
    /// The Lambda handler.
    Lambda,
    /// The Home Assistant client.
    Ha,
}

impl Scope {
    /// Every scope, in layer order.
    pub const ALL: [Scope; 5] = [
        Scope::Lambda,
        Scope::Ha,
        Scope::Gateway,
        Scope::Interface,
        Scope::Websocket,
    ];

    /// The upper-case name used in environment variables and line tags.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Websocket => "WEBSOCKET",
            Scope::Gateway => "GATEWAY",
            Scope::Interface => "INTERFACE",
            Scope::Lambda => "LAMBDA",
            Scope::Ha => "HA",
        }
    }

    fn index(self) -> u32 {
        match self {
            Scope::Websocket => 0,
            Scope::Gateway => 1,
            Scope::Interface => 2,
            Scope::Lambda => 3,
            Scope::Ha => 4,
        }
    }

    fn debug_bit(self) -> u32 {
        1 << (2 * self.index())
    }

    fn timing_bit(self) -> u32 {
        1 << (2 * self.index() + 1)
    }
}

const LOADED: u32 = 1 << 31;

/// Effective switches (master already folded in), plus `LOADED` once the environment was read.
static FLAGS: AtomicU32 = AtomicU32::new(0);

/// Whether an environment variable is set to `true`, `1` or `yes` (any case, surrounding
/// blanks ignored). Anything else, unset or not Unicode, is off.
///
/// ```
/// assert!(!debug::env_flag("SURELY_NOT_SET_ANYWHERE_42"));
/// ```
pub fn env_flag(name: &str) -> bool {
    std::env::var(name)
        .map(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("true") || v == "1" || v.eq_ignore_ascii_case("yes")
        })
        .unwrap_or(false)
}

fn read_environment() -> u32 {
    let mut flags = LOADED;
    if env_flag("DEBUG_MODE") {
        for scope in Scope::ALL {
            if env_flag(&format!("{}_DEBUG_MODE", scope.name())) {
                flags |= scope.debug_bit();
            }
            if env_flag(&format!("{}_DEBUG_TIMING", scope.name())) {
                flags |= scope.timing_bit();
            }
        }
    }
    flags
}

#[inline]
fn flags() -> u32 {
    let flags = FLAGS.load(Ordering::Relaxed);
    if flags & LOADED != 0 {
        flags
    } else {
        reload()
    }
}

/// Reads the environment again and caches the result; returns the raw switch bits.
///
/// Tests and long-lived processes that change `DEBUG_MODE` and friends call this.
///
/// ```
/// std::env::set_var("DEBUG_MODE", "true");
/// std::env::set_var("GATEWAY_DEBUG_MODE", "yes");
/// debug::reload();
/// assert!(debug::debug_enabled(debug::Scope::Gateway));
/// ```
pub fn reload() -> u32 {
    let flags = read_environment();
    FLAGS.store(flags, Ordering::Relaxed);
    flags
}

/// Whether debug lines of `scope` are emitted (master switch and scope switch both on).
///
/// ```
/// let _ = debug::debug_enabled(debug::Scope::Websocket);
/// ```
#[inline]
pub fn debug_enabled(scope: Scope) -> bool {
    flags() & scope.debug_bit() != 0
}

/// Whether timing lines of `scope` are emitted (master switch and timing switch both on).
///
/// ```
/// let _ = debug::timing_enabled(debug::Scope::Websocket);
/// ```
#[inline]
pub fn timing_enabled(scope: Scope) -> bool {
    flags() & scope.timing_bit() != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_distinct() {
        let mut seen = 0u32;
        for scope in Scope::ALL {
            for bit in [scope.debug_bit(), scope.timing_bit()] {
                assert_eq!(seen & bit, 0);
                assert_eq!(bit & LOADED, 0);
                seen |= bit;
            }
        }
    }
}
