//! Scopes and their cached switches.

use std::sync::atomic::{AtomicU32, Ordering};

/// Bumped by [`reload`]; a scope whose cache was filled under an older generation reads the
/// environment again. Starts at 1 so that a zeroed cache is always stale.
static GENERATION: AtomicU32 = AtomicU32::new(1);

const DEBUG_BIT: u32 = 1;
const TIMING_BIT: u32 = 2;

/// A layer with its own debug and timing switches: `<NAME>_DEBUG_MODE` and
/// `<NAME>_DEBUG_TIMING`, both under the master switch `DEBUG_MODE`.
///
/// Each crate declares its own scope as a `static`; this crate knows none of them.
///
/// ```
/// static SCOPE: debug::Scope = debug::Scope::new("EXAMPLE");
/// std::env::set_var("DEBUG_MODE", "true");
/// std::env::set_var("EXAMPLE_DEBUG_TIMING", "yes");
/// debug::reload();
/// assert!(SCOPE.timing_enabled());
/// assert!(!SCOPE.debug_enabled());
/// assert_eq!(SCOPE.name(), "EXAMPLE");
/// ```
#[derive(Debug)]
pub struct Scope {
    name: &'static str,
    /// `generation << 2 | switches`, filled on first use after each reload.
    cache: AtomicU32,
}

impl Scope {
    /// A scope named `name` (upper case, as in its environment variables).
    pub const fn new(name: &'static str) -> Scope {
        Scope {
            name,
            cache: AtomicU32::new(0),
        }
    }

    /// The upper-case name used in environment variables and line tags.
    pub fn name(&self) -> &'static str {
        self.name
    }

    #[inline]
    fn switches(&self) -> u32 {
        let generation = GENERATION.load(Ordering::Relaxed);
        let cached = self.cache.load(Ordering::Relaxed);
        if cached >> 2 == generation {
            cached & 3
        } else {
            self.load(generation)
        }
    }

    #[cold]
    fn load(&self, generation: u32) -> u32 {
        let mut switches = 0;
        if env_flag("DEBUG_MODE") {
            if env_flag(&format!("{}_DEBUG_MODE", self.name)) {
                switches |= DEBUG_BIT;
            }
            if env_flag(&format!("{}_DEBUG_TIMING", self.name)) {
                switches |= TIMING_BIT;
            }
        }
        self.cache
            .store(generation << 2 | switches, Ordering::Relaxed);
        switches
    }

    /// Whether this scope's debug lines are emitted (master and scope switch both on).
    #[inline]
    pub fn debug_enabled(&self) -> bool {
        self.switches() & DEBUG_BIT != 0
    }

    /// Whether this scope's timing lines are emitted (master and timing switch both on).
    #[inline]
    pub fn timing_enabled(&self) -> bool {
        self.switches() & TIMING_BIT != 0
    }
}

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

/// Makes every scope read the environment again on its next use.
///
/// The switches are read once and cached; tests and long-lived processes that change
/// `DEBUG_MODE` and friends call this.
///
/// ```
/// static GATEWAY: debug::Scope = debug::Scope::new("GATEWAY");
/// std::env::set_var("DEBUG_MODE", "true");
/// std::env::set_var("GATEWAY_DEBUG_MODE", "yes");
/// debug::reload();
/// assert!(GATEWAY.debug_enabled());
/// ```
pub fn reload() {
    let next = GENERATION.load(Ordering::Relaxed).wrapping_add(1) & (u32::MAX >> 2);
    GENERATION.store(next.max(1), Ordering::Relaxed);
}
