//! Messages that arrived for someone else, kept in order for their reader and bounded in
//! count and in bytes.

use std::collections::{HashMap, VecDeque};

use crate::protocol::HaMessage;

/// Messages kept for later readers at most; beyond it the oldest is dropped and counted.
pub const BACKLOG_LIMIT: usize = 10_000;

/// Bytes kept for later readers at most (events of 8 MiB: one fits); beyond it the oldest
/// are dropped and counted. The process's budget of held bytes
/// ([`websocket::HeldBytes`]) bounds all backlogs and held connections together.
pub const BACKLOG_LIMIT_BYTES: usize = 8 << 20;

/// Subscriptions whose dropped events are counted apart at most.
const DROP_COUNTS: usize = 1024;

/// A bounded queue of messages.
#[derive(Debug, Default)]
pub(crate) struct Backlog {
    messages: VecDeque<HaMessage>,
    bytes: usize,
    /// Messages dropped to stay within the bounds.
    pub(crate) dropped: u64,
    /// Events dropped, by subscription (wire id), until their reader asks: a gap to report.
    dropped_events: HashMap<u64, u64>,
    /// The bytes kept, charged to the process's budget of held bytes.
    held: websocket::HeldCharge,
}

impl Backlog {
    /// Keeps `message`, dropping the oldest while either bound — or the process's budget
    /// of held bytes — would be passed; returns how many messages were dropped.
    pub(crate) fn push(&mut self, message: HaMessage) -> u64 {
        let before = self.dropped;
        let size = message.size();
        while !self.messages.is_empty()
            && (self.messages.len() >= BACKLOG_LIMIT
                || self.bytes + size > BACKLOG_LIMIT_BYTES
                || !self.held.try_set(self.bytes + size))
        {
            self.pop_front();
        }
        if size > BACKLOG_LIMIT_BYTES || !self.held.try_set(self.bytes + size) {
            self.dropped += 1;
            self.count_drop(&message);
            return self.dropped - before;
        }
        self.bytes += size;
        self.messages.push_back(message);
        self.dropped - before
    }

    fn pop_front(&mut self) {
        if let Some(old) = self.messages.pop_front() {
            self.bytes -= old.size();
            self.held.set(self.bytes);
            self.dropped += 1;
            self.count_drop(&old);
        }
    }

    /// Counted by subscription; a server inventing ids cannot grow the count past
    /// [`DROP_COUNTS`] entries (later ids are counted in the total only).
    fn count_drop(&mut self, message: &HaMessage) {
        if let HaMessage::Event { id, .. } = message {
            if self.dropped_events.len() < DROP_COUNTS || self.dropped_events.contains_key(id) {
                *self.dropped_events.entry(*id).or_default() += 1;
            }
        }
    }

    /// Events of subscription `id` dropped since the last time it was asked.
    pub(crate) fn take_dropped(&mut self, id: u64) -> u64 {
        self.dropped_events.remove(&id).unwrap_or(0)
    }

    /// Takes out the first message `wanted` accepts.
    pub(crate) fn take(&mut self, wanted: impl Fn(&HaMessage) -> bool) -> Option<HaMessage> {
        let pos = self.messages.iter().position(wanted)?;
        let found = self.messages.remove(pos)?;
        self.bytes -= found.size();
        self.held.set(self.bytes);
        Some(found)
    }

    /// Drops every message `unwanted` accepts.
    pub(crate) fn forget(&mut self, unwanted: impl Fn(&HaMessage) -> bool) {
        let mut bytes = 0;
        self.messages.retain(|m| {
            let keep = !unwanted(m);
            if keep {
                bytes += m.size();
            }
            keep
        });
        self.bytes = bytes;
        self.held.set(bytes);
    }

    /// Messages waiting.
    pub(crate) fn len(&self) -> usize {
        self.messages.len()
    }

    /// Bytes waiting.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    fn event(id: u64, size: usize) -> HaMessage {
        let text = format!("\"{}\"", "x".repeat(size));
        HaMessage::Event {
            id,
            event: RawValue::from_string(text).unwrap(),
        }
    }

    #[test]
    fn bounded_in_bytes_oldest_first() {
        let mut backlog = Backlog::default();
        for i in 0..20 {
            backlog.push(event(i, 1 << 20));
        }
        assert!(backlog.bytes() <= BACKLOG_LIMIT_BYTES);
        assert!(backlog.len() < 20);
        assert_eq!(backlog.dropped as usize, 20 - backlog.len());
        // The newest survive.
        assert!(backlog
            .take(|m| matches!(m, HaMessage::Event { id: 19, .. }))
            .is_some());
        assert!(backlog
            .take(|m| matches!(m, HaMessage::Event { id: 0, .. }))
            .is_none());
    }

    #[test]
    fn bounded_in_count() {
        let mut backlog = Backlog::default();
        for i in 0..(BACKLOG_LIMIT as u64 + 5) {
            backlog.push(event(i, 1));
        }
        assert_eq!(backlog.len(), BACKLOG_LIMIT);
        assert_eq!(backlog.dropped, 5);
    }
}
