//! Opening a connection: resolve, TCP connect, TLS, HTTP upgrade — each bounded by one deadline.
//!
//! tungstenite has no connect timeout and panics if a read timeout is set before its own TLS
//! handshake (tungstenite issue #450), so this module does TCP and TLS itself and hands
//! tungstenite a ready stream for the upgrade only.

use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;

use contract::Deadline;
use debug::Timer;
use tungstenite::handshake::HandshakeError;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::WebSocket;
use url::Url;

use crate::error::{DeadlineExt, Error, Phase, ResolveFailure, Result, TlsFailure};
use crate::stream::{is_timeout, DeadlineTcp, Link, Stream, UpgradeBudgetSpent};
use crate::SCOPE;

/// Parses a WebSocket URL: it must parse, use `ws` or `wss`, and name a host. Problems are
/// described without quoting the URL, which may hold credentials.
///
/// ```
/// assert!(websocket::parse_url("wss://example.com/api").is_ok());
/// let err = websocket::parse_url("http://example.com").unwrap_err();
/// assert_eq!(err.to_string(), "Invalid parameter 'url': scheme must be ws or wss, not 'http'.");
/// ```
pub fn parse_url(raw: &str) -> Result<Url> {
    let url = Url::parse(raw).map_err(|e| Error::invalid_url(format!("not a valid URL ({e})")))?;
    if url.scheme() != "ws" && url.scheme() != "wss" {
        return Err(Error::invalid_url(format!(
            "scheme must be ws or wss, not '{}'",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_url("the URL names no host"));
    }
    Ok(url)
}

/// The parts of `url` that may be secrets — its user name, password and query values, as
/// written and percent-decoded — registered for redaction while the guards live.
pub(crate) fn url_secrets(url: &Url) -> Vec<debug::SecretGuard> {
    let mut raw: Vec<String> = vec![url.username().to_owned()];
    raw.extend(url.password().map(str::to_owned));
    if let Some(query) = url.query() {
        raw.extend(
            query
                .split('&')
                .filter_map(|pair| pair.split_once('=').map(|(_, v)| v.to_owned())),
        );
    }
    let mut values: Vec<String> = Vec::with_capacity(raw.len() * 2);
    for value in raw {
        let decoded = url::form_urlencoded::parse(format!("v={value}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned());
        values.extend(decoded.filter(|d| *d != value));
        values.push(value);
    }
    values
        .iter()
        .filter(|v| v.len() >= debug::MIN_SECRET_LEN)
        .map(|v| debug::register_secret(v))
        .collect()
}

/// Everything [`open`] needs: the URL, the deadline (the ground floor's), TLS, limits.
pub(crate) struct Dial<'a> {
    pub url: &'a Url,
    pub deadline: &'a Deadline,
    pub tls: Option<&'a openssl::ssl::SslContext>,
    /// Whether the server's certificate is verified (always, unless `WS_TLS_INSECURE`).
    pub verify: bool,
    pub config: WebSocketConfig,
    pub headers: &'a [(String, String)],
    pub subprotocols: &'a [String],
    /// The HTTP proxy to tunnel through, if any.
    pub proxy: Option<&'a crate::ProxyServer>,
}

/// Opens a WebSocket to `dial.url` within `dial.deadline`; answers the subprotocol the
/// server chose, if any.
pub(crate) fn open(dial: &Dial<'_>) -> Result<(WebSocket<Stream>, Option<String>)> {
    let host = dial.url.host_str().unwrap_or_default();
    // url keeps IPv6 literals bracketed.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let port = dial.url.port_or_known_default().unwrap_or(80);

    // Through a proxy, the TCP connection is the proxy's, and the proxy resolves the host.
    let addrs = match dial.proxy {
        Some(proxy) => resolve(dial, proxy.host(), proxy.port())?,
        None => resolve(dial, bare, port)?,
    };

    let timer = Timer::start(&SCOPE, "connect.tcp");
    let tcp = connect_tcp(dial, &addrs)?;
    timer.finish();
    // Small messages must not wait for Nagle's algorithm.
    let _ = tcp.set_nodelay(true);
    let peer = tcp.peer_addr().unwrap_or_else(|_| first_address(&addrs));
    let mut tcp = DeadlineTcp::new(tcp, dial.deadline.at()).map_err(|source| Error::Connect {
        addr: Box::new(peer),
        source,
    })?;
    if let Some(proxy) = dial.proxy {
        let timer = Timer::start(&SCOPE, "connect.proxy");
        crate::proxy::tunnel(&mut tcp, proxy, bare, port, dial.deadline)?;
        timer.finish();
    }

    let stream = match dial.tls {
        None => Stream::new(Link::Plain(tcp)),
        Some(context) => {
            let timer = Timer::start(&SCOPE, "connect.tls");
            let tls = handshake_tls(dial, context, bare, tcp)?;
            timer.finish();
            Stream::new(Link::Tls(Box::new(tls)))
        }
    };

    let timer = Timer::start(&SCOPE, "connect.upgrade");
    let (mut ws, subprotocol) = upgrade(dial, stream)?;
    timer.finish();
    ws.get_mut().set_read_budget(None);
    ws.get_mut().start_charging();
    Ok((ws, subprotocol))
}

fn first_address(addrs: &[SocketAddr]) -> SocketAddr {
    addrs
        .first()
        .copied()
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
}

fn resolve(dial: &Dial<'_>, host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    // The system resolver has no timeout: ask it on a helper thread and stop waiting at the
    // deadline. A lookup that outlives us ends on its own and its answer is dropped.
    let _timer = Timer::start(&SCOPE, "connect.resolve");
    let left = dial.deadline.left_in(Phase::Resolve)?;
    let (tx, rx) = mpsc::channel();
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("ws-resolve".into())
        .spawn(move || {
            let _ = tx.send((name.as_str(), port).to_socket_addrs().map(Vec::from_iter));
        })
        .map_err(|e| unresolved(host, format!("could not start the lookup ({e})")))?;
    match rx.recv_timeout(left) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(unresolved(host, "no addresses".into())),
        Ok(Err(e)) => Err(unresolved(host, e.to_string())),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(dial.deadline.timed_out(Phase::Resolve)),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(unresolved(host, "resolver stopped".into()))
        }
    }
}

fn unresolved(host: &str, reason: String) -> Error {
    Error::Resolve(Box::new(ResolveFailure {
        host: host.to_owned(),
        reason,
    }))
}

fn connect_tcp(dial: &Dial<'_>, addrs: &[SocketAddr]) -> Result<TcpStream> {
    let mut last = None;
    for addr in addrs {
        dial.deadline.left_in(Phase::Connect)?;
        match crate::stream::connect(addr, dial.deadline.at()) {
            Ok(tcp) => return Ok(tcp),
            Err(e) if is_timeout(&e) || dial.deadline.expired() => {
                return Err(dial.deadline.timed_out(Phase::Connect))
            }
            Err(e) => last = Some((*addr, e)),
        }
    }
    match last {
        Some((addr, source)) => Err(Error::Connect {
            addr: Box::new(addr),
            source,
        }),
        None => Err(dial.deadline.timed_out(Phase::Connect)),
    }
}

fn handshake_tls(
    dial: &Dial<'_>,
    context: &openssl::ssl::SslContext,
    host: &str,
    tcp: DeadlineTcp,
) -> Result<openssl::ssl::SslStream<DeadlineTcp>> {
    use openssl::ssl::HandshakeError as H;
    let failed = |source: openssl::ssl::Error, verify: Option<openssl::x509::X509VerifyResult>| {
        let reason = match verify {
            Some(v) if v != openssl::x509::X509VerifyResult::OK => {
                format!("certificate verification failed: {}", v.error_string())
            }
            _ => source.to_string(),
        };
        Error::TlsHandshake(Box::new(TlsFailure {
            host: host.to_owned(),
            reason,
            source,
        }))
    };
    let ssl = crate::tls::session(context, host, dial.verify).map_err(|e| Error::TlsSetup {
        source: Box::new(e),
    })?;
    let mut attempt = ssl.connect(tcp);
    loop {
        match attempt {
            Ok(tls) => return Ok(tls),
            Err(H::WouldBlock(mid)) => {
                if dial.deadline.expired() {
                    return Err(dial.deadline.timed_out(Phase::TlsHandshake));
                }
                attempt = mid.handshake();
            }
            Err(H::Failure(_)) if dial.deadline.expired() => {
                return Err(dial.deadline.timed_out(Phase::TlsHandshake))
            }
            Err(H::Failure(mid)) => {
                let verify = mid.ssl().verify_result();
                return Err(failed(mid.into_error(), Some(verify)));
            }
            Err(H::SetupFailure(e)) => {
                return Err(Error::TlsSetup {
                    source: Box::new(e),
                })
            }
        }
    }
}

/// The most an upgrade response may take: enough for any real server's headers, far less
/// than a hostile one could send.
pub const MAX_UPGRADE_RESPONSE: usize = 64 << 10;

/// The upgrade request: tungstenite's, plus the caller's headers and subprotocols (checked
/// by [`ConnectOptions::check`](crate::ConnectOptions::check) before dialing).
fn upgrade_request(dial: &Dial<'_>) -> Result<tungstenite::handshake::client::Request> {
    use tungstenite::client::IntoClientRequest;
    use tungstenite::http::{HeaderName, HeaderValue};
    let mut request = dial
        .url
        .as_str()
        .into_client_request()
        .map_err(|_| Error::invalid_url("it cannot be used for a WebSocket upgrade"))?;
    let unusable = |parameter: &'static str| {
        Error::InvalidOption(Box::new(crate::error::OptionProblem {
            parameter,
            problem: "cannot be written into the upgrade request".into(),
        }))
    };
    let headers = request.headers_mut();
    for (name, value) in dial.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| unusable("headers"))?;
        let value = HeaderValue::from_str(value).map_err(|_| unusable("headers"))?;
        headers.append(name, value);
    }
    if !dial.subprotocols.is_empty() {
        let offered = HeaderValue::from_str(&dial.subprotocols.join(", "))
            .map_err(|_| unusable("subprotocols"))?;
        headers.insert("Sec-WebSocket-Protocol", offered);
    }
    Ok(request)
}

