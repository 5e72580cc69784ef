//! HTTP CONNECT proxies: which proxy a URL goes through (`HTTP_PROXY` for `ws://`,
//! `HTTPS_PROXY` for `wss://`, unless `NO_PROXY` matches its host), and the tunnel through
//! one, bounded by the operation's deadline.

use std::fmt;
use std::io::{Read, Write};
use std::net::IpAddr;

use base64::Engine as _;
use contract::Deadline;

use crate::error::{DeadlineExt, Error, Phase, Result};
use crate::stream::{is_disconnect, DeadlineTcp};

/// The most a proxy's answer to CONNECT may take.
pub(crate) const MAX_PROXY_RESPONSE: usize = 8 << 10;

/// One `http://` proxy: its address and, when its URL carried them, credentials for
/// `Proxy-Authorization: Basic`. `Debug` shows the address only; the credentials are
/// registered as secrets while the value lives.
#[derive(Clone)]
pub struct ProxyServer {
    host: String,
    port: u16,
    authorization: Option<String>,
    _secrets: Vec<debug::SecretGuard>,
}

impl PartialEq for ProxyServer {
    fn eq(&self, other: &Self) -> bool {
        self.host == other.host
            && self.port == other.port
            && self.authorization == other.authorization
    }
}

impl fmt::Debug for ProxyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.authorization.is_some())
            .finish()
    }
}

