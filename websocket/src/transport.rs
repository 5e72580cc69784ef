//! Opening a connection: resolve, TCP connect, TLS, HTTP upgrade — each bounded by one deadline.
//!
//! tungstenite has no connect timeout and panics if a read timeout is set before its own TLS
//! handshake (tungstenite issue #450), so this module does TCP and TLS itself and hands
//! tungstenite a ready stream for the upgrade only.

use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tungstenite::handshake::HandshakeError;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::WebSocket;
use url::Url;

use crate::error::{Error, ErrorCode, Phase, Result};
use crate::stream::{is_timeout, DeadlineTcp, Stream};

/// Everything [`open`] needs besides the URL.
pub(crate) struct Dial<'a> {
    pub url: &'a Url,
    pub timeout: Duration,
    pub deadline: Instant,
    pub tls: Option<&'a native_tls::TlsConnector>,
    pub config: WebSocketConfig,
    pub correlation_id: &'a str,
}

impl Dial<'_> {
    fn left(&self, phase: Phase) -> Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(Error::timeout(phase, self.timeout))
        } else {
            Ok(left)
        }
    }

    fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

/// Opens a WebSocket to `dial.url` within `dial.deadline`.
pub(crate) fn open(dial: &Dial<'_>) -> Result<WebSocket<Stream>> {
    let host = dial.url.host_str().unwrap_or_default();
    let port = dial.url.port_or_known_default().unwrap_or(80);

    let timer = debug::Timer::start(
        debug::Scope::Websocket,
        dial.correlation_id,
        "connect.resolve",
    );
    let addrs = resolve(dial, host, port)?;
    timer.finish();

    let timer = debug::Timer::start(debug::Scope::Websocket, dial.correlation_id, "connect.tcp");
    let tcp = connect_tcp(dial, &addrs)?;
    timer.finish();
    // Small JSON messages must not wait for Nagle's algorithm.
    let _ = tcp.set_nodelay(true);
    let tcp = DeadlineTcp::new(tcp, dial.deadline);

    let stream = match dial.tls {
        None => Stream::Plain(tcp),
        Some(connector) => {
            let timer =
                debug::Timer::start(debug::Scope::Websocket, dial.correlation_id, "connect.tls");
            let tls = handshake_tls(dial, connector, host, tcp)?;
            timer.finish();
            Stream::Tls(Box::new(tls))
        }
    };

    let timer = debug::Timer::start(
        debug::Scope::Websocket,
        dial.correlation_id,
        "connect.upgrade",
    );
    let ws = upgrade(dial, stream)?;
    timer.finish();
    Ok(ws)
}

fn resolve(dial: &Dial<'_>, host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    // url keeps IPv6 literals bracketed.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    // The system resolver has no timeout: ask it on a helper thread and stop waiting at the
    // deadline. A lookup that outlives us ends on its own and its answer is dropped.
    let left = dial.left(Phase::Resolve)?;
    let (tx, rx) = mpsc::channel();
    let name = bare.to_owned();
    std::thread::Builder::new()
        .name("ws-resolve".into())
        .spawn(move || {
            let _ = tx.send((name.as_str(), port).to_socket_addrs().map(Vec::from_iter));
        })
        .map_err(|e| {
            Error::new(
                ErrorCode::WebsocketConnectFailed,
                format!("Could not start name resolution: {e}."),
            )
        })?;
    match rx.recv_timeout(left) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(unresolved(host, "no addresses")),
        Ok(Err(e)) => Err(unresolved(host, &e.to_string())),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::timeout(Phase::Resolve, dial.timeout)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(unresolved(host, "resolver stopped")),
    }
}

fn unresolved(host: &str, why: &str) -> Error {
    Error::new(
        ErrorCode::WebsocketConnectFailed,
        format!("Could not resolve host '{host}': {why}."),
    )
    .with_detail("phase", Phase::Resolve.as_str())
}

fn connect_tcp(dial: &Dial<'_>, addrs: &[SocketAddr]) -> Result<TcpStream> {
    let mut last = None;
    for addr in addrs {
        let left = dial.left(Phase::Connect)?;
        match TcpStream::connect_timeout(addr, left) {
            Ok(tcp) => return Ok(tcp),
            Err(e) if is_timeout(&e) || dial.expired() => {
                return Err(Error::timeout(Phase::Connect, dial.timeout))
            }
            Err(e) => last = Some((addr, e)),
        }
    }
    let (addr, e) = match last {
        Some(l) => l,
        None => return Err(Error::timeout(Phase::Connect, dial.timeout)),
    };
    Err(Error::new(
        ErrorCode::WebsocketConnectFailed,
        format!("Could not connect to {addr}: {e}."),
    )
    .with_detail("phase", Phase::Connect.as_str()))
}

fn handshake_tls(
    dial: &Dial<'_>,
    connector: &native_tls::TlsConnector,
    host: &str,
    tcp: DeadlineTcp,
) -> Result<native_tls::TlsStream<DeadlineTcp>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let mut attempt = connector.connect(bare, tcp);
    loop {
        match attempt {
            Ok(tls) => return Ok(tls),
            Err(native_tls::HandshakeError::WouldBlock(mid)) => {
                if dial.expired() {
                    return Err(Error::timeout(Phase::TlsHandshake, dial.timeout));
                }
                attempt = mid.handshake();
            }
            Err(native_tls::HandshakeError::Failure(_)) if dial.expired() => {
                return Err(Error::timeout(Phase::TlsHandshake, dial.timeout))
            }
            Err(native_tls::HandshakeError::Failure(e)) => {
                return Err(Error::new(
                    ErrorCode::WebsocketTlsFailed,
                    format!("TLS handshake with '{bare}' failed: {e}."),
                )
                .with_detail("phase", Phase::TlsHandshake.as_str()))
            }
        }
    }
}

fn upgrade(dial: &Dial<'_>, stream: Stream) -> Result<WebSocket<Stream>> {
    let mut attempt =
        tungstenite::client::client_with_config(dial.url.as_str(), stream, Some(dial.config));
    loop {
        match attempt {
            Ok((ws, _response)) => return Ok(ws),
            Err(HandshakeError::Interrupted(mid)) => {
                if dial.expired() {
                    return Err(Error::timeout(Phase::Upgrade, dial.timeout));
                }
                attempt = mid.handshake();
            }
            Err(HandshakeError::Failure(e)) => return Err(upgrade_error(dial, e)),
        }
    }
}

fn upgrade_error(dial: &Dial<'_>, e: tungstenite::Error) -> Error {
    use tungstenite::Error as T;
    let message = match &e {
        T::Io(io) if is_timeout(io) || dial.expired() => {
            return Error::timeout(Phase::Upgrade, dial.timeout)
        }
        T::Http(response) => format!(
            "The server refused the WebSocket upgrade with HTTP {}.",
            response.status().as_u16()
        ),
        T::Io(io) => format!("The connection failed during the WebSocket upgrade: {io}."),
        T::Tls(tls) => {
            return Error::new(ErrorCode::WebsocketTlsFailed, format!("TLS failed: {tls}."))
                .with_detail("phase", Phase::Upgrade.as_str())
        }
        // Url errors can quote the URL, credentials included: say nothing of it.
        T::Url(_) => "The URL could not be used for the WebSocket upgrade.".to_owned(),
        other => format!("The WebSocket upgrade failed: {other}."),
    };
    let mut err = Error::new(ErrorCode::WebsocketConnectFailed, message)
        .with_detail("phase", Phase::Upgrade.as_str());
    if let T::Http(response) = &e {
        err = err.with_detail("http_status", response.status().as_u16());
    }
    err
}
