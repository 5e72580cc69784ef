//! The process's budget for bytes that held connections keep between calls: partial frames
//! and messages a timed-out receive left half read, and messages kept for a later reader
//! (Home Assistant's backlog). Every core of the process, and every client built on one,
//! draws on the same budget, so a 128 MB Lambda stays within its memory however many
//! connections it holds.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The default budget: 32 MiB, which leaves a 128 MB Lambda room for its runtime and for
/// one maximum-size message being read and answered (about 3× its size at the peak).
pub const DEFAULT_HELD_BYTES_LIMIT: usize = 32 << 20;

static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_HELD_BYTES_LIMIT);
static USED: AtomicUsize = AtomicUsize::new(0);

/// The process-wide budget of held bytes.
///
/// ```
/// use websocket::HeldBytes;
/// assert!(HeldBytes::used() <= HeldBytes::limit());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HeldBytes;

impl HeldBytes {
    /// The budget in bytes (default [`DEFAULT_HELD_BYTES_LIMIT`]).
    pub fn limit() -> usize {
        LIMIT.load(Ordering::Relaxed)
    }

    /// Sets the budget for the whole process. Bytes already held stay held; only growth is
    /// refused while more than `bytes` are held.
    ///
    /// ```
    /// websocket::HeldBytes::set_limit(websocket::DEFAULT_HELD_BYTES_LIMIT);
    /// ```
    pub fn set_limit(bytes: usize) {
        LIMIT.store(bytes, Ordering::Relaxed);
    }

    /// Bytes held now, across the process.
    pub fn used() -> usize {
        USED.load(Ordering::Relaxed)
    }
}

/// One holder's share of the budget; released when dropped.
///
/// ```
/// let mut charge = websocket::HeldCharge::default();
/// assert!(charge.try_set(1024));
/// assert_eq!(charge.bytes(), 1024);
/// assert!(!charge.try_set(usize::MAX));
/// ```
#[derive(Debug, Default)]
pub struct HeldCharge {
    bytes: usize,
}

impl HeldCharge {
    /// The bytes this holder has charged.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Charges `bytes` in all for this holder; false (and nothing changed) when growing to
    /// it would pass the budget. Shrinking always succeeds.
    pub fn try_set(&mut self, bytes: usize) -> bool {
        if bytes <= self.bytes {
            USED.fetch_sub(self.bytes - bytes, Ordering::Relaxed);
            self.bytes = bytes;
            return true;
        }
        let grow = bytes - self.bytes;
        let limit = HeldBytes::limit();
        let admitted = USED
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(grow).filter(|&after| after <= limit)
            })
            .is_ok();
        if admitted {
            self.bytes = bytes;
        }
        admitted
    }

    /// Charges `bytes` in all, over the budget if need be (what is already in memory and
    /// small, such as the read-ahead after a message).
    pub fn set(&mut self, bytes: usize) {
        if bytes >= self.bytes {
            USED.fetch_add(bytes - self.bytes, Ordering::Relaxed);
        } else {
            USED.fetch_sub(self.bytes - bytes, Ordering::Relaxed);
        }
        self.bytes = bytes;
    }
}

impl Drop for HeldCharge {
    fn drop(&mut self) {
        self.set(0);
    }
}