impl ProxyServer {
    /// Reads a proxy URL: `http://[user:password@]host[:port]` (port 80 by default), or a
    /// bare `host:port`, read as `http://`. Other schemes are refused: only HTTP CONNECT
    /// proxies are spoken. Problems never quote the URL (it may hold a password).
    ///
    /// ```
    /// use websocket::ProxyServer;
    /// let proxy = ProxyServer::parse("http://user:pa%40ss@127.0.0.1:3128").unwrap();
    /// assert_eq!(proxy.address(), "127.0.0.1:3128");
    /// assert!(proxy.has_credentials());
    /// assert!(!format!("{proxy:?}").contains("pa"));
    /// assert_eq!(ProxyServer::parse("proxy.internal:8080").unwrap().address(), "proxy.internal:8080");
    /// assert!(ProxyServer::parse("socks5://127.0.0.1:1080").is_err());
    /// ```
    pub fn parse(raw: &str) -> std::result::Result<ProxyServer, String> {
        let raw = raw.trim();
        let text = if raw.contains("://") {
            raw.to_owned()
        } else {
            format!("http://{raw}")
        };
        let url = url::Url::parse(&text).map_err(|e| format!("is not a valid URL ({e})"))?;
        if url.scheme() != "http" {
            return Err(format!(
                "must be an http:// proxy (HTTP CONNECT), not {}://",
                url.scheme()
            ));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err("names no host".into()),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let decode = |part: &str| {
            percent_decode(part).ok_or_else(|| "has credentials that are not UTF-8".to_owned())
        };
        let (authorization, secrets) = if url.username().is_empty() && url.password().is_none() {
            (None, Vec::new())
        } else {
            let user = decode(url.username())?;
            let password = decode(url.password().unwrap_or(""))?;
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            let secrets = [
                user.as_str(),
                password.as_str(),
                token.as_str(),
                url.password().unwrap_or(""),
            ]
            .iter()
            .filter(|s| s.len() >= debug::MIN_SECRET_LEN)
            .map(|s| debug::register_secret(s))
            .collect();
            (Some(format!("Basic {token}")), secrets)
        };
        Ok(ProxyServer {
            host,
            port,
            authorization,
            _secrets: secrets,
        })
    }

    /// `host:port` (IPv6 bracketed).
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The proxy's host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the URL carried credentials.
    pub fn has_credentials(&self) -> bool {
        self.authorization.is_some()
    }
}

fn percent_decode(part: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("v={}", part.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

/// The hosts that never go through a proxy: `NO_PROXY`'s comma-separated entries — `*`
/// (every host), a domain (matching itself and its subdomains, a leading `.` or `*.`
/// ignored), an IP address, or a CIDR block (`10.0.0.0/8`); a `:port` suffix is ignored.
///
/// ```
/// let no = websocket::NoProxy::parse("localhost, .internal, 10.0.0.0/8, ::1");
/// assert!(no.matches("localhost"));
/// assert!(no.matches("ha.internal"));
/// assert!(no.matches("10.1.2.3"));
/// assert!(no.matches("::1"));
/// assert!(!no.matches("example.com"));
/// assert!(!no.matches("notinternal"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    everything: bool,
    domains: Vec<String>,
    networks: Vec<(IpAddr, u8)>,
}

impl NoProxy {
    /// Reads a `NO_PROXY` value; entries that are neither a name nor an address are
    /// skipped, as curl does.
    pub fn parse(value: &str) -> NoProxy {
        let mut no = NoProxy::default();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let entry = entry.to_ascii_lowercase();
            if entry == "*" {
                no.everything = true;
                continue;
            }
            if let Some((ip, bits)) = entry.split_once('/') {
                if let (Ok(ip), Ok(bits)) = (ip.parse::<IpAddr>(), bits.parse::<u8>()) {
                    no.networks.push((ip, bits));
                }
                continue;
            }
            let bare = entry.trim_start_matches('[');
            if let Ok(ip) = bare.trim_end_matches(']').parse::<IpAddr>() {
                no.networks.push((ip, if ip.is_ipv4() { 32 } else { 128 }));
                continue;
            }
            // host:port, [v6]:port
            let host = match entry.rsplit_once(':') {
                Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
                _ => entry.as_str(),
            };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = host.parse::<IpAddr>() {
                no.networks.push((ip, if ip.is_ipv4() { 32 } else { 128 }));
                continue;
            }
            let domain = host.trim_start_matches("*.").trim_start_matches('.');
            if !domain.is_empty() {
                no.domains.push(domain.to_owned());
            }
        }
        no
    }

    /// Whether `host` (a name or an address, IPv6 bare or bracketed) bypasses the proxy.
    pub fn matches(&self, host: &str) -> bool {
        if self.everything {
            return true;
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self
                .networks
                .iter()
                .any(|(net, bits)| in_network(ip, *net, *bits));
        }
        self.domains.iter().any(|d| {
            host == *d
                || host
                    .strip_suffix(d.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        })
    }

    /// Whether no host is listed.
    pub fn is_empty(&self) -> bool {
        !self.everything && self.domains.is_empty() && self.networks.is_empty()
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let bits = u32::from(bits.min(32));
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let bits = u32::from(bits.min(128));
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// The proxies connections use: one for `ws://`, one for `wss://`, and the hosts that
/// bypass both. Default: none.
///
/// ```
/// use websocket::{NoProxy, Proxies, ProxyServer};
/// let proxies = Proxies::default()
///     .https(ProxyServer::parse("http://127.0.0.1:3128").unwrap())
///     .no_proxy(NoProxy::parse("localhost"));
/// let url = url::Url::parse("wss://example.com/ws").unwrap();
/// assert_eq!(proxies.for_url(&url).unwrap().address(), "127.0.0.1:3128");
/// assert!(proxies.for_url(&url::Url::parse("ws://example.com").unwrap()).is_none());
/// assert!(proxies.for_url(&url::Url::parse("wss://localhost").unwrap()).is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Proxies {
    /// The proxy of `ws://` URLs (`HTTP_PROXY`).
    pub http: Option<ProxyServer>,
    /// The proxy of `wss://` URLs (`HTTPS_PROXY`).
    pub https: Option<ProxyServer>,
    /// Hosts that go direct (`NO_PROXY`).
    pub no_proxy: NoProxy,
}

impl Proxies {
    /// Sets the proxy of `ws://` URLs.
    pub fn http(mut self, proxy: ProxyServer) -> Self {
        self.http = Some(proxy);
        self
    }

    /// Sets the proxy of `wss://` URLs.
    pub fn https(mut self, proxy: ProxyServer) -> Self {
        self.https = Some(proxy);
        self
    }

    /// Sets the hosts that bypass the proxies.
    pub fn no_proxy(mut self, no_proxy: NoProxy) -> Self {
        self.no_proxy = no_proxy;
        self
    }

    /// The proxy `url` goes through, if any.
    pub fn for_url(&self, url: &url::Url) -> Option<&ProxyServer> {
        let proxy = match url.scheme() {
            "wss" => self.https.as_ref(),
            _ => self.http.as_ref(),
        }?;
        let host = url.host_str().unwrap_or_default();
        (!self.no_proxy.matches(host)).then_some(proxy)
    }
}

/// Asks `proxy` (connected as `tcp`) for a tunnel to `host:port` and reads its answer by
/// `deadline`: a 2xx opens the tunnel; any other status is [`Error::ProxyRefused`]; a proxy
/// that does not answer in time is a timeout in phase `proxy`.
pub(crate) fn tunnel(
    tcp: &mut DeadlineTcp,
    proxy: &ProxyServer,
    host: &str,
    port: u16,
    deadline: &Deadline,
) -> Result<()> {
    let target = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(authorization) = &proxy.authorization {
        request.push_str("Proxy-Authorization: ");
        request.push_str(authorization);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    let io_failed = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::WouldBlock || deadline.expired() {
            deadline.timed_out(Phase::Proxy)
        } else {
            Error::ProxyFailed {
                reason: if is_disconnect(&e) {
                    "the proxy closed the connection".into()
                } else {
                    e.to_string().into()
                },
            }
        }
    };
    tcp.write_all(request.as_bytes()).map_err(io_failed)?;
    tcp.flush().map_err(io_failed)?;

    let mut answer = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    // Bounded: every pass reads at least one byte or ends, and the answer is capped.
    loop {
        let n = tcp.read(&mut chunk).map_err(io_failed)?;
        if n == 0 {
            return Err(Error::ProxyFailed {
                reason: "the proxy closed the connection before answering".into(),
            });
        }
        answer.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&answer) {
            Ok(httparse::Status::Complete(length)) => {
                let status = response.code.unwrap_or(0);
                if !(200..300).contains(&status) {
                    return Err(Error::ProxyRefused { status });
                }
                if length != answer.len() {
                    // Nothing may come through the tunnel before we speak.
                    return Err(Error::ProxyFailed {
                        reason: "the proxy sent data before the tunnel opened".into(),
                    });
                }
                return Ok(());
            }
            Ok(httparse::Status::Partial) if answer.len() < MAX_PROXY_RESPONSE => {}
            Ok(httparse::Status::Partial) => {
                return Err(Error::ProxyFailed {
                    reason: format!("its answer exceeds {MAX_PROXY_RESPONSE} bytes").into(),
                })
            }
            Err(e) => {
                return Err(Error::ProxyFailed {
                    reason: format!("its answer is not HTTP ({e})").into(),
                })
            }
        }
    }
}
