//! A JWKS (Cognito's, Auth0's): fetched over HTTPS (plain HTTP only on loopback), cached,
//! refetched when it is older than its lifetime or — once, and not more often than the
//! cooldown — when a token names a `kid` it does not have (the issuer rotated its keys).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use debug::debug_line;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, OnceCell};

use crate::error::{Error, Result};
use crate::SCOPE;

/// Longest a JWKS fetch takes (connect, TLS, answer), cut further by the caller's deadline.
pub const JWKS_TIMEOUT: Duration = Duration::from_secs(3);
/// Largest JWKS body read.
pub const JWKS_BODY_LIMIT: usize = 64 << 10;
/// Keys kept from one JWKS at most.
const MAX_KEYS: usize = 32;

type Https = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

#[derive(Default)]
struct Cache {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    fetched: Option<Instant>,
}

/// A JWKS endpoint and its cached keys; clones share the cache.
///
/// ```
/// let jwks = apigateway::auth::Jwks::new("https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json").unwrap();
/// assert!(apigateway::auth::Jwks::new("http://example.com/jwks.json").is_err(), "plain HTTP only on loopback");
/// # let _ = jwks;
/// ```
#[derive(Clone)]
pub struct Jwks {
    url: hyper::Uri,
    cache: Arc<Mutex<Cache>>,
    client: Arc<OnceCell<Https>>,
    /// How long fetched keys are used before a refetch.
    pub lifetime: Duration,
    /// The shortest time between two fetches for an unknown `kid`.
    pub cooldown: Duration,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("host", &self.url.host().unwrap_or_default())
            .field("lifetime", &self.lifetime)
            .field("cooldown", &self.cooldown)
            .finish()
    }
}

fn unauthorized(reason: &str) -> Error {
    Error::Unauthorized {
        reason: reason.into(),
    }
}

impl Jwks {
    /// The JWKS at `url`: `https://`, or `http://` on a loopback host. Keys live an hour;
    /// an unknown `kid` refetches at most every 30 s.
    pub fn new(url: &str) -> Result<Jwks> {
        let bad = |problem: &str| Error::invalid("APIGW_JWT_JWKS_URL", problem.to_owned());
        let parsed = url::Url::parse(url).map_err(|_| bad("must be a URL"))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(bad("must not carry credentials"));
        }
        let loopback = match parsed.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(bad("must name a host")),
        };
        match parsed.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err(bad("must be https (http only on a loopback host)")),
        }
        let url: hyper::Uri = parsed.as_str().parse().map_err(|_| bad("must be a URL"))?;
        Ok(Jwks {
            url,
            cache: Arc::new(Mutex::new(Cache::default())),
            client: Arc::new(OnceCell::new()),
            lifetime: Duration::from_secs(3600),
            cooldown: Duration::from_secs(30),
        })
    }

    /// The key named `kid` and its algorithm, fetching the set when it is missing or old
    /// (at most once more for an unknown `kid`), before `deadline`.
    pub(crate) async fn key(
        &self,
        kid: &str,
        deadline: Instant,
    ) -> Result<(DecodingKey, Algorithm)> {
        let mut cache = self.cache.lock().await;
        let mut fetched_now = false;
        if cache.fetched.is_none_or(|t| t.elapsed() >= self.lifetime) {
            self.refresh(&mut cache, deadline).await?;
            fetched_now = true;
        }
        if let Some(found) = cache.keys.get(kid) {
            return Ok(found.clone());
        }
        let may_refetch = cache.fetched.is_none_or(|t| t.elapsed() >= self.cooldown);
        if !fetched_now && may_refetch {
            debug_line!(SCOPE, "JWKS refetch for an unknown key id");
            self.refresh(&mut cache, deadline).await?;
            if let Some(found) = cache.keys.get(kid) {
                return Ok(found.clone());
            }
        }
        Err(unauthorized("the token's key (kid) is not in the key set"))
    }

    async fn refresh(&self, cache: &mut Cache, deadline: Instant) -> Result<()> {
        let fetched = self.fetch(deadline).await;
        // A failed fetch is retried no sooner than the cooldown either way.
        cache.fetched = Some(Instant::now());
        let set = fetched?;
        let mut keys = HashMap::new();
        for jwk in set.keys.iter().take(MAX_KEYS) {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
                (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
                (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                    if ec.curve == EllipticCurve::P256 =>
                {
                    Algorithm::ES256
                }
                _ => continue,
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid, (key, alg));
            }
        }
        debug_line!(SCOPE, "JWKS fetched (keys={})", keys.len());
        cache.keys = keys;
        Ok(())
    }

    async fn fetch(&self, deadline: Instant) -> Result<JwkSet> {
        let failed = |reason: &str| {
            debug::warn_line(&SCOPE, format_args!("JWKS fetch failed ({reason})"));
            unauthorized("the key set could not be fetched")
        };
        let client = self
            .client
            .get_or_try_init(|| async {
                let https = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_native_roots()?
                    .https_or_http()
                    .enable_http1()
                    .build();
                Ok::<Https, std::io::Error>(Client::builder(TokioExecutor::new()).build(https))
            })
            .await
            .map_err(|_| failed("no trust roots"))?;
        let request = hyper::Request::get(self.url.clone())
            .header("accept", "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|_| failed("request not built"))?;
        let left = deadline
            .saturating_duration_since(Instant::now())
            .min(JWKS_TIMEOUT);
        let fetched = tokio::time::timeout(left, async {
            let response = client.request(request).await.map_err(|_| "unreachable")?;
            if !response.status().is_success() {
                return Err("not a 2xx answer");
            }
            let body = Limited::new(response.into_body(), JWKS_BODY_LIMIT)
                .collect()
                .await
                .map_err(|_| "body too large or cut")?;
            Ok(body.to_bytes())
        })
        .await
        .map_err(|_| failed("timed out"))?
        .map_err(failed)?;
        serde_json::from_slice::<JwkSet>(&fetched).map_err(|_| failed("not a JWKS"))
    }
}
