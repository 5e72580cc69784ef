//! The live connections: what the Management API posts to, reads and closes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use super::event::Peer;
use super::ids::now_ms;

/// Messages of one connection its function may be answering at once; the connection's
/// next frame waits for a free one.
pub(crate) const MESSAGES_IN_FLIGHT: usize = 16;

/// What the connection's task is asked to do.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// Send a frame (a post, or a route's answer).
    Frame(Message, usize),
    /// Close with `code` (`DELETE @connections`); `$disconnect` reports `code` and `reason`.
    Close { code: u16, reason: String },
}

/// One established connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub peer: Peer,
    last_active: AtomicI64,
    queued: AtomicUsize,
    outbox: mpsc::UnboundedSender<Outgoing>,
    pub in_flight: Arc<Semaphore>,
}

/// A post the connection cannot take now (its client is not reading fast enough).
#[derive(Debug)]
pub(crate) struct Full;

impl Conn {
    pub fn new(peer: Peer) -> (Arc<Conn>, mpsc::UnboundedReceiver<Outgoing>) {
        let (outbox, rx) = mpsc::unbounded_channel();
        let conn = Conn {
            last_active: AtomicI64::new(peer.connected_at),
            peer,
            queued: AtomicUsize::new(0),
            outbox,
            in_flight: Arc::new(Semaphore::new(MESSAGES_IN_FLIGHT)),
        };
        (Arc::new(conn), rx)
    }

    /// Queues `data` unless `limit` bytes are already waiting for the client.
    pub fn post(&self, data: Vec<u8>, limit: usize) -> Result<(), Full> {
        let len = data.len();
        let waiting = self.queued.fetch_add(len, Ordering::SeqCst);
        if waiting > 0 && waiting + len > limit {
            self.queued.fetch_sub(len, Ordering::SeqCst);
            return Err(Full);
        }
        self.touch();
        let frame = match String::from_utf8(data) {
            Ok(text) => Message::text(text),
            Err(e) => Message::binary(e.into_bytes()),
        };
        if self.outbox.send(Outgoing::Frame(frame, len)).is_err() {
            self.queued.fetch_sub(len, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Queues a route's answer or an error message for the sender (not limited: one per
    /// message, and the messages in flight are).
    pub fn reply(&self, text: String) {
        let len = text.len();
        self.queued.fetch_add(len, Ordering::SeqCst);
        if self
            .outbox
            .send(Outgoing::Frame(Message::text(text), len))
            .is_err()
        {
            self.queued.fetch_sub(len, Ordering::SeqCst);
        }
    }

    /// Asks the connection to close.
    pub fn close(&self, code: u16, reason: &str) {
        let _ = self.outbox.send(Outgoing::Close {
            code,
            reason: reason.to_owned(),
        });
    }

    /// `len` queued bytes went out (or were dropped).
    pub fn sent(&self, len: usize) {
        self.queued.fetch_sub(len, Ordering::SeqCst);
    }

    /// The client or a post was active now.
    pub fn touch(&self) {
        self.last_active.store(now_ms(), Ordering::SeqCst);
    }

    /// When it was last active (epoch ms).
    pub fn last_active_ms(&self) -> i64 {
        self.last_active.load(Ordering::SeqCst)
    }
}

/// The established connections by id.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    live: Mutex<HashMap<String, Arc<Conn>>>,
}

impl Registry {
    pub fn insert(&self, conn: Arc<Conn>) {
        self.live
            .lock()
            .insert(conn.peer.connection_id.clone(), conn);
    }

    pub fn get(&self, id: &str) -> Option<Arc<Conn>> {
        self.live.lock().get(id).cloned()
    }

    pub fn remove(&self, id: &str) -> Option<Arc<Conn>> {
        self.live.lock().remove(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.live.lock().contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.live.lock().len()
    }

    pub fn all(&self) -> Vec<Arc<Conn>> {
        self.live.lock().values().cloned().collect()
    }
}
