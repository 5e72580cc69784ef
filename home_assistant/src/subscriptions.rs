//! Subscriptions that outlive a session: the caller's id stays, the wire id changes with
//! each session, and a read after a reconnect (or after the backlog dropped events) reports
//! the gap before the events that follow it.

use std::collections::BTreeMap;

use contract::Deadline;
use debug::debug_line;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::answers::HaResult;
use crate::entities::{EntityFold, EntityState};
use crate::error::{CommandFailure, Error, Result};
use crate::protocol::HaMessage;
use crate::session::{Command, HaSession};
use crate::SCOPE;

/// Subscriptions one session (one URL and token) holds at most.
pub const MAX_SUBSCRIPTIONS: usize = 64;

/// What a subscription listens to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Topic {
    /// `subscribe_events`, of one type or all.
    Events(Option<String>),
    /// `subscribe_trigger` with its trigger and variables.
    Trigger {
        trigger: Value,
        variables: Option<Value>,
    },
    /// `subscribe_entities`, of some entities or all.
    Entities(Option<Vec<String>>),
}

impl Topic {
    /// The command that establishes it.
    pub(crate) fn command(&self) -> Command {
        match self {
            Topic::Events(None) => Command::new("subscribe_events"),
            Topic::Events(Some(t)) => {
                Command::new("subscribe_events").with("event_type", t.as_str())
            }
            Topic::Trigger { trigger, variables } => {
                let command = Command::new("subscribe_trigger").with("trigger", trigger.clone());
                match variables {
                    Some(v) => command.with("variables", v.clone()),
                    None => command,
                }
            }
            Topic::Entities(None) => Command::new("subscribe_entities"),
            Topic::Entities(Some(ids)) => {
                Command::new("subscribe_entities").with("entity_ids", json!(ids))
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Topic::Events(_) => "subscribe_events",
            Topic::Trigger { .. } => "subscribe_trigger",
            Topic::Entities(_) => "subscribe_entities",
        }
    }
}

/// Events may have been missed: the session was replaced, or the backlog dropped some.
///
/// ```
/// let gap = home_assistant::Gap { reconnected: true, dropped: 0 };
/// assert_eq!(serde_json::to_value(gap).unwrap()["reconnected"], true);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// The session was replaced and the subscription made again: whatever happened in
    /// between was not seen.
    pub reconnected: bool,
    /// Events the backlog dropped to stay within its bounds.
    pub dropped: u64,
}

impl Gap {
    fn add(&mut self, other: Gap) {
        self.reconnected |= other.reconnected;
        self.dropped += other.dropped;
    }
}

/// What a read of a subscription returns: a gap, when there was one, then events in order.
///
/// ```
/// let events = home_assistant::Events { subscription: 1, gap: None, events: vec![] };
/// assert!(events.events.is_empty());
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct Events {
    /// The subscription's id (the caller's, stable across reconnects).
    pub subscription: u64,
    /// Events may have been missed before the first of `events`.
    pub gap: Option<Gap>,
    /// The `event` objects, in order. For `subscribe_entities`, one
    /// `{"entity_id", "new_state"}` per entity changed, `new_state` the full state after the
    /// change (`null`: removed).
    pub events: Vec<HaResult>,
}

#[derive(Debug)]
struct Subscription {
    topic: Topic,
    /// Its id on the current session; `None` until made there.
    wire: Option<u64>,
    /// To report on the next read.
    gap: Option<Gap>,
    /// Home Assistant refused to make it again after a reconnect.
    refused: Option<CommandFailure>,
    /// For `subscribe_entities`: the states so far.
    fold: EntityFold,
}

/// The subscriptions of one pooled session, by the caller's id.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    next: u64,
    list: BTreeMap<u64, Subscription>,
}

impl Subscriptions {
    /// Subscriptions held.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// Subscriptions to be made on the next session.
    pub(crate) fn pending(&self) -> usize {
        self.list
            .values()
            .filter(|s| s.wire.is_none() && s.refused.is_none())
            .count()
    }

    /// Makes a subscription on `session`; returns the caller's id.
    pub(crate) fn add(
        &mut self,
        session: &mut HaSession,
        topic: Topic,
        budget: &Deadline,
    ) -> Result<u64> {
        if self.list.len() >= MAX_SUBSCRIPTIONS {
            return Err(Error::TooManySubscriptions {
                max: MAX_SUBSCRIPTIONS,
            });
        }
        let (wire, reply) = session.exchange(&topic.command(), budget)?;
        crate::operations::interpret(session, reply, Some(topic.kind()))?;
        self.next += 1;
        let id = self.next;
        debug_line!(
            SCOPE,
            "Subscribed (subscription={id}, type={}, wire_id={wire}, session={})",
            topic.kind(),
            session.name
        );
        self.list.insert(
            id,
            Subscription {
                topic,
                wire: Some(wire),
                gap: None,
                refused: None,
                fold: EntityFold::default(),
            },
        );
        Ok(id)
    }

    /// The session they were made on is gone: each is to be made again, with a gap.
    pub(crate) fn lost(&mut self) {
        for sub in self.list.values_mut() {
            if sub.wire.take().is_some() {
                sub.gap.get_or_insert_with(Gap::default).reconnected = true;
            }
        }
    }

