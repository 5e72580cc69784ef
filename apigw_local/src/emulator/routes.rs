//! Which route a message takes: the API's route selection expression and its routes.

use std::collections::BTreeSet;

use serde_json::Value;

/// The catch-all route.
pub const DEFAULT_ROUTE: &str = "$default";

/// A route selection expression over the message body, `$request.body.<path>` (dotted
/// for nested members), as a WebSocket API declares it.
///
/// ```
/// use apigw_local::RouteSelection;
/// let by_action = RouteSelection::parse("$request.body.action").unwrap();
/// assert_eq!(by_action.select(r#"{"action": "ping"}"#).as_deref(), Some("ping"));
/// assert_eq!(by_action.select("not json"), None);
/// assert!(RouteSelection::parse("$request.header.x").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSelection {
    text: String,
    path: Vec<String>,
}

impl RouteSelection {
    /// Reads `$request.body.a.b` (also `${request.body.a.b}`).
    pub fn parse(text: &str) -> Result<RouteSelection, String> {
        let inner = text
            .strip_prefix("${")
            .and_then(|t| t.strip_suffix('}'))
            .map(|t| format!("${t}"))
            .unwrap_or_else(|| text.to_owned());
        let path: Vec<String> = inner
            .strip_prefix("$request.body.")
            .ok_or_else(|| {
                format!("route selection expression {text:?} must be $request.body.<member>")
            })?
            .split('.')
            .map(str::to_owned)
            .collect();
        if path.iter().any(|p| p.is_empty() || p.len() > 128) {
            return Err(format!(
                "route selection expression {text:?} has an empty member"
            ));
        }
        Ok(RouteSelection {
            text: text.to_owned(),
            path,
        })
    }

    /// The value it selects from a text message: a string member as it is, a number or
    /// boolean as its JSON text; `None` when the body is not JSON or the member is missing
    /// or an object, array or null.
    pub fn select(&self, body: &str) -> Option<String> {
        let root: Value = serde_json::from_str(body).ok()?;
        let value = self.path.iter().try_fold(&root, |v, key| v.get(key))?;
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
            _ => None,
        }
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The API's message routes: custom keys, `$default` when declared, and which routes are
/// one-way (their function's answer body is not sent back: no route response).
///
/// ```
/// use apigw_local::Routes;
/// let routes = Routes::new(["ping", "$default"]);
/// assert_eq!(routes.resolve(Some("ping")), Some("ping"));
/// assert_eq!(routes.resolve(Some("other")), Some("$default"));
/// assert_eq!(Routes::new(["ping"]).resolve(None), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routes {
    keys: BTreeSet<String>,
    one_way: BTreeSet<String>,
}

impl Routes {
    /// Two-way routes `keys` (`$connect` and `$disconnect` are always there and are not
    /// message routes).
    pub fn new<S: AsRef<str>>(keys: impl IntoIterator<Item = S>) -> Routes {
        Routes {
            keys: keys
                .into_iter()
                .map(|k| k.as_ref().to_owned())
                .filter(|k| k != "$connect" && k != "$disconnect")
                .collect(),
            one_way: BTreeSet::new(),
        }
    }

    /// These routes become one-way (declared too, when they were not).
    pub fn one_way<S: AsRef<str>>(mut self, keys: impl IntoIterator<Item = S>) -> Routes {
        for key in keys {
            let key = key.as_ref().to_owned();
            self.keys.insert(key.clone());
            self.one_way.insert(key);
        }
        self
    }

    /// The route a message takes: the selected value when it is a route, else `$default`
    /// when declared, else none (the client is told `Forbidden`).
    pub fn resolve<'a>(&'a self, selected: Option<&str>) -> Option<&'a str> {
        selected
            .and_then(|s| self.keys.get(s))
            .or_else(|| self.keys.get(DEFAULT_ROUTE))
            .map(String::as_str)
    }

    /// Whether `key`'s answer body goes back to the sender.
    pub fn is_two_way(&self, key: &str) -> bool {
        !self.one_way.contains(key)
    }

    /// The declared message routes.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }
}

impl Default for Routes {
    /// `$default` alone: every message reaches the function.
    fn default() -> Routes {
        Routes::new([DEFAULT_ROUTE])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_members_numbers_and_misses() {
        let s = RouteSelection::parse("${request.body.meta.kind}").unwrap();
        assert_eq!(s.select(r#"{"meta": {"kind": "a"}}"#).as_deref(), Some("a"));
        assert_eq!(s.select(r#"{"meta": {"kind": 7}}"#).as_deref(), Some("7"));
        assert_eq!(s.select(r#"{"meta": {"kind": {"x": 1}}}"#), None);
        assert_eq!(s.select(r#"{"meta": null}"#), None);
        assert_eq!(s.select(r#"[1, 2]"#), None);
        assert!(RouteSelection::parse("$request.body.").is_err());
        assert!(RouteSelection::parse("$request.body.a..b").is_err());
    }

    #[test]
    fn unmatched_values_fall_to_default_only_when_declared() {
        let routes = Routes::new(["$connect", "ping"]).one_way(["note"]);
        assert_eq!(routes.resolve(Some("ping")), Some("ping"));
        assert_eq!(routes.resolve(Some("$connect")), None);
        assert_eq!(routes.resolve(Some("nope")), None);
        assert!(!routes.is_two_way("note"));
        assert!(routes.is_two_way("ping"));
        assert_eq!(Routes::default().resolve(Some("x")), Some("$default"));
    }
}
