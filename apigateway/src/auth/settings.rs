//! What a token must say besides its signature: issuer, audience, clock leeway; and the
//! development token `lambda-apigw token` mints.

use std::time::Duration;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::error::{Error, Result};

/// Clock leeway on `exp` and `nbf` when `APIGW_JWT_LEEWAY` is not set.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// Shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash's 256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

/// The claims checked besides `exp` and `nbf`.
///
/// ```
/// let s = apigateway::auth::VerifierSettings::default();
/// assert_eq!(s.leeway, apigateway::auth::DEFAULT_LEEWAY);
/// assert!(s.issuer.is_none() && s.audience.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierSettings {
    /// `iss` must be this (and present) when set.
    pub issuer: Option<String>,
    /// `aud` must contain this (and be present) when set.
    pub audience: Option<String>,
    /// Clock leeway on `exp` and `nbf`.
    pub leeway: Duration,
}

impl Default for VerifierSettings {
    fn default() -> Self {
        VerifierSettings {
            issuer: None,
            audience: None,
            leeway: DEFAULT_LEEWAY,
        }
    }
}

impl VerifierSettings {
    /// `APIGW_JWT_ISSUER`, `APIGW_JWT_AUDIENCE`, `APIGW_JWT_LEEWAY` (seconds, 0 to 300)
    /// through `lookup`.
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<VerifierSettings> {
        let nonempty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let leeway = match nonempty("APIGW_JWT_LEEWAY") {
            None => DEFAULT_LEEWAY,
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| *s <= 300)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    Error::invalid("APIGW_JWT_LEEWAY", "must be seconds from 0 to 300")
                })?,
        };
        Ok(VerifierSettings {
            issuer: nonempty("APIGW_JWT_ISSUER"),
            audience: nonempty("APIGW_JWT_AUDIENCE"),
            leeway,
        })
    }
}

/// An HS256 token for local runs: `sub`, the scopes (space-separated in `scope`), `iat`,
/// `exp` after `ttl`, and `iss` / `aud` when given.
///
/// ```
/// let secret = b"a-development-secret-of-32-bytes!";
/// let token = apigateway::auth::mint_token(secret, "alice", &["websocket:admin"],
///     std::time::Duration::from_secs(60), None, None).unwrap();
/// assert_eq!(token.split('.').count(), 3);
/// ```
pub fn mint_token(
    secret: &[u8],
    sub: &str,
    scopes: &[&str],
    ttl: Duration,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> Result<String> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(Error::invalid(
            "APIGW_JWT_SECRET",
            format!("must be at least {MIN_SECRET_BYTES} bytes"),
        ));
    }
    crate::store::check_id("sub", sub)?;
    let now = crate::store::now_s();
    let mut claims = json!({"sub": sub, "iat": now, "exp": now + ttl.as_secs() as i64});
    if !scopes.is_empty() {
        claims["scope"] = Value::from(scopes.join(" "));
    }
    if let Some(iss) = issuer {
        claims["iss"] = Value::from(iss);
    }
    if let Some(aud) = audience {
        claims["aud"] = Value::from(aud);
    }
    let key = EncodingKey::from_secret(secret)
        .map_err(|_| Error::invalid("APIGW_JWT_SECRET", "is not a usable key"))?;
    encode(&Header::new(Algorithm::HS256), &claims, &key)
        .map_err(|_| Error::invalid("APIGW_JWT_SECRET", "cannot sign"))
}
