//! What one call may set for the connection it opens: handshake headers and subprotocols,
//! and any of the connection settings of [`ConnectionConfig`](crate::ConnectionConfig),
//! each left unset to take the core's.

use std::fmt;
use std::time::Duration;

use crate::connection_config::Reconnect;
use crate::error::{Error, Result};

/// Per-call options of one connection. Every setting left unset takes the core's
/// [`ConnectionConfig`](crate::ConnectionConfig) (set in code, else from the `WS_*`
/// environment for the per-process core, else the default); headers are added to the
/// core's, a header of the same name replacing the core's; subprotocols, when any are
/// given, replace the core's. `Debug` shows header names, never values: header values are
/// secrets (`Authorization: Bearer …`).
///
/// ```
/// use std::time::Duration;
/// use websocket::ConnectOptions;
/// let options = ConnectOptions::default()
///     .header("Authorization", "Bearer sk-…")
///     .header("OpenAI-Beta", "realtime=v1")
///     .subprotocol("realtime")
///     .open_timeout(Duration::from_secs(3));
/// assert!(options.check().is_ok());
/// assert!(!format!("{options:?}").contains("Bearer"));
/// assert!(ConnectOptions::default().header("Host", "x").check().is_err());
/// assert!(ConnectOptions::default().open_timeout(Duration::ZERO).check().is_err());
/// ```
#[derive(Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Extra headers of the upgrade request, in order. Default: none.
    pub headers: Vec<(String, String)>,
    /// Subprotocols offered (`Sec-WebSocket-Protocol`), in order of preference. Default:
    /// none (the core's). When some are offered the server must pick one of them.
    pub subprotocols: Vec<String>,
    /// Bound on opening (resolve → upgrade) within the operation's timeout. Default: the
    /// core's (10 s).
    pub open_timeout: Option<Duration>,
    /// Bound on the closing handshake. Default: the core's (1 s).
    pub close_timeout: Option<Duration>,
    /// Idle time after which a held connection is checked before use; `Some(None)`
    /// disables the check. Default: the core's (20 s).
    pub ping_interval: Option<Option<Duration>>,
    /// Bound on that check. Default: the core's (20 s).
    pub ping_timeout: Option<Duration>,
    /// Largest message in bytes. Default: the core's (6 MiB − 4 KiB).
    pub max_message_size: Option<usize>,
    /// Largest frame in bytes. Default: the core's (the largest message).
    pub max_frame_size: Option<usize>,
    /// What happens when a held connection is found dead. Default: the core's.
    pub reconnect: Option<Reconnect>,
    /// Whether to reconnect, keeping the rest of the policy (the JSON field `reconnect`).
    /// Default: the core's.
    pub reconnect_enabled: Option<bool>,
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ConnectOptions")
            .field("headers", &names)
            .field("subprotocols", &self.subprotocols)
            .field("open_timeout", &self.open_timeout)
            .field("close_timeout", &self.close_timeout)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("max_message_size", &self.max_message_size)
            .field("max_frame_size", &self.max_frame_size)
            .field("reconnect", &self.reconnect)
            .field("reconnect_enabled", &self.reconnect_enabled)
            .finish()
    }
}

/// Headers the library writes itself: a caller may not set them.
const OWNED: [&str; 4] = ["host", "upgrade", "connection", "content-length"];

impl ConnectOptions {
    /// Adds a header (default: none).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Offers a subprotocol (default: none, the core's).
    pub fn subprotocol(mut self, name: &str) -> Self {
        self.subprotocols.push(name.to_owned());
        self
    }

    /// Sets the bound on opening (default: the core's, 10 s).
    pub fn open_timeout(mut self, timeout: Duration) -> Self {
        self.open_timeout = Some(timeout);
        self
    }

    /// Sets the bound on the closing handshake (default: the core's, 1 s).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = Some(timeout);
        self
    }

    /// Sets the idle time before a liveness check; `None` disables it (default: the core's,
    /// 20 s).
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = Some(interval);
        self
    }

    /// Sets the bound on the liveness check (default: the core's, 20 s).
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.ping_timeout = Some(timeout);
        self
    }

    /// Sets the largest message in bytes (default: the core's, 6 MiB − 4 KiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = Some(bytes);
        self
    }

    /// Sets the largest frame in bytes (default: the core's, the largest message).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = Some(bytes);
        self
    }

    /// Sets the reconnect policy (default: the core's).
    pub fn reconnect(mut self, policy: Reconnect) -> Self {
        self.reconnect = Some(policy);
        self
    }

    /// Turns reconnecting on or off, keeping the rest of the core's policy.
    pub fn reconnect_enabled(mut self, enabled: bool) -> Self {
        self.reconnect_enabled = Some(enabled);
        self
    }

    /// Checks the options: header names are valid tokens and not ones the handshake owns
    /// (`Host`, `Upgrade`, `Connection`, `Sec-WebSocket-*`), values hold no CR, LF or other
    /// control character, subprotocols are non-empty tokens, and every setting given is in
    /// its range. Problems name the parameter, never a header's value.
    pub fn check(&self) -> Result<()> {
        check_headers(&self.headers)?;
        check_subprotocols(&self.subprotocols)?;
        let limits = crate::connection_config::Limits;
        for (name, value) in [
            ("open_timeout", self.open_timeout),
            ("close_timeout", self.close_timeout),
            ("ping_timeout", self.ping_timeout),
        ] {
            if let Some(value) = value {
                limits.duration(name, value)?;
            }
        }
        if let Some(Some(interval)) = self.ping_interval {
            limits.duration("ping_interval", interval)?;
        }
        for (name, value) in [
            ("max_message_size", self.max_message_size),
            ("max_frame_size", self.max_frame_size),
        ] {
            if let Some(value) = value {
                limits.size(name, value)?;
            }
        }
        if let Some(reconnect) = &self.reconnect {
            reconnect.check()?;
        }
        Ok(())
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == ConnectOptions::default()
    }
}

pub(crate) fn check_headers(headers: &[(String, String)]) -> Result<()> {
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if tungstenite::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(invalid(
                "headers",
                format!("must have valid names ('{}' is not one)", printable(name)),
            ));
        }
        if OWNED.contains(&lower.as_str()) || lower.starts_with("sec-websocket-") {
            return Err(invalid(
                "headers",
                format!("must not set '{name}', which the WebSocket handshake owns"),
            ));
        }
        if value.chars().any(|c| c.is_control() && c != '\t')
            || tungstenite::http::HeaderValue::from_str(value).is_err()
        {
            return Err(invalid(
                "headers",
                format!("must not hold a line break or control character (in '{name}')"),
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_subprotocols(subprotocols: &[String]) -> Result<()> {
    for protocol in subprotocols {
        let token = !protocol.is_empty()
            && protocol
                .chars()
                .all(|c| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(c));
        if !token {
            return Err(invalid(
                "subprotocols",
                format!("must be tokens ('{}' is not one)", printable(protocol)),
            ));
        }
    }
    Ok(())
}

pub(crate) fn invalid(parameter: &'static str, problem: String) -> Error {
    Error::InvalidOption(Box::new(crate::error::OptionProblem {
        parameter,
        problem: problem.into(),
    }))
}

/// A caller's text quoted in an error: at most 64 characters, controls escaped.
pub(crate) fn printable(text: &str) -> String {
    let short: String = text.chars().take(64).collect();
    debug::escape_line(&short).into_owned()
}
