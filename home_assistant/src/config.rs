//! Where Home Assistant is and how to authenticate.

use std::fmt;

use crate::error::{Error, Result};
use crate::token::{Extension, TokenSource};
use contract::Deadline;

/// Connection settings: the WebSocket URL and the long-lived access token.
///
/// `Debug` never shows the token.
///
/// ```
/// let config = home_assistant::HaConfig::new("https://ha.example.com:8123", "tok").unwrap();
/// assert_eq!(config.ws_url(), "wss://ha.example.com:8123/api/websocket");
/// assert!(!format!("{config:?}").contains("tok\""));
/// ```
#[derive(Clone)]
pub struct HaConfig {
    ws_url: String,
    token: String,
    /// Keeps the token registered for redaction while any copy of the settings lives.
    _secret: debug::SecretGuard,
    /// Where the token came from, when it was read through the extension (to read it once
    /// more when Home Assistant refuses it).
    source: Option<(TokenSource, Extension)>,
}

impl fmt::Debug for HaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HaConfig")
            .field("ws_url", &debug::redact_url(&self.ws_url))
            .field("token", &"<redacted>")
            .finish()
    }
}

impl HaConfig {
    /// Settings from a base URL (`http://host:8123` → `ws://host:8123/api/websocket`,
    /// `https` → `wss`) or a `ws(s)://` URL used as given, and an access token.
    ///
    /// ```
    /// use home_assistant::HaConfig;
    /// assert_eq!(HaConfig::new("http://h:8123/", "t").unwrap().ws_url(), "ws://h:8123/api/websocket");
    /// assert_eq!(HaConfig::new("ws://h/custom", "t").unwrap().ws_url(), "ws://h/custom");
    /// assert!(HaConfig::new("ftp://h", "t").is_err());
    /// assert!(HaConfig::new("http://h", "").is_err());
    /// assert_eq!(HaConfig::new("http://h/api/websocket", "t").unwrap().ws_url(), "ws://h/api/websocket");
    /// ```
    pub fn new(url: &str, token: &str) -> Result<HaConfig> {
        if token.trim().is_empty() {
            return Err(Error::invalid_parameter("token", "must not be empty"));
        }
        Ok(HaConfig {
            ws_url: websocket_url(url)?,
            token: token.to_owned(),
            _secret: debug::register_secret(token),
            source: None,
        })
    }

    /// Settings from `HA_URL` and exactly one of `HA_TOKEN`, `HA_TOKEN_PARAMETER` (SSM
    /// Parameter Store) or `HA_TOKEN_SECRET` (Secrets Manager) — the last two read through
    /// the Parameters and Secrets Lambda Extension, cached for `HA_TOKEN_CACHE_TTL` — within
    /// at most 5 s; when `HA_CA_CERT` names a PEM file, its certificate authority is trusted
    /// for `wss://` (once per process).
    ///
    /// ```no_run
    /// let config = home_assistant::HaConfig::from_env()?;
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn from_env() -> Result<HaConfig> {
        HaConfig::from_env_within(&Deadline::after(crate::token::FETCH_TIMEOUT))
    }

    /// [`HaConfig::from_env`], reading a token from the extension by `deadline`.
    pub fn from_env_within(deadline: &Deadline) -> Result<HaConfig> {
        HaConfig::from_lookup(|name| std::env::var(name).ok(), deadline)
    }

