//! The verifier: one key source, the settings, and the claims a verified token gives.

use std::time::Instant;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::jwks::Jwks;
use super::settings::{VerifierSettings, MIN_SECRET_BYTES};
use crate::error::{Error, Result};

/// What a verified token says: the user (`sub`) and the scopes (`scope`, space-separated,
/// or `scp`, a string or a list).
///
/// ```
/// let c = apigateway::auth::Claims { sub: "alice".into(), scopes: vec!["websocket:admin".into()], expires_at: 0 };
/// assert!(c.has_scope("websocket:admin"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// `exp`, epoch seconds.
    pub expires_at: i64,
}

impl Claims {
    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Scopes at most, and the longest one, read from a token or an authorizer's context.
const MAX_SCOPES: usize = 32;
const MAX_SCOPE_LEN: usize = 128;

enum Keys {
    Secret(DecodingKey),
    Public(DecodingKey, Algorithm),
    Jwks(Jwks),
}

/// Verifies JWTs with one key source.
///
/// ```
/// use apigateway::auth::{mint_token, Verifier};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let secret = b"a-development-secret-of-32-bytes!";
/// let verifier = Verifier::hs256(secret).unwrap();
/// let token = mint_token(secret, "alice", &[], std::time::Duration::from_secs(60), None, None).unwrap();
/// let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
/// assert_eq!(verifier.verify(&token, deadline).await.unwrap().sub, "alice");
/// assert!(verifier.verify("not.a.jwt", deadline).await.is_err());
/// # });
/// ```
pub struct Verifier {
    keys: Keys,
    settings: VerifierSettings,
    /// Keeps the secret registered with the debug crate while the verifier lives.
    _secret: debug::SecretGuard,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = match &self.keys {
            Keys::Secret(_) => "HS256 secret".to_owned(),
            Keys::Public(_, alg) => format!("{alg:?} public key"),
            Keys::Jwks(j) => format!("{j:?}"),
        };
        f.debug_struct("Verifier")
            .field("keys", &keys)
            .field("settings", &self.settings)
            .finish()
    }
}

fn unauthorized(reason: &str) -> Error {
    Error::Unauthorized {
        reason: reason.into(),
    }
}

