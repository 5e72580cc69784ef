//! The stand-in's entities and the shapes Home Assistant sends them in: full states
//! (`get_states`, `state_changed`), and `subscribe_entities`' compressed states and diffs,
//! built as `homeassistant/components/websocket_api/messages.py` documents them
//! (`_state_diff`, `State.as_compressed_state`).

use serde_json::{json, Map, Value};

/// Microseconds since the Unix epoch of 2026-11-22T00:00:00Z, the stand-in's first clock.
pub(crate) const EPOCH_MICROS: i64 = 1_795_305_600_000_000;

/// One entity as the stand-in keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entity {
    pub id: String,
    pub state: String,
    pub attributes: Map<String, Value>,
    /// Microseconds since the epoch.
    pub last_changed: i64,
    pub last_updated: i64,
    pub context: Context,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Context {
    pub id: String,
    pub parent_id: Option<String>,
    pub user_id: Option<String>,
}

impl Context {
    fn to_json(&self) -> Value {
        json!({"id": self.id, "parent_id": self.parent_id, "user_id": self.user_id})
    }
}

/// Python's `datetime.isoformat()` of a UTC time: microseconds only when there are some.
fn isoformat(micros: i64) -> String {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000) else {
        return String::new();
    };
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        at.year(),
        at.month() as u8,
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    if at.microsecond() != 0 {
        text.push_str(&format!(".{:06}", at.microsecond()));
    }
    text + "+00:00"
}

/// The epoch timestamp Home Assistant puts in compressed states (`last_changed_timestamp`).
fn timestamp(micros: i64) -> f64 {
    micros as f64 / 1e6
}

impl Entity {
    pub(crate) fn new(id: &str, state: &str, attributes: Value) -> Entity {
        Entity {
            id: id.to_owned(),
            state: state.to_owned(),
            attributes: attributes.as_object().cloned().unwrap_or_default(),
            last_changed: EPOCH_MICROS,
            last_updated: EPOCH_MICROS,
            context: Context {
                id: "01STANDIN".into(),
                parent_id: None,
                user_id: None,
            },
        }
    }

    /// The state as `get_states` and `state_changed` carry it.
    pub(crate) fn full(&self) -> Value {
        json!({"entity_id": self.id, "state": self.state, "attributes": self.attributes,
               "last_changed": isoformat(self.last_changed), "last_updated": isoformat(self.last_updated),
               "context": self.context.to_json()})
    }

    pub(crate) fn updated_iso(&self) -> String {
        isoformat(self.last_updated)
    }

    /// `State.as_compressed_state`: the context's id alone when it has no parent and no
    /// user; `lu` only when it differs from `lc`.
    pub(crate) fn compressed(&self) -> Value {
        let context = if self.context.parent_id.is_none() && self.context.user_id.is_none() {
            json!(self.context.id)
        } else {
            self.context.to_json()
        };
        let mut c = json!({"s": self.state, "a": self.attributes, "c": context,
                           "lc": timestamp(self.last_changed)});
        if self.last_changed != self.last_updated {
            c["lu"] = json!(timestamp(self.last_updated));
        }
        c
    }
}

/// `_state_diff(old, new)`: `+` holds what was added or changed, `-` the attributes removed.
pub(crate) fn state_diff(old: &Entity, new: &Entity) -> Value {
    let mut additions = Map::new();
    if old.state != new.state {
        additions.insert("s".into(), json!(new.state));
    }
    if old.last_changed != new.last_changed {
        additions.insert("lc".into(), json!(timestamp(new.last_changed)));
    } else if old.last_updated != new.last_updated {
        additions.insert("lu".into(), json!(timestamp(new.last_updated)));
    }
    let mut context = Map::new();
    if old.context.parent_id != new.context.parent_id {
        context.insert("parent_id".into(), json!(new.context.parent_id));
    }
    if old.context.user_id != new.context.user_id {
        context.insert("user_id".into(), json!(new.context.user_id));
    }
    if old.context.id != new.context.id {
        if context.is_empty() {
            additions.insert("c".into(), json!(new.context.id));
        } else {
            context.insert("id".into(), json!(new.context.id));
        }
    }
    if !context.is_empty() {
        additions.insert("c".into(), Value::Object(context));
    }
    let mut diff = Map::new();
    if old.attributes != new.attributes {
        let added: Map<String, Value> = new
            .attributes
            .iter()
            .filter(|(k, v)| old.attributes.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !added.is_empty() {
            additions.insert("a".into(), Value::Object(added));
        }
        let removed: Vec<&String> = old
            .attributes
            .keys()
            .filter(|k| !new.attributes.contains_key(*k))
            .collect();
        if !removed.is_empty() {
            diff.insert("-".into(), json!({"a": removed}));
        }
    }
    diff.insert("+".into(), Value::Object(additions));
    Value::Object(diff)
}

/// A change of one entity: added (`old` none), changed, or removed (`new` none).
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub old: Option<Entity>,
    pub new: Option<Entity>,
}

