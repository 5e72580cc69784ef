//! Entity states, typed, and the fold of `subscribe_entities`' compressed messages into
//! full states.
//!
//! Home Assistant sends `subscribe_entities` events in a compressed shape
//! (`homeassistant/components/websocket_api/messages.py`): `a` adds entities (`s` state,
//! `a` attributes, `c` context — its id alone when it has no parent or user — `lc` last
//! changed and `lu` last updated, in epoch seconds, `lu` only when it differs), `r`
//! removes entity ids, and `c` changes them with a diff: `+` what was added or changed
//! (the same short keys; `lc` when the state changed, else `lu`; `c` the context's id, or
//! an object of its changed fields) and `-` the attribute names removed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::answers::HaResult;
use crate::error::{Error, Result};

/// Bytes an entity fold may hold at most (the states of a large home are a few MB).
pub const ENTITY_FOLD_LIMIT_BYTES: usize = 8 << 20;

/// The context of a state: which event, user and parent caused it.
///
/// ```
/// let c: home_assistant::Context = serde_json::from_str(r#"{"id":"01H","parent_id":null,"user_id":null}"#).unwrap();
/// assert_eq!(c.id, "01H");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The context id.
    #[serde(default)]
    pub id: String,
    /// The parent context's id.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The user who caused it.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// One entity's state, as `get_states` answers it.
///
/// ```
/// let states = home_assistant::HaResult::from_json(r#"[{"entity_id":"light.kitchen","state":"on",
///     "attributes":{"brightness":200},"last_changed":"2026-11-22T00:00:00+00:00",
///     "last_updated":"2026-11-22T00:00:00+00:00","context":{"id":"01H","parent_id":null,"user_id":null}}]"#)?
///     .states()?;
/// assert_eq!(states[0].state, "on");
/// assert_eq!(states[0].attributes["brightness"], 200);
/// # Ok::<(), home_assistant::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityState {
    /// `domain.object_id`.
    pub entity_id: String,
    /// The state.
    pub state: String,
    /// Its attributes.
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// When the state last changed (ISO 8601, as Home Assistant writes it).
    #[serde(default)]
    pub last_changed: String,
    /// When the state or an attribute last changed.
    #[serde(default)]
    pub last_updated: String,
    /// What caused it.
    #[serde(default)]
    pub context: Context,
}

impl EntityState {
    /// Bytes it takes, as counted against [`ENTITY_FOLD_LIMIT_BYTES`].
    fn size(&self) -> usize {
        let attributes: usize = self
            .attributes
            .iter()
            .map(|(k, v)| k.len() + json_len(v))
            .sum();
        self.entity_id.len() + self.state.len() + attributes + 160
    }
}

fn json_len(value: &Value) -> usize {
    match value {
        Value::String(s) => s.len() + 2,
        Value::Array(items) => items.iter().map(json_len).sum::<usize>() + 2,
        Value::Object(map) => {
            map.iter()
                .map(|(k, v)| k.len() + json_len(v))
                .sum::<usize>()
                + 2
        }
        _ => 8,
    }
}

impl HaResult {
    /// The result as entity states (the answer of `get_states`).
    pub fn states(&self) -> Result<Vec<EntityState>> {
        serde_json::from_str(self.as_str()).map_err(|_| Error::Unexpected {
            expected: "a list of entity states",
            got: "<other>".into(),
        })
    }

    /// The result as one entity state (the answer of `get_state`).
    pub fn state(&self) -> Result<EntityState> {
        serde_json::from_str(self.as_str()).map_err(|_| Error::Unexpected {
            expected: "an entity state",
            got: "<other>".into(),
        })
    }
}