impl Verifier {
    /// HS256 with `secret` (at least [`MIN_SECRET_BYTES`] bytes).
    pub fn hs256(secret: &[u8]) -> Result<Verifier> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(Error::invalid(
                "APIGW_JWT_SECRET",
                format!("must be at least {MIN_SECRET_BYTES} bytes"),
            ));
        }
        let key = DecodingKey::from_secret(secret)
            .map_err(|_| Error::invalid("APIGW_JWT_SECRET", "is not a usable key"))?;
        let mut verifier = Verifier::with_keys(Keys::Secret(key));
        verifier._secret = debug::register_secret(&String::from_utf8_lossy(secret));
        Ok(verifier)
    }

    /// RS256 (an RSA public key) or ES256 (a P-256 one), from PEM.
    pub fn public_key_pem(pem: &[u8]) -> Result<Verifier> {
        if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            return Ok(Verifier::with_keys(Keys::Public(key, Algorithm::RS256)));
        }
        if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            return Ok(Verifier::with_keys(Keys::Public(key, Algorithm::ES256)));
        }
        Err(Error::invalid(
            "APIGW_JWT_PUBLIC_KEY",
            "must be an RSA or P-256 public key in PEM",
        ))
    }

    /// The keys of a JWKS ([`Jwks`]).
    pub fn jwks(jwks: Jwks) -> Verifier {
        Verifier::with_keys(Keys::Jwks(jwks))
    }

    fn with_keys(keys: Keys) -> Verifier {
        Verifier {
            keys,
            settings: VerifierSettings::default(),
            _secret: debug::SecretGuard::default(),
        }
    }

    /// With these settings.
    pub fn with_settings(mut self, settings: VerifierSettings) -> Verifier {
        self.settings = settings;
        self
    }

    /// Its settings.
    pub fn settings(&self) -> &VerifierSettings {
        &self.settings
    }

    /// The verifier the environment configures through `lookup`: `APIGW_JWT_SECRET`,
    /// `APIGW_JWT_PUBLIC_KEY` or `APIGW_JWT_JWKS_URL` (exactly one), with
    /// [`VerifierSettings::from_lookup`]; `None` when none is set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Verifier>> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let (secret, pem, jwks) = (
            set("APIGW_JWT_SECRET"),
            set("APIGW_JWT_PUBLIC_KEY"),
            set("APIGW_JWT_JWKS_URL"),
        );
        let verifier = match (secret, pem, jwks) {
            (None, None, None) => return Ok(None),
            (Some(secret), None, None) => Verifier::hs256(secret.as_bytes())?,
            (None, Some(pem), None) => Verifier::public_key_pem(pem.replace("\\n", "\n").as_bytes())?,
            (None, None, Some(url)) => Verifier::jwks(Jwks::new(&url)?),
            _ => {
                return Err(Error::invalid(
                    "APIGW_JWT_SECRET",
                    "only one of APIGW_JWT_SECRET, APIGW_JWT_PUBLIC_KEY and APIGW_JWT_JWKS_URL may be set",
                ))
            }
        };
        Ok(Some(
            verifier.with_settings(VerifierSettings::from_lookup(&lookup)?),
        ))
    }

    /// The scopes of a `scope` / `scp` value: a space-separated string or a list of
    /// strings; at most 32, each at most 128 characters without control characters.
    ///
    /// ```
    /// let v = serde_json::json!("read websocket:admin");
    /// assert_eq!(apigateway::auth::Verifier::scopes_of(Some(&v)), ["read", "websocket:admin"]);
    /// ```
    pub fn scopes_of(value: Option<&Value>) -> Vec<String> {
        let words: Vec<&str> = match value {
            Some(Value::String(s)) => s.split_whitespace().collect(),
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        words
            .into_iter()
            .filter(|w| {
                !w.is_empty() && w.len() <= MAX_SCOPE_LEN && !w.chars().any(char::is_control)
            })
            .take(MAX_SCOPES)
            .map(str::to_owned)
            .collect()
    }

    /// Verifies `token`: signature by the expected algorithm only, `exp` present and not
    /// past, `nbf` not ahead, `iss` / `aud` when configured, a usable `sub`. A JWKS fetch
    /// ends before `deadline`. Refusals are [`Error::Unauthorized`] with a reason that never
    /// quotes the token.
    pub async fn verify(&self, token: &str, deadline: Instant) -> Result<Claims> {
        let header = decode_header(token).map_err(|_| unauthorized("the token is not a JWT"))?;
        let (key, alg) = match &self.keys {
            Keys::Secret(key) => (key.clone(), Algorithm::HS256),
            Keys::Public(key, alg) => (key.clone(), *alg),
            Keys::Jwks(jwks) => {
                let kid = header
                    .kid
                    .as_deref()
                    .ok_or_else(|| unauthorized("the token names no key (kid)"))?;
                jwks.key(kid, deadline).await?
            }
        };
        if header.alg != alg {
            return Err(unauthorized("the token's algorithm is not the key's"));
        }
        let mut validation = Validation::new(alg);
        validation.leeway = self.settings.leeway.as_secs();
        validation.validate_nbf = true;
        validation.validate_exp = true;
        let mut required = vec!["exp"];
        match &self.settings.issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &self.settings.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        let data = decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| {
            unauthorized(match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not yet valid (nbf)",
                ErrorKind::MissingRequiredClaim(c) if c == "exp" => "the token has no exp",
                ErrorKind::MissingRequiredClaim(c) if c == "iss" => "the token has no iss",
                ErrorKind::MissingRequiredClaim(c) if c == "aud" => "the token has no aud",
                ErrorKind::InvalidSignature => "the token's signature does not verify",
                ErrorKind::InvalidAudience => "the token is for another audience",
                ErrorKind::InvalidIssuer => "the token is from another issuer",
                ErrorKind::InvalidAlgorithm => "the token's algorithm is not the key's",
                ErrorKind::InvalidClaimFormat(_) => "a claim of the token is malformed",
                _ => "the token does not verify",
            })
        })?;
        let claims = data.claims;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| crate::store::check_id("sub", s).is_ok())
            .ok_or_else(|| unauthorized("the token has no usable sub"))?;
        let mut scopes = Verifier::scopes_of(claims.get("scope"));
        if scopes.is_empty() {
            scopes = Verifier::scopes_of(claims.get("scp"));
        }
        Ok(Claims {
            sub: sub.to_owned(),
            scopes,
            expires_at: claims.get("exp").and_then(Value::as_i64).unwrap_or(0),
        })
    }
}
