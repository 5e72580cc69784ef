//! Secrets the process holds — access tokens, URL credentials, `?token=` values — registered
//! while they are in use, so that every log line and every text a server sends back can be
//! cleaned of them in one place, whoever wrote the text.
//!
//! Our own code never prints a secret; the registry is for the text we did not write: a
//! server that reflects the token in its version string, an error message, a close reason or
//! a JSON key.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Shorter values are not registered: they would match everywhere (`?page=2`), and a secret
/// that short protects nothing.
pub const MIN_SECRET_LEN: usize = 6;

/// A registered secret and how many guards hold it.
struct Entry {
    value: Arc<str>,
    /// The value as it appears inside a JSON string (quotes, backslashes and control
    /// characters escaped), for raw JSON text.
    json: Arc<str>,
    holders: usize,
}

static REGISTRY: RwLock<Vec<Entry>> = RwLock::new(Vec::new());
/// Entries in the registry, read without the lock on the fast path.
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// Keeps a secret registered while it lives; clones share the registration.
///
/// ```
/// let guard = debug::register_secret("s3cr3t-value");
/// assert_eq!(debug::redact("echo: s3cr3t-value"), "echo: <redacted>");
/// drop(guard);
/// assert_eq!(debug::redact("echo: s3cr3t-value"), "echo: s3cr3t-value");
/// ```
#[derive(Default)]
pub struct SecretGuard {
    value: Option<Arc<str>>,
    json: Option<Arc<str>>,
}

impl std::fmt::Debug for SecretGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.value.is_some() {
            "SecretGuard(<redacted>)"
        } else {
            "SecretGuard(none)"
        })
    }
}

/// Registers `value` as a secret until the returned guard (and its clones) are dropped.
/// Values shorter than [`MIN_SECRET_LEN`] bytes are not registered.
///
/// ```
/// let _token = debug::register_secret("eyJhbGciOiJIUzI1NiJ9.long-token");
/// assert!(debug::redact("got eyJhbGciOiJIUzI1NiJ9.long-token back").contains("<redacted>"));
/// ```
pub fn register_secret(value: &str) -> SecretGuard {
    if value.len() < MIN_SECRET_LEN {
        return SecretGuard::default();
    }
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if let Some(entry) = registry.iter_mut().find(|e| &*e.value == value) {
        entry.holders += 1;
        return SecretGuard {
            value: Some(Arc::clone(&entry.value)),
            json: Some(Arc::clone(&entry.json)),
        };
    }
    let value: Arc<str> = Arc::from(value);
    let json = serde_json::to_string(&*value).unwrap_or_default();
    let json: Arc<str> = json
        .get(1..json.len().saturating_sub(1))
        .unwrap_or_default()
        .into();
    registry.push(Entry {
        value: Arc::clone(&value),
        json: Arc::clone(&json),
        holders: 1,
    });
    // Longest first, so a secret that contains another is replaced whole.
    registry.sort_by_key(|e| std::cmp::Reverse(e.value.len()));
    COUNT.store(registry.len(), Ordering::Release);
    SecretGuard {
        value: Some(value),
        json: Some(json),
    }
}

impl SecretGuard {
    /// `text` with this one secret replaced, as written and as written inside a JSON
    /// string: for data from a peer that only this secret's owner should be cleaned of.
    ///
    /// ```
    /// let guard = debug::register_secret("only-this-one");
    /// assert_eq!(guard.redact_in("echo only-this-one"), "echo <redacted>");
    /// ```
    pub fn redact_in<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for needle in [&self.value, &self.json].into_iter().flatten() {
            if !needle.is_empty() && out.contains(&**needle) {
                out = Cow::Owned(out.replace(&**needle, REDACTED));
            }
        }
        out
    }
}

impl Clone for SecretGuard {
    fn clone(&self) -> Self {
        match &self.value {
            None => SecretGuard::default(),
            Some(value) => {
                let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
                if let Some(entry) = registry.iter_mut().find(|e| Arc::ptr_eq(&e.value, value)) {
                    entry.holders += 1;
                }
                SecretGuard {
                    value: Some(Arc::clone(value)),
                    json: self.json.clone(),
                }
            }
        }
    }
}

impl Drop for SecretGuard {
    fn drop(&mut self) {
        let Some(value) = self.value.take() else {
            return;
        };
        let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        if let Some(pos) = registry.iter().position(|e| Arc::ptr_eq(&e.value, &value)) {
            registry[pos].holders -= 1;
            if registry[pos].holders == 0 {
                registry.remove(pos);
            }
        }
        COUNT.store(registry.len(), Ordering::Release);
    }
}

/// Replaces every registered secret in `text` by [`REDACTED`]. Costs one atomic load when
/// no secret is registered, and one search per secret otherwise.
///
/// ```
/// let _g = debug::register_secret("hunter2-password");
/// assert_eq!(debug::redact("user:hunter2-password"), "user:<redacted>");
/// assert_eq!(debug::redact("nothing here"), "nothing here");
/// ```
pub fn redact(text: &str) -> Cow<'_, str> {
    replace_all(text, |e| &e.value)
}

/// [`redact`] for raw JSON text: each secret is looked for as it would be written inside a
/// JSON string (escaped). The replacement has no character JSON must escape, so valid JSON
/// stays valid as long as the secret's matches are inside strings — the caller checks.
///
/// ```
/// let _g = debug::register_secret("tok\"en-42");
/// assert_eq!(debug::redact_json(r#"{"v":"tok\"en-42"}"#), r#"{"v":"<redacted>"}"#);
/// ```
pub fn redact_json(raw: &str) -> Cow<'_, str> {
    replace_all(raw, |e| &e.json)
}

/// Whether `text` holds a registered secret.
///
/// ```
/// let _g = debug::register_secret("a-secret-value");
/// assert!(debug::contains_secret("is a-secret-value here?"));
/// assert!(!debug::contains_secret("no"));
/// ```
pub fn contains_secret(text: &str) -> bool {
    if COUNT.load(Ordering::Acquire) == 0 {
        return false;
    }
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    registry
        .iter()
        .any(|e| !e.value.is_empty() && text.contains(&*e.value))
}

fn replace_all<'t>(text: &'t str, form: impl Fn(&Entry) -> &str) -> Cow<'t, str> {
    if COUNT.load(Ordering::Acquire) == 0 {
        return Cow::Borrowed(text);
    }
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for entry in registry.iter() {
        let needle = form(entry);
        if !needle.is_empty() && out.contains(needle) {
            out = Cow::Owned(out.replace(needle, REDACTED));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_not_secrets() {
        let _g = register_secret("2");
        assert_eq!(redact("ws-2"), "ws-2");
    }

    #[test]
    fn clones_keep_the_registration() {
        let g = register_secret("clone-kept-secret");
        let c = g.clone();
        drop(g);
        assert_eq!(redact("clone-kept-secret"), REDACTED);
        drop(c);
        assert_eq!(redact("clone-kept-secret"), "clone-kept-secret");
    }

    #[test]
    fn the_longest_secret_wins() {
        let _a = register_secret("abcdef");
        let _b = register_secret("abcdef-and-more");
        assert_eq!(redact("x abcdef-and-more y"), "x <redacted> y");
    }
}