impl Change {
    pub(crate) fn entity_id(&self) -> &str {
        self.new
            .as_ref()
            .or(self.old.as_ref())
            .map_or("", |e| e.id.as_str())
    }

    /// The `subscribe_entities` event for it.
    pub(crate) fn entities_event(&self) -> Value {
        match (&self.old, &self.new) {
            (Some(old), Some(new)) => json!({"c": {new.id.clone(): state_diff(old, new)}}),
            (None, Some(new)) => json!({"a": {new.id.clone(): new.compressed()}}),
            (Some(old), None) => json!({"r": [old.id]}),
            (None, None) => json!({}),
        }
    }

    /// The `state_changed` event for it.
    pub(crate) fn state_changed(&self) -> Value {
        let fired = self
            .new
            .as_ref()
            .or(self.old.as_ref())
            .map(Entity::updated_iso)
            .unwrap_or_default();
        let context = self
            .new
            .as_ref()
            .or(self.old.as_ref())
            .map(|e| e.context.to_json())
            .unwrap_or_default();
        json!({"event_type": "state_changed",
               "data": {"entity_id": self.entity_id(),
                        "old_state": self.old.as_ref().map(Entity::full),
                        "new_state": self.new.as_ref().map(Entity::full)},
               "origin": "LOCAL", "time_fired": fired, "context": context})
    }

    /// The `subscribe_trigger` events of `triggers` (state triggers) it fires.
    pub(crate) fn trigger_events(&self, triggers: &[Value]) -> Vec<Value> {
        let mut fired = Vec::new();
        for (idx, trigger) in triggers.iter().enumerate() {
            if !state_trigger_matches(trigger, self) {
                continue;
            }
            let context = self
                .new
                .as_ref()
                .map(|e| e.context.to_json())
                .unwrap_or_default();
            fired.push(json!({"variables": {"trigger": {
                "id": trigger.get("id").cloned().unwrap_or_else(|| json!(idx.to_string())),
                "idx": idx.to_string(), "alias": null, "platform": "state",
                "entity_id": self.entity_id(),
                "from_state": self.old.as_ref().map(Entity::full),
                "to_state": self.new.as_ref().map(Entity::full),
                "for": null, "attribute": null,
                "description": format!("state of {}", self.entity_id())}},
                "context": context}));
        }
        fired
    }
}

/// Whether `trigger` is a state trigger this stand-in understands (`platform` or
/// `trigger`: `state`, an `entity_id` or a list, optional `from` / `to`).
pub(crate) fn is_state_trigger(trigger: &Value) -> bool {
    let platform = trigger
        .get("platform")
        .or_else(|| trigger.get("trigger"))
        .and_then(Value::as_str);
    platform == Some("state") && trigger.get("entity_id").is_some()
}

fn state_trigger_matches(trigger: &Value, change: &Change) -> bool {
    let ids = match &trigger["entity_id"] {
        Value::String(id) => vec![id.as_str()],
        Value::Array(ids) => ids.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !ids.contains(&change.entity_id()) {
        return false;
    }
    let state = |e: &Option<Entity>| e.as_ref().map(|e| e.state.clone());
    let (from, to) = (state(&change.old), state(&change.new));
    if from == to {
        return false;
    }
    let wanted = |key: &str, got: &Option<String>| match trigger.get(key).and_then(Value::as_str) {
        Some(w) => got.as_deref() == Some(w),
        None => true,
    };
    wanted("from", &from) && wanted("to", &to)
}
