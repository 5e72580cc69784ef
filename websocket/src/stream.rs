//! A TCP stream that refuses to block past a deadline, with or without TLS on top.
//!
//! Every read and write re-arms the socket timeout with the time left (unless it was armed
//! for the same deadline less than a millisecond ago), so a peer that trickles bytes cannot
//! stretch an operation past its deadline by more than that millisecond. An expired deadline reads
//! as `WouldBlock`, which tungstenite and native-tls treat as "try again later" and keep
//! their partial state, so nothing half-read is lost.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The error a read answers once more than the upgrade's byte budget was read.
#[derive(Debug)]
pub(crate) struct UpgradeBudgetSpent;

impl std::fmt::Display for UpgradeBudgetSpent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the upgrade response is too large")
    }
}

impl std::error::Error for UpgradeBudgetSpent {}

/// How late a socket timeout may fire past the deadline before it is set again: setting it
/// costs a system call, and a request makes a dozen reads and writes within a millisecond.
const REARM_SLACK: Duration = Duration::from_millis(1);

/// When a socket timeout was set, and for which deadline.
#[derive(Debug, Clone, Copy)]
struct Armed {
    at: Instant,
    deadline: Instant,
}

/// TCP with a deadline, and while upgrading a budget of bytes it may read.
#[derive(Debug)]
pub(crate) struct DeadlineTcp {
    tcp: TcpStream,
    deadline: Instant,
    read_budget: Option<usize>,
    read_armed: Option<Armed>,
    write_armed: Option<Armed>,
}

/// Whether the socket timeout must be set again: it was never set, it was set for another
/// deadline, or it was set so long ago that it would fire more than [`REARM_SLACK`] late.
fn needs_arming(armed: Option<Armed>, deadline: Instant, now: Instant) -> bool {
    match armed {
        Some(a) => a.deadline != deadline || now.saturating_duration_since(a.at) > REARM_SLACK,
        None => true,
    }
}

impl DeadlineTcp {
    pub(crate) fn new(tcp: TcpStream, deadline: Instant) -> Self {
        DeadlineTcp {
            tcp,
            deadline,
            read_budget: None,
            read_armed: None,
            write_armed: None,
        }
    }

    /// The time left, or `WouldBlock` once the deadline has passed.
    fn remaining(&self, now: Instant) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(now);
        if left.is_zero() {
            Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "deadline reached",
            ))
        } else {
            Ok(left)
        }
    }
}

impl Read for DeadlineTcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let now = Instant::now();
        let left = self.remaining(now)?;
        let buf = match self.read_budget {
            Some(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    UpgradeBudgetSpent,
                ))
            }
            Some(budget) => {
                let n = buf.len().min(budget);
                &mut buf[..n]
            }
            None => buf,
        };
        if needs_arming(self.read_armed, self.deadline, now) {
            self.tcp.set_read_timeout(Some(left))?;
            self.read_armed = Some(Armed {
                at: now,
                deadline: self.deadline,
            });
        }
        let n = self.tcp.read(buf)?;
        if let Some(budget) = &mut self.read_budget {
            *budget -= n;
        }
        Ok(n)
    }
}

impl Write for DeadlineTcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let now = Instant::now();
        let left = self.remaining(now)?;
        if needs_arming(self.write_armed, self.deadline, now) {
            self.tcp.set_write_timeout(Some(left))?;
            self.write_armed = Some(Armed {
                at: now,
                deadline: self.deadline,
            });
        }
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// The stream under a WebSocket: plain for `ws://`, TLS for `wss://`.
#[derive(Debug)]
pub(crate) enum Stream {
    Plain(DeadlineTcp),
    Tls(Box<openssl::ssl::SslStream<DeadlineTcp>>),
}

impl Stream {
    fn tcp_mut(&mut self) -> &mut DeadlineTcp {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_mut(),
        }
    }

    /// Sets the instant after which reads and writes fail with `WouldBlock`.
    pub(crate) fn set_deadline(&mut self, deadline: Instant) {
        self.tcp_mut().deadline = deadline;
    }

    /// Limits the bytes reads may return from now on (`None`: no limit). While TLS is on,
    /// the limit counts the encrypted bytes, which are never fewer.
    pub(crate) fn set_read_budget(&mut self, budget: Option<usize>) {
        self.tcp_mut().read_budget = budget;
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Whether an I/O error means "the deadline or socket timeout fired".
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Whether an I/O error means "the peer went away".
pub(crate) fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::NotConnected
    )
}