/// The upgrade, and the subprotocol the server chose.
fn upgrade(dial: &Dial<'_>, mut stream: Stream) -> Result<(WebSocket<Stream>, Option<String>)> {
    stream.set_read_budget(Some(MAX_UPGRADE_RESPONSE));
    let request = upgrade_request(dial)?;
    let mut attempt = tungstenite::client::client_with_config(request, stream, Some(dial.config));
    loop {
        match attempt {
            Ok((ws, response)) => {
                let chosen = response
                    .headers()
                    .get("Sec-WebSocket-Protocol")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                return Ok((ws, chosen));
            }
            Err(HandshakeError::Interrupted(mid)) => {
                if dial.deadline.expired() {
                    return Err(dial.deadline.timed_out(Phase::Upgrade));
                }
                attempt = mid.handshake();
            }
            Err(HandshakeError::Failure(e)) => return Err(upgrade_error(dial, e)),
        }
    }
}

fn upgrade_error(dial: &Dial<'_>, e: tungstenite::Error) -> Error {
    match e {
        tungstenite::Error::Io(io)
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<UpgradeBudgetSpent>()) =>
        {
            Error::UpgradeTooLarge {
                limit: MAX_UPGRADE_RESPONSE,
            }
        }
        tungstenite::Error::Io(io) if is_timeout(&io) || dial.deadline.expired() => {
            dial.deadline.timed_out(Phase::Upgrade)
        }
        tungstenite::Error::Http(response) => Error::UpgradeRefused {
            status: response.status().as_u16(),
        },
        tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(refusal),
        ) => Error::SubprotocolRefused {
            chose_one: !matches!(refusal, tungstenite::error::SubProtocolError::NoSubProtocol),
        },
        other => Error::Upgrade {
            source: Box::new(other),
        },
    }
}
