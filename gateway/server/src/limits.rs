//! Limits that keep one user or client from exhausting the rest: connections per user,
//! message size, a per-connection message rate.

use std::time::Duration;

use apigateway::{Error, Result, API_GATEWAY_MESSAGE_LIMIT};

/// Connections one user may hold when `APIGW_MAX_CONNECTIONS_PER_USER` is not set.
pub const DEFAULT_CONNECTIONS_PER_USER: usize = 5;
/// Messages per window when `APIGW_RATE_LIMIT` is not set.
pub const DEFAULT_RATE_LIMIT: u32 = 120;
/// The rate's window when `APIGW_RATE_WINDOW` is not set.
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(60);

/// A fixed-window message rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Messages admitted per window.
    pub messages: u32,
    /// The window.
    pub window: Duration,
}

/// The router's limits.
///
/// ```
/// let limits = server_gateway::Limits::default();
/// assert_eq!(limits.connections_per_user, 5);
/// assert_eq!(limits.max_message_bytes, 128 * 1024);
/// let none = server_gateway::Limits::from_lookup(|name| match name {
///     "APIGW_MAX_CONNECTIONS_PER_USER" | "APIGW_RATE_LIMIT" => Some("0".into()),
///     _ => None,
/// }).unwrap();
/// assert_eq!((none.connections_per_user, none.rate), (0, None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections one user may hold (0: no limit).
    pub connections_per_user: usize,
    /// Largest message body served, in bytes (API Gateway's own limit is 128 KB).
    pub max_message_bytes: usize,
    /// Messages per connection and window (`None`: no limit).
    pub rate: Option<RateLimit>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connections_per_user: DEFAULT_CONNECTIONS_PER_USER,
            max_message_bytes: API_GATEWAY_MESSAGE_LIMIT,
            rate: Some(RateLimit {
                messages: DEFAULT_RATE_LIMIT,
                window: DEFAULT_RATE_WINDOW,
            }),
        }
    }
}

fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>> {
    match lookup(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or_else(|| {
                Error::invalid(
                    name,
                    format!("must be a number from {} to {}", range.start(), range.end()),
                )
            }),
    }
}

impl Limits {
    /// `APIGW_MAX_CONNECTIONS_PER_USER` (0 to 10000, 0: none), `APIGW_MAX_MESSAGE_BYTES`
    /// (1 to 131072), `APIGW_RATE_LIMIT` (messages per window, 0 to 100000, 0: none),
    /// `APIGW_RATE_WINDOW` (seconds, 1 to 3600), through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Limits> {
        let mut limits = Limits::default();
        if let Some(n) = number(&lookup, "APIGW_MAX_CONNECTIONS_PER_USER", 0..=10_000)? {
            limits.connections_per_user = n as usize;
        }
        if let Some(n) = number(
            &lookup,
            "APIGW_MAX_MESSAGE_BYTES",
            1..=API_GATEWAY_MESSAGE_LIMIT as u64,
        )? {
            limits.max_message_bytes = n as usize;
        }
        let messages = number(&lookup, "APIGW_RATE_LIMIT", 0..=100_000)?
            .map_or(DEFAULT_RATE_LIMIT, |n| n as u32);
        let window = number(&lookup, "APIGW_RATE_WINDOW", 1..=3600)?
            .map_or(DEFAULT_RATE_WINDOW, Duration::from_secs);
        limits.rate = (messages > 0).then_some(RateLimit { messages, window });
        Ok(limits)
    }

    /// [`Limits::from_lookup`] of the process environment.
    pub fn from_env() -> Result<Limits> {
        Limits::from_lookup(|name| std::env::var(name).ok())
    }
}
