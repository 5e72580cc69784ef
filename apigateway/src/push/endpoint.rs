//! Where the Management API is, by one documented rule.

use crate::error::{Error, Result};

/// The variable that names the Management API's endpoint (stage included). The global
/// `AWS_ENDPOINT_URL` is *not* used for it: locally it points at the DynamoDB emulator.
pub const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI";

fn is_loopback(domain: &str) -> bool {
    let host = if let Some(rest) = domain.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        domain.rsplit_once(':').map_or(domain, |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                domain
            }
        })
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The Management API's endpoint for an event's API: `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`
/// first (`lookup` reads the environment); else `http://{domainName}/{stage}` when the
/// event's `domainName` is a loopback address (the local emulator); else
/// `https://{apiId}.execute-api.{AWS_REGION}.amazonaws.com/{stage}` — never `{domainName}`,
/// which behind a custom domain and its base-path mapping is not the Management API.
///
/// ```
/// use apigateway::management_endpoint;
/// let env = |name: &str| (name == "AWS_REGION").then(|| "eu-west-1".to_owned());
/// assert_eq!(
///     management_endpoint(env, Some("chat.example.com"), Some("prod"), Some("abc123")).unwrap(),
///     "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
/// );
/// assert_eq!(
///     management_endpoint(|_| None, Some("127.0.0.1:3001"), Some("local"), None).unwrap(),
///     "http://127.0.0.1:3001/local"
/// );
/// ```
pub fn management_endpoint(
    lookup: impl Fn(&str) -> Option<String>,
    domain: Option<&str>,
    stage: Option<&str>,
    api_id: Option<&str>,
) -> Result<String> {
    if let Some(url) = lookup(ENDPOINT_VARIABLE).filter(|u| !u.is_empty()) {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::invalid(
                ENDPOINT_VARIABLE,
                "must be an http(s) URL with the stage",
            ));
        }
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let stage = stage
        .filter(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        })
        .ok_or_else(|| Error::invalid("stage", "the event names no usable stage"))?;
    if let Some(domain) = domain.filter(|d| is_loopback(d)) {
        return Ok(format!("http://{domain}/{stage}"));
    }
    let api = api_id
        .filter(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or_else(|| Error::invalid("apiId", "the event names no usable API id"))?;
    let region = lookup("AWS_REGION")
        .or_else(|| lookup("AWS_DEFAULT_REGION"))
        .filter(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .ok_or_else(|| Error::invalid("AWS_REGION", "must name the region"))?;
    Ok(format!(
        "https://{api}.execute-api.{region}.amazonaws.com/{stage}"
    ))
}
