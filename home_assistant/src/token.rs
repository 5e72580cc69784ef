//! The access token from SSM Parameter Store or Secrets Manager, read through the AWS
//! Parameters and Secrets Lambda Extension's local HTTP endpoint — no SDK linked, never
//! through a proxy — and cached for `HA_TOKEN_CACHE_TTL`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use contract::Deadline;
use parking_lot::Mutex;
use serde::Deserialize;

use crate::error::{Error, Result};

/// How long a token read from the extension is kept, unless `HA_TOKEN_CACHE_TTL` says.
pub const DEFAULT_TOKEN_CACHE_TTL: Duration = Duration::from_secs(300);

/// The extension's port, unless `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` says.
pub const DEFAULT_EXTENSION_PORT: u16 = 2773;

/// The longest one read from the extension may take (within the operation's deadline).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the token is stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TokenSource {
    /// An SSM Parameter Store parameter (name or ARN), read with decryption.
    Parameter(String),
    /// A Secrets Manager secret (name or ARN); its `SecretString` is the token.
    Secret(String),
}

impl TokenSource {
    /// The variable that named it.
    pub fn variable(&self) -> &'static str {
        match self {
            TokenSource::Parameter(_) => "HA_TOKEN_PARAMETER",
            TokenSource::Secret(_) => "HA_TOKEN_SECRET",
        }
    }

    fn path(&self) -> String {
        let encode =
            |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        match self {
            TokenSource::Parameter(name) => format!(
                "/systemsmanager/parameters/get?name={}&withDecryption=true",
                encode(name)
            ),
            TokenSource::Secret(id) => format!("/secretsmanager/get?secretId={}", encode(id)),
        }
    }
}

/// How the extension is reached and how long its answers are kept.
#[derive(Clone)]
pub(crate) struct Extension {
    pub port: u16,
    pub ttl: Duration,
    /// `AWS_SESSION_TOKEN`, which the extension wants in `X-Aws-Parameters-Secrets-Token`:
    /// a credential, registered as a secret while the settings live.
    session_token: Option<(String, debug::SecretGuard)>,
}

impl std::fmt::Debug for Extension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extension")
            .field("port", &self.port)
            .field("ttl", &self.ttl)
            .field("session_token", &self.session_token.is_some())
            .finish()
    }
}

impl Extension {
    /// From `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, `HA_TOKEN_CACHE_TTL` and
    /// `AWS_SESSION_TOKEN`.
    pub(crate) fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Extension> {
        let port = match lookup("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT").filter(|v| !v.trim().is_empty()) {
            None => DEFAULT_EXTENSION_PORT,
            Some(v) => v.trim().parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                invalid(
                    "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT",
                    "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT must be a port number from 1 to 65535.".into(),
                )
            })?,
        };
        let ttl = match lookup("HA_TOKEN_CACHE_TTL").filter(|v| !v.trim().is_empty()) {
            None => DEFAULT_TOKEN_CACHE_TTL,
            Some(v) => match v.trim().parse::<f64>() {
                Ok(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => {
                    Duration::from_secs_f64(s)
                }
                _ => {
                    return Err(invalid(
                        "HA_TOKEN_CACHE_TTL",
                        "HA_TOKEN_CACHE_TTL must be a number of seconds from 0 to 86400.".into(),
                    ))
                }
            },
        };
        let session_token = lookup("AWS_SESSION_TOKEN")
            .filter(|v| !v.is_empty())
            .map(|v| {
                let guard = debug::register_secret(&v);
                (v, guard)
            });
        Ok(Extension {
            port,
            ttl,
            session_token,
        })
    }
}

fn invalid(variable: &'static str, message: String) -> Error {
    Error::ConfigInvalid {
        variable,
        message: message.into(),
    }
}

struct Cached {
    token: String,
    fetched: Instant,
    _secret: debug::SecretGuard,
}