    /// [`HaConfig::from_env_within`] with `lookup` standing in for the environment.
    ///
    /// ```
    /// use home_assistant::HaConfig;
    /// let deadline = contract::Deadline::after(std::time::Duration::from_secs(1));
    /// let env = |name: &str| match name {
    ///     "HA_URL" => Some("http://ha:8123".to_owned()),
    ///     "HA_TOKEN" | "HA_TOKEN_SECRET" => Some("x".to_owned()),
    ///     _ => None,
    /// };
    /// let err = HaConfig::from_lookup(env, &deadline).unwrap_err();
    /// assert_eq!(err.code(), gateway::codes::CONFIG_INVALID);
    /// ```
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        deadline: &Deadline,
    ) -> Result<HaConfig> {
        HaConfig::from_lookup_on(crate::HomeAssistant::global(), lookup, deadline)
    }

    /// [`HaConfig::from_lookup`] for an instance of your own: its token cache, and its trust
    /// for `HA_CA_CERT`.
    pub fn from_lookup_on(
        hub: &crate::HomeAssistant,
        lookup: impl Fn(&str) -> Option<String>,
        deadline: &Deadline,
    ) -> Result<HaConfig> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let url = get("HA_URL").ok_or_else(|| missing("HA_URL"))?;
        let given: Vec<(&'static str, String)> =
            ["HA_TOKEN", "HA_TOKEN_PARAMETER", "HA_TOKEN_SECRET"]
                .into_iter()
                .filter_map(|name| get(name).map(|v| (name, v)))
                .collect();
        let (token, source) = match given.as_slice() {
            [] => {
                return Err(Error::Config {
                    variable: "HA_TOKEN",
                    message: "The environment variable HA_TOKEN is not set.".into(),
                })
            }
            [("HA_TOKEN", token)] => (token.clone(), None),
            [(name, reference)] => {
                let source = if *name == "HA_TOKEN_PARAMETER" {
                    TokenSource::Parameter(reference.clone())
                } else {
                    TokenSource::Secret(reference.clone())
                };
                let extension = Extension::from_env(&lookup)?;
                let token = crate::token::token(hub.tokens(), &source, &extension, deadline)?;
                (token, Some((source, extension)))
            }
            [_, (second, _), ..] => {
                let names: Vec<&str> = given.iter().map(|(n, _)| *n).collect();
                return Err(Error::ConfigInvalid {
                    variable: second,
                    message: format!(
                        "Set exactly one of HA_TOKEN, HA_TOKEN_PARAMETER and HA_TOKEN_SECRET, not {}.",
                        names.join(" and ")
                    )
                    .into(),
                });
            }
        };
        if let Some(path) = get("HA_CA_CERT") {
            trust_ca_file(hub, &path)?;
        }
        let mut config = HaConfig::new(&url, &token).map_err(|e| Error::Config {
            variable: "HA_URL",
            message: format!("HA_URL is unusable: {e}").into(),
        })?;
        config.source = source;
        Ok(config)
    }

    /// The same settings with the token read once more from where it came from, when that
    /// was the extension and the token changed (Home Assistant refused the old one: a
    /// rotated secret). `None` when there is nothing new to try.
    pub(crate) fn refreshed(
        &self,
        cache: &crate::token::TokenCache,
        deadline: &Deadline,
    ) -> Result<Option<HaConfig>> {
        let Some((source, extension)) = &self.source else {
            return Ok(None);
        };
        crate::token::forget(cache, source);
        let token = crate::token::token(cache, source, extension, deadline)?;
        if token == self.token {
            return Ok(None);
        }
        let mut config = HaConfig::new(&self.ws_url, &token)?;
        config.source = self.source.clone();
        Ok(Some(config))
    }

    /// The WebSocket URL (may contain a query string: log it only through
    /// `debug::redact_url`).
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// `text` with every occurrence of the token replaced: what Home Assistant (or a
    /// server posing as it) says back may quote what it was sent.
    ///
    /// ```
    /// let config = home_assistant::HaConfig::new("http://h", "s3cr3t-t0ken").unwrap();
    /// assert_eq!(config.scrub("bad token s3cr3t-t0ken"), "bad token <redacted>");
    /// ```
    pub fn scrub(&self, text: &str) -> String {
        debug::redact(&text.replace(&self.token, debug::REDACTED)).into_owned()
    }
}

fn missing(name: &'static str) -> Error {
    Error::Config {
        variable: name,
        message: format!("The environment variable {name} is not set.").into(),
    }
}

/// Trusts the CA in a PEM file for `hub`'s connections, once per path.
fn trust_ca_file(hub: &crate::HomeAssistant, path: &str) -> Result<()> {
    hub.trust_file_once(path, || {
        let pem = std::fs::read(path).map_err(|e| Error::Config {
            variable: "HA_CA_CERT",
            message: format!("HA_CA_CERT names a file that cannot be read: {e}.").into(),
        })?;
        hub.add_root_certificate(&pem).map_err(|e| Error::Config {
            variable: "HA_CA_CERT",
            message: format!("HA_CA_CERT does not hold a PEM certificate: {e}").into(),
        })
    })
}

/// The Home Assistant WebSocket URL for a base or WebSocket URL.
fn websocket_url(raw: &str) -> Result<String> {
    let mut url = url::Url::parse(raw.trim())
        .map_err(|e| Error::invalid_parameter("url", &format!("not a valid URL ({e})")))?;
    let scheme = match url.scheme() {
        "ws" | "wss" => return Ok(url.into()),
        "http" => "ws",
        "https" => "wss",
        other => {
            return Err(Error::invalid_parameter(
                "url",
                &format!("scheme must be http, https, ws or wss, not '{other}'"),
            ))
        }
    };
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_parameter("url", "the URL names no host"));
    }
    // http→ws and https→wss keep the URL valid, so this cannot fail.
    let _ = url.set_scheme(scheme);
    // A base URL gets Home Assistant's WebSocket path; one that already ends in it keeps it.
    let base = url.path().trim_end_matches('/');
    if !base.ends_with("/api/websocket") {
        let path = format!("{base}/api/websocket");
        url.set_path(&path);
    }
    Ok(url.into())
}
