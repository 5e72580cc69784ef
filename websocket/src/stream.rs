//! A TCP stream that refuses to block past a deadline, with or without TLS on top.
//!
//! The socket is non-blocking; a read or write that would block waits in `poll()` for the
//! time left, in slices of at most [`WAIT_SLICE`], re-checking the monotonic deadline after
//! each. `poll()` sleeps on a high-resolution timer whose slack is 0.1 % of the wait, so a
//! slice of 250 ms wakes at most about 0.25 ms late however long the deadline — unlike
//! `SO_RCVTIMEO` / `SO_SNDTIMEO`, which Linux's timer wheel rounds up by up to 0.5 s at 30 s.
//! An expired deadline reads as `WouldBlock`, which tungstenite and OpenSSL treat as "try
//! again later" and keep their partial state, so nothing half-read is lost.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use socket2::{Domain, Protocol, Socket, Type};

use crate::held::HeldCharge;

/// The error a read answers once more than the upgrade's byte budget was read.
#[derive(Debug)]
pub(crate) struct UpgradeBudgetSpent;

impl std::fmt::Display for UpgradeBudgetSpent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the upgrade response is too large")
    }
}

impl std::error::Error for UpgradeBudgetSpent {}

/// The error a read answers when what the connection holds would pass the process's
/// budget of held bytes.
#[derive(Debug)]
pub(crate) struct HeldBudgetSpent;

impl std::fmt::Display for HeldBudgetSpent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the process's budget of held bytes is spent")
    }
}

impl std::error::Error for HeldBudgetSpent {}

/// The longest single `poll()`: its timer's slack (0.1 % of the wait) is what a deadline can
/// be missed by, so the wait is cut into slices this long.
pub(crate) const WAIT_SLICE: Duration = Duration::from_millis(250);

/// TCP with a deadline, and while upgrading a budget of bytes it may read.
#[derive(Debug)]
pub(crate) struct DeadlineTcp {
    tcp: TcpStream,
    deadline: Instant,
    read_budget: Option<usize>,
}

impl DeadlineTcp {
    /// Wraps a connected socket, switching it to non-blocking mode.
    pub(crate) fn new(tcp: TcpStream, deadline: Instant) -> io::Result<Self> {
        tcp.set_nonblocking(true)?;
        Ok(DeadlineTcp {
            tcp,
            deadline,
            read_budget: None,
        })
    }

    fn wait(&self, events: PollFlags) -> io::Result<()> {
        wait_ready(&self.tcp, events, self.deadline)
    }
}

/// Waits until `fd` is ready for `events` or `deadline` passes (`WouldBlock`), in `poll()`
/// slices of at most [`WAIT_SLICE`]. Bounded: every pass waits or returns, and the waits
/// end at the deadline.
fn wait_ready(fd: impl AsFd, events: PollFlags, deadline: Instant) -> io::Result<()> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(deadline_reached());
        }
        let slice = left.min(WAIT_SLICE);
        let timeout = Timespec {
            tv_sec: slice.as_secs() as _,
            tv_nsec: slice.subsec_nanos() as _,
        };
        let mut fds = [PollFd::new(&fd, events)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => continue,
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Opens a TCP connection to `addr` by `deadline`: a non-blocking connect and a wait in
/// `poll()` slices (std's `connect_timeout` polls once for the whole budget, whose timer
/// slack grows with it). A connection not made in time answers `WouldBlock`.
pub(crate) fn connect(addr: &SocketAddr, deadline: Instant) -> io::Result<TcpStream> {
    let socket = Socket::new(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_nonblocking(true)?;
    match socket.connect(&(*addr).into()) {
        Ok(()) => {}
        Err(e)
            if e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error())
                || e.kind() == io::ErrorKind::WouldBlock =>
        {
            wait_ready(&socket, PollFlags::OUT, deadline)?;
            if let Some(error) = socket.take_error()? {
                return Err(error);
            }
        }
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

fn deadline_reached() -> io::Error {
    io::Error::new(io::ErrorKind::WouldBlock, "deadline reached")
}

impl Read for DeadlineTcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if Instant::now() >= self.deadline {
            return Err(deadline_reached());
        }
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
        // Bounded: each pass either returns or waits, and the wait ends at the deadline.
        let n = loop {
            match self.tcp.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(PollFlags::IN)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if let Some(budget) = &mut self.read_budget {
            *budget -= n;
        }
        Ok(n)
    }
}

impl Write for DeadlineTcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if Instant::now() >= self.deadline {
            return Err(deadline_reached());
        }
        let n = loop {
            match self.tcp.write(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(PollFlags::OUT)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// The link under a WebSocket: plain for `ws://`, TLS for `wss://`.
#[derive(Debug)]
pub(crate) enum Link {
    Plain(DeadlineTcp),
    Tls(Box<openssl::ssl::SslStream<DeadlineTcp>>),
}

/// What tungstenite reads from the socket at a time: after a message, at most this much of
/// what follows can be in its buffer already.
pub(crate) const READ_AHEAD: usize = 128 << 10;

/// The stream a WebSocket reads and writes: a [`Link`] and the account of what it holds.
///
/// Once the connection is open, every byte tungstenite reads is charged to the process's
/// budget of held bytes until the message it belongs to is delivered
/// ([`Stream::delivered`]): what tungstenite buffers — a partial frame, the frames of a
/// fragmented message — is bounded for the whole process, during a call and between calls.
/// Bytes are counted as tungstenite sees them (decrypted under TLS), so after a message the
/// count is exact unless control frames or read-ahead intervene.
#[derive(Debug)]
pub(crate) struct Stream {
    link: Link,
    /// Whether reads are charged (from the end of the upgrade on).
    charging: bool,
    /// Bytes read and not yet delivered.
    pending: usize,
    held: HeldCharge,
}

impl Stream {
    pub(crate) fn new(link: Link) -> Stream {
        Stream {
            link,
            charging: false,
            pending: 0,
            held: HeldCharge::default(),
        }
    }

    fn tcp_mut(&mut self) -> &mut DeadlineTcp {
        match &mut self.link {
            Link::Plain(s) => s,
            Link::Tls(s) => s.get_mut(),
        }
    }

    /// Charges what is read from now on to the process's budget of held bytes.
    pub(crate) fn start_charging(&mut self) {
        self.charging = true;
        self.pending = 0;
        self.held.set(0);
    }

    /// A message (or control frame) of `bytes` on the wire was handed over: they are no
    /// longer held. After a data message (`settle`), what may remain is tungstenite's
    /// read-ahead, at most [`READ_AHEAD`].
    pub(crate) fn delivered(&mut self, bytes: usize, settle: bool) {
        self.pending = self.pending.saturating_sub(bytes);
        if settle {
            self.pending = self.pending.min(READ_AHEAD);
        }
        self.held.set(self.pending);
    }

    /// Bytes read and not yet delivered.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// Releases what the connection held.
    pub(crate) fn release(&mut self) {
        self.pending = 0;
        self.held.set(0);
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
        let n = match &mut self.link {
            Link::Plain(s) => s.read(buf),
            Link::Tls(s) => s.read(buf),
        }?;
        if self.charging {
            self.pending = self.pending.saturating_add(n);
            if !self.held.try_set(self.pending) {
                return Err(io::Error::other(HeldBudgetSpent));
            }
        }
        Ok(n)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.link {
            Link::Plain(s) => s.write(buf),
            Link::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.link {
            Link::Plain(s) => s.flush(),
            Link::Tls(s) => s.flush(),
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