/// Tokens read from the extension, by source, with when they were read.
#[derive(Default)]
pub(crate) struct TokenCache {
    tokens: Mutex<HashMap<TokenSource, Cached>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("cached", &self.tokens.lock().len())
            .finish()
    }
}

/// The token `source` holds: the cached one while younger than the TTL, else read from the
/// extension within `deadline` (at most [`FETCH_TIMEOUT`]).
pub(crate) fn token(
    cache: &TokenCache,
    source: &TokenSource,
    extension: &Extension,
    deadline: &Deadline,
) -> Result<String> {
    if let Some(cached) = cache.tokens.lock().get(source) {
        if cached.fetched.elapsed() < extension.ttl {
            return Ok(cached.token.clone());
        }
    }
    let token = fetch(source, extension, deadline)?;
    cache.tokens.lock().insert(
        source.clone(),
        Cached {
            token: token.clone(),
            fetched: Instant::now(),
            _secret: debug::register_secret(&token),
        },
    );
    Ok(token)
}

/// Forgets the cached token of `source` (Home Assistant refused it: it may have rotated).
pub(crate) fn forget(cache: &TokenCache, source: &TokenSource) {
    cache.tokens.lock().remove(source);
}

#[derive(Deserialize)]
struct ParameterAnswer {
    #[serde(rename = "Parameter")]
    parameter: ParameterValue,
}

#[derive(Deserialize)]
struct ParameterValue {
    #[serde(rename = "Value")]
    value: String,
}

#[derive(Deserialize)]
struct SecretAnswer {
    #[serde(rename = "SecretString")]
    secret_string: Option<String>,
}

/// The most an answer of the extension may take.
const MAX_ANSWER: u64 = 64 << 10;

fn fetch(source: &TokenSource, extension: &Extension, deadline: &Deadline) -> Result<String> {
    let variable = source.variable();
    let what = match source {
        TokenSource::Parameter(_) => "parameter",
        TokenSource::Secret(_) => "secret",
    };
    let failed = |why: String| {
        invalid(
            variable,
            format!("The {what} named by {variable} could not be read: {why}."),
        )
    };
    let left = deadline.left().min(FETCH_TIMEOUT);
    if left.is_zero() {
        return Err(failed(
            "no time was left to ask the Parameters and Secrets extension".into(),
        ));
    }
    // Never through a proxy: the extension is on this machine.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .timeout_global(Some(left))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let url = format!("http://127.0.0.1:{}{}", extension.port, source.path());
    let mut request = agent.get(&url);
    if let Some((session, _)) = &extension.session_token {
        request = request.header("X-Aws-Parameters-Secrets-Token", session);
    }
    let mut response = request.call().map_err(|e| match e {
        ureq::Error::Timeout(_) => failed(format!(
            "the Parameters and Secrets extension did not answer within {:.3} s",
            left.as_secs_f64()
        )),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => failed(format!(
            "nothing listens on port {} (is the Parameters and Secrets Lambda Extension layer added?)",
            extension.port
        )),
        other => failed(format!("the extension could not be reached ({other})")),
    })?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_string()
        .map_err(|_| failed("its answer could not be read".into()))?;
    if status != 200 {
        // The body may say why (AccessDenied, ParameterNotFound); it never holds the value.
        let reason: String = debug::redact(body.trim()).chars().take(160).collect();
        return Err(failed(format!(
            "the extension answered HTTP {status}{}",
            if reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", debug::escape_line(&reason))
            }
        )));
    }
    let token = match source {
        TokenSource::Parameter(_) => serde_json::from_str::<ParameterAnswer>(&body)
            .map(|a| a.parameter.value)
            .map_err(|_| failed("the extension's answer holds no Parameter.Value".into()))?,
        TokenSource::Secret(_) => serde_json::from_str::<SecretAnswer>(&body)
            .ok()
            .and_then(|a| a.secret_string)
            .ok_or_else(|| {
                failed(
                    "the secret holds no SecretString (a binary secret cannot be a token)".into(),
                )
            })?,
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(failed(format!("the {what} is empty")));
    }
    Ok(token)
}
