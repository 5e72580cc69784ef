//! Reading a [`ConnectionConfig`] from the `WS_*` environment (and the proxy variables).
//! Only the per-process core does this; owned cores take what they are given, and tests
//! pass a lookup function instead of changing the process's environment.

use std::time::Duration;

use crate::connection_config::{ConfigProblem, ConnectionConfig, MAX_QUEUE_LIMIT, MAX_SIZE_LIMIT};
use crate::proxy::{NoProxy, Proxies, ProxyServer};

/// Every variable [`ConnectionConfig::from_lookup`] reads, in documentation order.
pub const WS_VARIABLES: [&str; 14] = [
    "WS_OPEN_TIMEOUT",
    "WS_CLOSE_TIMEOUT",
    "WS_PING_INTERVAL",
    "WS_PING_TIMEOUT",
    "WS_MAX_MESSAGE_SIZE",
    "WS_MAX_FRAME_SIZE",
    "WS_MAX_QUEUE_SIZE",
    "WS_RECONNECT_ENABLED",
    "WS_RECONNECT_MAX_ATTEMPTS",
    "WS_RECONNECT_BACKOFF_BASE",
    "WS_RECONNECT_BACKOFF_MAX",
    "WS_RECONNECT_JITTER",
    "WS_TLS_INSECURE",
    "WS_CA_CERT",
];

type Parsed<T> = std::result::Result<T, ConfigProblem>;

/// One variable's value, trimmed; unset and empty are the same.
struct Lookup<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Lookup<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The lowercase name first (curl's order), then the uppercase one.
    fn either(&self, upper: &'static str) -> Option<(&'static str, String)> {
        let lower: &'static str = match upper {
            "HTTP_PROXY" => "http_proxy",
            "HTTPS_PROXY" => "https_proxy",
            _ => "no_proxy",
        };
        self.get(lower)
            .map(|v| (lower, v))
            .or_else(|| self.get(upper).map(|v| (upper, v)))
    }
}

fn problem(variable: &'static str, what: &str, value: Option<&str>) -> ConfigProblem {
    let problem = match value {
        Some(value) => {
            let shown: String = value.chars().take(32).collect();
            format!("{variable} {what}, not '{}'", debug::escape_line(&shown))
        }
        None => format!("{variable} {what}"),
    };
    ConfigProblem {
        variable,
        problem: problem.into(),
    }
}

fn seconds(lookup: &Lookup<'_>, name: &'static str, default: Duration) -> Parsed<Duration> {
    let Some(value) = lookup.get(name) else {
        return Ok(default);
    };
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 900.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(problem(
            name,
            "must be a number of seconds greater than 0 and at most 900",
            Some(&value),
        )),
    }
}

fn count(
    lookup: &Lookup<'_>,
    name: &'static str,
    range: (u64, u64),
    unit: &str,
    default: u64,
) -> Parsed<u64> {
    let Some(value) = lookup.get(name) else {
        return Ok(default);
    };
    match value.parse::<u64>() {
        Ok(n) if (range.0..=range.1).contains(&n) => Ok(n),
        _ => Err(problem(
            name,
            &format!(
                "must be a whole number of {unit} from {} to {}",
                range.0, range.1
            ),
            Some(&value),
        )),
    }
}

fn flag(lookup: &Lookup<'_>, name: &'static str, default: bool) -> Parsed<bool> {
    let Some(value) = lookup.get(name) else {
        return Ok(default);
    };
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(problem(name, "must be true or false", Some(&value))),
    }
}

