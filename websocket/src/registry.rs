//! The registry of open connections: handles, places, and the RAII reservation of a place
//! while a connection is being opened.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::connection::Connection;
use crate::error::{Error, Result};

/// The name of an open connection in a core's registry, such as `"ws-1"`.
///
/// It is plain text, so it crosses a JSON boundary and stays valid between invocations of
/// a warm Lambda container for as long as the connection is open. Handles are never reused.
///
/// ```
/// let handle = websocket::ConnectionHandle::from("ws-1");
/// assert_eq!(handle.as_str(), "ws-1");
/// assert_eq!(serde_json::to_string(&handle).unwrap(), "\"ws-1\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionHandle(String);

impl ConnectionHandle {
    /// The handle's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ConnectionHandle {
    fn from(s: &str) -> Self {
        ConnectionHandle(s.to_owned())
    }
}

impl From<String> for ConnectionHandle {
    fn from(s: String) -> Self {
        ConnectionHandle(s)
    }
}

impl std::fmt::Display for ConnectionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A registered connection (`None` once taken by a close) and the timeout it was opened
/// with, which its sends use by default.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) timeout: Duration,
    pub(crate) connection: Mutex<Option<Connection>>,
}

pub(crate) type Slot = Arc<Entry>;

#[derive(Debug, Default)]
struct Places {
    open: HashMap<String, Slot>,
    reserved: usize,
    next_id: u64,
}

/// Open connections by handle, bounded in number.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    places: Mutex<Places>,
}

impl Registry {
    /// Holds a place for a connection about to be opened, or refuses when `max` are taken.
    pub(crate) fn reserve(&self, max: usize) -> Result<Reservation<'_>> {
        let mut places = self.places.lock();
        if places.open.len() + places.reserved >= max {
            return Err(Error::RegistryFull { max });
        }
        places.reserved += 1;
        Ok(Reservation {
            registry: self,
            filled: false,
        })
    }

    pub(crate) fn lookup(&self, handle: &str) -> Result<Slot> {
        self.places
            .lock()
            .open
            .get(handle)
            .cloned()
            .ok_or_else(|| no_connection(handle))
    }

    pub(crate) fn remove(&self, handle: &str) -> Option<Slot> {
        self.places.lock().open.remove(handle)
    }

    /// Empties the registry, returning what it held.
    pub(crate) fn drain(&self) -> Vec<Slot> {
        self.places.lock().open.drain().map(|(_, s)| s).collect()
    }

    /// Handles of the open connections, in the order they were opened.
    pub(crate) fn handles(&self) -> Vec<ConnectionHandle> {
        let mut handles: Vec<String> = self.places.lock().open.keys().cloned().collect();
        handles.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        handles.into_iter().map(ConnectionHandle).collect()
    }
}

/// The error for a handle that names no open connection.
pub(crate) fn no_connection(handle: &str) -> Error {
    Error::NoConnection {
        handle: handle.into(),
    }
}

/// A registry place held while a connection is being opened; released if never filled.
#[derive(Debug)]
pub(crate) struct Reservation<'a> {
    registry: &'a Registry,
    filled: bool,
}

impl Reservation<'_> {
    /// Registers the opened connection and returns its handle.
    pub(crate) fn fill(mut self, connection: Connection, timeout: Duration) -> ConnectionHandle {
        let mut places = self.registry.places.lock();
        places.reserved -= 1;
        self.filled = true;
        places.next_id += 1;
        let id = format!("ws-{}", places.next_id);
        let entry = Entry {
            timeout,
            connection: Mutex::new(Some(connection)),
        };
        places.open.insert(id.clone(), Arc::new(entry));
        ConnectionHandle(id)
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.filled {
            self.registry.places.lock().reserved -= 1;
        }
    }
}