/// Home Assistant's epoch seconds as it writes times in full states: Python's
/// `isoformat()` in UTC — microseconds only when there are some, `+00:00`.
///
/// ```
/// assert_eq!(home_assistant::iso_time(1795000000.0), "2026-11-18T11:06:40+00:00");
/// assert_eq!(home_assistant::iso_time(1795000000.25), "2026-11-18T11:06:40.250000+00:00");
/// ```
pub fn iso_time(epoch_seconds: f64) -> String {
    let micros = (epoch_seconds * 1e6).round();
    let at = if micros.is_finite() {
        time::OffsetDateTime::from_unix_timestamp_nanos(micros as i128 * 1000).ok()
    } else {
        None
    };
    let Some(at) = at else {
        return epoch_seconds.to_string();
    };
    let fraction = match at.microsecond() {
        0 => String::new(),
        us => format!(".{us:06}"),
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}+00:00",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// A state in the compressed shape (`a` of an event).
#[derive(Deserialize)]
struct Compressed {
    #[serde(default)]
    s: Value,
    #[serde(default)]
    a: Map<String, Value>,
    #[serde(default)]
    c: Value,
    #[serde(default)]
    lc: Option<f64>,
    #[serde(default)]
    lu: Option<f64>,
}

/// A change (`c` of an event).
#[derive(Deserialize)]
struct Diff {
    #[serde(rename = "+", default)]
    added: Option<Added>,
    #[serde(rename = "-", default)]
    removed: Option<Removed>,
}

#[derive(Deserialize)]
struct Added {
    #[serde(default)]
    s: Option<Value>,
    #[serde(default)]
    a: Option<Map<String, Value>>,
    #[serde(default)]
    c: Option<Value>,
    #[serde(default)]
    lc: Option<f64>,
    #[serde(default)]
    lu: Option<f64>,
}

#[derive(Deserialize)]
struct Removed {
    #[serde(default)]
    a: Vec<String>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    a: Option<BTreeMap<String, Compressed>>,
    #[serde(default)]
    r: Option<Vec<String>>,
    #[serde(default)]
    c: Option<BTreeMap<String, Diff>>,
}

fn text_of(value: Value) -> String {
    match value {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn context_of(value: Value) -> Context {
    match value {
        Value::String(id) => Context {
            id,
            parent_id: None,
            user_id: None,
        },
        other => serde_json::from_value(other).unwrap_or_default(),
    }
}

/// Applies a context change: an id alone, or the fields given.
fn patch_context(context: &mut Context, patch: Value) {
    match patch {
        Value::String(id) => context.id = id,
        Value::Object(fields) => {
            let text = |v: &Value| v.as_str().map(str::to_owned);
            for (key, value) in fields {
                match key.as_str() {
                    "id" => context.id = text(&value).unwrap_or_default(),
                    "parent_id" => context.parent_id = text(&value),
                    "user_id" => context.user_id = text(&value),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// What one event changed: the entity and its new full state (`None`: removed).
pub(crate) type Change = (String, Option<EntityState>);

/// Full states built from a `subscribe_entities` subscription's events, bounded in bytes.
#[derive(Debug, Default)]
pub(crate) struct EntityFold {
    states: BTreeMap<String, (EntityState, usize)>,
    bytes: usize,
    held: websocket::HeldCharge,
}

impl EntityFold {
    /// Starts again from nothing (the next event is a fresh snapshot).
    pub(crate) fn clear(&mut self) {
        self.states.clear();
        self.bytes = 0;
        self.held.set(0);
    }

    /// The states, by entity id.
    pub(crate) fn states(&self) -> Vec<EntityState> {
        self.states.values().map(|(s, _)| s.clone()).collect()
    }

    /// Folds one event in: adds, then removals, then changes (the reference client's
    /// order); returns what changed, in that order. A change for an entity it does not
    /// know is skipped, as the reference client does.
    pub(crate) fn apply(&mut self, event: &RawValue) -> Result<Vec<Change>> {
        let event: Event = serde_json::from_str(event.get()).map_err(|_| Error::Unexpected {
            expected: "a subscribe_entities event",
            got: "<malformed>".into(),
        })?;
        let mut changes = Vec::new();
        for (entity_id, c) in event.a.unwrap_or_default() {
            let last_changed = c.lc.map(iso_time).unwrap_or_default();
            let state = EntityState {
                entity_id: entity_id.clone(),
                state: text_of(c.s),
                attributes: c.a,
                last_updated: c.lu.map(iso_time).unwrap_or_else(|| last_changed.clone()),
                last_changed,
                context: context_of(c.c),
            };
            self.put(state.clone())?;
            changes.push((entity_id, Some(state)));
        }
        for entity_id in event.r.unwrap_or_default() {
            if let Some((_, size)) = self.states.remove(&entity_id) {
                self.bytes -= size;
                changes.push((entity_id, None));
            }
        }
        self.held.set(self.bytes);
        for (entity_id, diff) in event.c.unwrap_or_default() {
            let Some((known, _)) = self.states.get(&entity_id) else {
                continue;
            };
            let mut state = known.clone();
            if let Some(added) = diff.added {
                if let Some(s) = added.s {
                    state.state = text_of(s);
                }
                if let Some(c) = added.c {
                    patch_context(&mut state.context, c);
                }
                if let Some(lc) = added.lc {
                    state.last_changed = iso_time(lc);
                    state.last_updated = state.last_changed.clone();
                } else if let Some(lu) = added.lu {
                    state.last_updated = iso_time(lu);
                }
                for (key, value) in added.a.unwrap_or_default() {
                    state.attributes.insert(key, value);
                }
            }
            for key in diff.removed.map(|r| r.a).unwrap_or_default() {
                state.attributes.shift_remove(&key);
            }
            self.put(state.clone())?;
            changes.push((entity_id, Some(state)));
        }
        Ok(changes)
    }

    fn put(&mut self, state: EntityState) -> Result<()> {
        let size = state.size();
        let old = self
            .states
            .get(&state.entity_id)
            .map_or(0, |(_, size)| *size);
        let bytes = self.bytes - old + size;
        if bytes > ENTITY_FOLD_LIMIT_BYTES || !self.held.try_set(bytes) {
            return Err(Error::FoldTooLarge {
                limit: ENTITY_FOLD_LIMIT_BYTES,
            });
        }
        self.bytes = bytes;
        self.states.insert(state.entity_id.clone(), (state, size));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn adds_changes_and_removes() {
        let mut fold = EntityFold::default();
        let added = fold
            .apply(&raw(
                r#"{"a":{"light.k":{"s":"off","a":{"friendly_name":"K","b":1},"c":"01A","lc":1795000000.5}}}"#,
            ))
            .unwrap();
        assert_eq!(added.len(), 1);
        let state = &fold.states()[0];
        assert_eq!(state.last_changed, "2026-11-18T11:06:40.500000+00:00");
        assert_eq!(state.last_updated, state.last_changed);
        assert_eq!(state.context.id, "01A");
        fold.apply(&raw(
            r#"{"c":{"light.k":{"+":{"s":"on","lc":1795000001.0,"c":{"user_id":"u1","id":"01B"},"a":{"b":2}},"-":{"a":["friendly_name"]}}}}"#,
        ))
        .unwrap();
        let state = &fold.states()[0];
        assert_eq!(state.state, "on");
        assert_eq!(state.context.id, "01B");
        assert_eq!(state.context.user_id.as_deref(), Some("u1"));
        assert_eq!(state.attributes.get("b"), Some(&Value::from(2)));
        assert!(!state.attributes.contains_key("friendly_name"));
        assert_eq!(state.last_updated, "2026-11-18T11:06:41+00:00");
        fold.apply(&raw(r#"{"c":{"light.k":{"+":{"lu":1795000002.0}}}}"#))
            .unwrap();
        assert_eq!(fold.states()[0].last_changed, "2026-11-18T11:06:41+00:00");
        assert_eq!(fold.states()[0].last_updated, "2026-11-18T11:06:42+00:00");
        let removed = fold.apply(&raw(r#"{"r":["light.k"]}"#)).unwrap();
        assert_eq!(removed, vec![("light.k".to_owned(), None)]);
        assert!(fold.states().is_empty());
        // A change for an unknown entity is skipped; a malformed event is an error.
        assert!(fold
            .apply(&raw(r#"{"c":{"light.x":{"+":{"s":"on"}}}}"#))
            .unwrap()
            .is_empty());
        assert!(fold.apply(&raw(r#"[1]"#)).is_err());
    }

    #[test]
    fn bounded_in_bytes() {
        let mut fold = EntityFold::default();
        let big = "x".repeat(1 << 20);
        let mut failed = false;
        for i in 0..20 {
            let event = format!(
                r#"{{"a":{{"sensor.s{i}":{{"s":"1","a":{{"blob":"{big}"}},"c":"01","lc":1.0}}}}}}"#
            );
            if fold.apply(&raw(&event)).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed);
        assert!(fold.bytes <= ENTITY_FOLD_LIMIT_BYTES);
    }
}