impl ConnectionConfig {
    /// The settings from the process's environment: every `WS_*` variable of the table in
    /// docs/configuration.md, `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` (lowercase names
    /// first). An unset or empty variable takes the default; a malformed one is a
    /// [`ConfigProblem`] naming it — never ignored.
    pub fn from_env() -> std::result::Result<ConnectionConfig, ConfigProblem> {
        ConnectionConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`ConnectionConfig::from_env`] with `lookup` standing in for the environment.
    /// (`WS_CA_CERT` is read by the core, which owns the trust store:
    /// [`WebSocketCore::from_lookup`](crate::WebSocketCore::from_lookup).)
    ///
    /// ```
    /// use std::time::Duration;
    /// use websocket::ConnectionConfig;
    /// let env = |name: &str| match name {
    ///     "WS_OPEN_TIMEOUT" => Some("2.5".to_owned()),
    ///     "WS_PING_INTERVAL" => Some("none".to_owned()),
    ///     _ => None,
    /// };
    /// let config = ConnectionConfig::from_lookup(env).unwrap();
    /// assert_eq!(config.open_timeout, Duration::from_millis(2500));
    /// assert_eq!(config.ping_interval, None);
    /// let bad = ConnectionConfig::from_lookup(|n: &str| (n == "WS_CLOSE_TIMEOUT").then(|| "soon".to_owned()));
    /// assert_eq!(bad.unwrap_err().variable, "WS_CLOSE_TIMEOUT");
    /// ```
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> std::result::Result<ConnectionConfig, ConfigProblem> {
        let lookup = Lookup(&lookup);
        let default = ConnectionConfig::default();
        let mut config = ConnectionConfig {
            open_timeout: seconds(&lookup, "WS_OPEN_TIMEOUT", default.open_timeout)?,
            close_timeout: seconds(&lookup, "WS_CLOSE_TIMEOUT", default.close_timeout)?,
            ping_interval: match lookup.get("WS_PING_INTERVAL") {
                Some(v) if v.eq_ignore_ascii_case("none") => None,
                _ => Some(
                    seconds(&lookup, "WS_PING_INTERVAL", Duration::from_secs(20)).map_err(
                        |mut p| {
                            p.problem = p
                                .problem
                                .replacen("at most 900", "at most 900, or none", 1)
                                .into();
                            p
                        },
                    )?,
                ),
            },
            ping_timeout: seconds(&lookup, "WS_PING_TIMEOUT", default.ping_timeout)?,
            ..default.clone()
        };
        let size_range = (1, MAX_SIZE_LIMIT as u64);
        let message = count(
            &lookup,
            "WS_MAX_MESSAGE_SIZE",
            size_range,
            "bytes",
            default.max_message_size as u64,
        )?;
        config.max_message_size = message as usize;
        config.max_frame_size =
            count(&lookup, "WS_MAX_FRAME_SIZE", size_range, "bytes", message)? as usize;
        config.max_queue_size = count(
            &lookup,
            "WS_MAX_QUEUE_SIZE",
            (1, MAX_QUEUE_LIMIT as u64),
            "messages",
            default.max_queue_size as u64,
        )? as usize;

        let r = &mut config.reconnect;
        r.enabled = flag(&lookup, "WS_RECONNECT_ENABLED", r.enabled)?;
        r.max_attempts = count(
            &lookup,
            "WS_RECONNECT_MAX_ATTEMPTS",
            (0, u64::from(u32::MAX)),
            "attempts",
            u64::from(r.max_attempts),
        )? as u32;
        r.backoff_base = seconds(&lookup, "WS_RECONNECT_BACKOFF_BASE", r.backoff_base)?;
        r.backoff_max = seconds(&lookup, "WS_RECONNECT_BACKOFF_MAX", r.backoff_max)?;
        if r.backoff_max < r.backoff_base {
            return Err(problem(
                "WS_RECONNECT_BACKOFF_MAX",
                "must be at least WS_RECONNECT_BACKOFF_BASE",
                None,
            ));
        }
        if let Some(value) = lookup.get("WS_RECONNECT_JITTER") {
            r.jitter = match value.parse::<f64>() {
                Ok(j) if (0.0..=1.0).contains(&j) => j,
                _ => {
                    return Err(problem(
                        "WS_RECONNECT_JITTER",
                        "must be a number from 0 to 1",
                        Some(&value),
                    ))
                }
            };
        }
        config.tls_insecure = flag(&lookup, "WS_TLS_INSECURE", false)?;
        config.proxy = proxies(&lookup)?;
        Ok(config)
    }
}

fn proxies(lookup: &Lookup<'_>) -> Parsed<Proxies> {
    let server = |upper: &'static str| -> Parsed<Option<ProxyServer>> {
        match lookup.either(upper) {
            None => Ok(None),
            // A proxy URL may hold a password: the problem never quotes it.
            Some((name, value)) => ProxyServer::parse(&value)
                .map(Some)
                .map_err(|what| problem(name, &what, None)),
        }
    };
    Ok(Proxies {
        http: server("HTTP_PROXY")?,
        https: server("HTTPS_PROXY")?,
        no_proxy: lookup
            .either("NO_PROXY")
            .map(|(_, v)| NoProxy::parse(&v))
            .unwrap_or_default(),
    })
}
