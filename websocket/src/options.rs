//! What a caller may add to the opening handshake: extra headers and the subprotocols it
//! offers.

use std::fmt;

use crate::error::{Error, Result};

/// Options of one connection's opening handshake. `Debug` shows header names, never values:
/// header values are secrets (`Authorization: Bearer …`).
///
/// ```
/// use websocket::ConnectOptions;
/// let options = ConnectOptions::default()
///     .header("Authorization", "Bearer sk-…")
///     .header("OpenAI-Beta", "realtime=v1")
///     .subprotocol("realtime");
/// assert!(options.check().is_ok());
/// assert!(!format!("{options:?}").contains("Bearer"));
/// assert!(ConnectOptions::default().header("Host", "x").check().is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Extra headers of the upgrade request, in order. Default: none.
    pub headers: Vec<(String, String)>,
    /// Subprotocols offered (`Sec-WebSocket-Protocol`), in order of preference. Default:
    /// none. When some are offered the server must pick one of them.
    pub subprotocols: Vec<String>,
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ConnectOptions")
            .field("headers", &names)
            .field("subprotocols", &self.subprotocols)
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

    /// Offers a subprotocol (default: none).
    pub fn subprotocol(mut self, name: &str) -> Self {
        self.subprotocols.push(name.to_owned());
        self
    }

    /// Checks the options: header names are valid tokens and not ones the handshake owns
    /// (`Host`, `Upgrade`, `Connection`, `Sec-WebSocket-*`), values hold no CR, LF or other
    /// control character, subprotocols are non-empty tokens. Problems name the header,
    /// never its value.
    pub fn check(&self) -> Result<()> {
        for (name, value) in &self.headers {
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
        for protocol in &self.subprotocols {
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

    /// Whether nothing is added to the handshake.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty() && self.subprotocols.is_empty()
    }
}

fn invalid(parameter: &'static str, problem: String) -> Error {
    Error::InvalidOption(Box::new(crate::error::OptionProblem {
        parameter,
        problem: problem.into(),
    }))
}

/// A caller's text quoted in an error: at most 64 characters, controls escaped.
fn printable(text: &str) -> String {
    let short: String = text.chars().take(64).collect();
    debug::escape_line(&short).into_owned()
}
