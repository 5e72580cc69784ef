//! Where a token is on `$connect`: `?token=`, `Authorization: Bearer <token>`, or the
//! subprotocol pair `bearer, <token>` (a browser cannot set headers on a WebSocket).

use crate::event::WsEvent;

/// The subprotocol a browser offers before its token; the `$connect` answer selects it
/// (never the token: a browser requires an answer from the offered list).
pub const BEARER_PROTOCOL: &str = "bearer";

/// Which part of the request carried the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `?token=`.
    Query,
    /// `Authorization: Bearer`.
    Header,
    /// `Sec-WebSocket-Protocol: bearer, <token>`.
    Subprotocol,
}

/// A token and where it came from. Its `Debug` never shows the token.
///
/// ```
/// use apigateway::auth::{Credential, TokenSource};
/// let c = Credential::from_parts(None, Some("Bearer abc.def.ghi"), None).unwrap();
/// assert_eq!(c.source, TokenSource::Header);
/// assert_eq!(c.token(), "abc.def.ghi");
/// assert!(!format!("{c:?}").contains("abc.def.ghi"));
/// let p = Credential::from_parts(None, None, Some("bearer, abc.def.ghi")).unwrap();
/// assert_eq!(p.source, TokenSource::Subprotocol);
/// ```
#[derive(Clone)]
pub struct Credential {
    token: String,
    /// Where it was.
    pub source: TokenSource,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("token", &debug::REDACTED)
            .field("source", &self.source)
            .finish()
    }
}

impl Credential {
    /// The token of a `$connect` event: the `Authorization` header first, then the
    /// subprotocol pair, then `?token=`.
    pub fn from_event(event: &WsEvent) -> Option<Credential> {
        Credential::from_parts(
            event.query("token"),
            event.header("authorization"),
            event.header("sec-websocket-protocol"),
        )
    }

    /// The token from a query value, an `Authorization` value and a
    /// `Sec-WebSocket-Protocol` value.
    pub fn from_parts(
        query: Option<&str>,
        authorization: Option<&str>,
        protocols: Option<&str>,
    ) -> Option<Credential> {
        if let Some(token) = authorization.and_then(bearer_of) {
            return Some(Credential::new(token, TokenSource::Header));
        }
        if let Some(token) = protocols.and_then(protocol_token) {
            return Some(Credential::new(token, TokenSource::Subprotocol));
        }
        query
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| Credential::new(t, TokenSource::Query))
    }

    fn new(token: &str, source: TokenSource) -> Credential {
        Credential {
            token: token.to_owned(),
            source,
        }
    }

    /// The token.
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// `Bearer <token>`, the scheme case-insensitive.
fn bearer_of(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The entry after `bearer` in a comma-separated subprotocol list.
fn protocol_token(list: &str) -> Option<&str> {
    let mut entries = list.split(',').map(str::trim);
    // Bounded: a header value is finite, and 16 entries are read at most.
    for _ in 0..16 {
        match entries.next() {
            Some(BEARER_PROTOCOL) => return entries.next().filter(|t| !t.is_empty()),
            Some(_) => continue,
            None => return None,
        }
    }
    None
}