    /// Makes every subscription that is not on `session` yet: all commands sent first,
    /// then their answers read (one round trip for all). A refusal is kept for the
    /// subscription's next read.
    pub(crate) fn establish(&mut self, session: &mut HaSession, budget: &Deadline) -> Result<()> {
        let mut sent = Vec::new();
        for (id, sub) in self
            .list
            .iter_mut()
            .filter(|(_, s)| s.wire.is_none() && s.refused.is_none())
        {
            let wire = session.send(&sub.topic.command(), budget)?;
            // Events may follow before the answer is read: they are this subscription's.
            sub.wire = Some(wire);
            sub.fold.clear();
            sent.push((*id, wire));
        }
        for (id, wire) in sent {
            let reply = session.wait(
                budget,
                |m| matches!(m, HaMessage::Result { id: i, .. } if *i == wire),
            );
            let reply = match reply {
                Ok(reply) => reply,
                Err(e) => {
                    session.abandon(wire);
                    return Err(e);
                }
            };
            let Some(sub) = self.list.get_mut(&id) else {
                continue;
            };
            match crate::operations::interpret(session, reply, Some(sub.topic.kind())) {
                Ok(_) => debug_line!(
                    SCOPE,
                    "Subscribed again (subscription={id}, wire_id={wire}, session={})",
                    session.name
                ),
                Err(Error::CommandFailed(failure)) => {
                    debug_line!(
                        SCOPE,
                        "Home Assistant refused the subscription again (subscription={id}, ha_error_code={})",
                        failure.code
                    );
                    sub.wire = None;
                    sub.refused = Some(*failure);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Ends subscription `id`: an `unsubscribe_events` when it is on the session (its
    /// answer awaited; a refusal is Home Assistant's word), its buffered events forgotten.
    pub(crate) fn remove(
        &mut self,
        session: &mut HaSession,
        id: u64,
        budget: &Deadline,
    ) -> Result<()> {
        let sub = self
            .list
            .remove(&id)
            .ok_or(Error::NoSubscription { subscription: id })?;
        let Some(wire) = sub.wire else {
            return Ok(());
        };
        session.forget_events(wire);
        let command = Command::new("unsubscribe_events").with("subscription", wire);
        let (_, reply) = session.exchange(&command, budget)?;
        crate::operations::interpret(session, reply, Some("unsubscribe_events")).map(drop)
    }

    /// Forgets subscription `id` without telling Home Assistant (its session is gone).
    pub(crate) fn forget(&mut self, id: u64) -> Result<()> {
        self.list
            .remove(&id)
            .map(drop)
            .ok_or(Error::NoSubscription { subscription: id })
    }

    /// The states a `subscribe_entities` subscription folded so far.
    pub(crate) fn entity_states(&self, id: u64) -> Result<Vec<EntityState>> {
        let sub = self
            .list
            .get(&id)
            .ok_or(Error::NoSubscription { subscription: id })?;
        match sub.topic {
            Topic::Entities(_) => Ok(sub.fold.states()),
            _ => Err(Error::invalid_parameter(
                "subscription",
                "is not a subscribe_entities subscription",
            )),
        }
    }

    /// Reads subscription `id`: a gap first when there is one (then only what is already
    /// received comes with it), else up to `count` events, waiting until `budget` for the
    /// first and taking the others that are already received. A connection that fails
    /// after some events were read answers those (the failure shows on the next read).
    pub(crate) fn next_events(
        &mut self,
        session: &mut HaSession,
        id: u64,
        count: usize,
        budget: &Deadline,
    ) -> Result<Events> {
        let sub = self
            .list
            .get_mut(&id)
            .ok_or(Error::NoSubscription { subscription: id })?;
        if let Some(failure) = &sub.refused {
            return Err(Error::CommandFailed(Box::new(CommandFailure {
                code: failure.code.clone(),
                message: failure.message.clone(),
                command_type: failure.command_type.clone(),
            })));
        }
        let Some(wire) = sub.wire else {
            // Not made on this session yet (the next call makes it again).
            return Ok(Events {
                subscription: id,
                gap: sub.gap.take(),
                events: Vec::new(),
            });
        };
        let count = count.max(1);
        let mut gap = sub.gap.take();
        let dropped = session.take_dropped(wire);
        if dropped > 0 {
            gap.get_or_insert_with(Gap::default).add(Gap {
                reconnected: false,
                dropped,
            });
        }
        if dropped > 0 && matches!(sub.topic, Topic::Entities(_)) {
            // A dropped diff leaves the fold wrong: the subscription is made again on the
            // next call, from a fresh snapshot.
            let unsubscribe = Command::new("unsubscribe_events").with("subscription", wire);
            if let Ok(unsub) = session.send(&unsubscribe, budget) {
                session.abandon(unsub);
            }
            session.forget_events(wire);
            sub.wire = None;
            return Ok(Events {
                subscription: id,
                gap,
                events: Vec::new(),
            });
        }
        let is_mine = |m: &HaMessage| matches!(m, HaMessage::Event { id, .. } if *id == wire);
        let mut events = Vec::new();
        while events.len() < count {
            let next = if gap.is_some() || !events.is_empty() {
                session.take_kept(is_mine)
            } else {
                match session.wait(budget, is_mine) {
                    Ok(m) => Some(m),
                    // Nothing came in time: an empty read, the session goes on.
                    Err(e) if !e.breaks_session() && e.is_transport() => None,
                    Err(e) if events.is_empty() => return Err(e),
                    Err(_) => None,
                }
            };
            let Some(HaMessage::Event { event, .. }) = next else {
                break;
            };
            match sub.topic {
                Topic::Entities(_) => {
                    for (entity_id, state) in sub.fold.apply(&event)? {
                        let change = json!({"entity_id": entity_id, "new_state": state});
                        events.push(HaResult(to_raw(&change)));
                    }
                }
                _ => events.push(HaResult(event)),
            }
        }
        Ok(Events {
            subscription: id,
            gap,
            events,
        })
    }
}

fn to_raw(value: &Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| crate::protocol::null())
}
