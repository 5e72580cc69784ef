//! Who a connection belongs to, decided once on `$connect`: the identity a REQUEST
//! authorizer put into `requestContext.authorizer` (AWS passes it on every later route
//! too), else a verified JWT (`?token=`, `Authorization: Bearer`, or the subprotocol pair
//! `bearer, <token>`), else — only with `APIGW_DEV_IDENTITY=true`, for development — the
//! `user_id` query parameter (and `scope`, space-separated), else anonymous when no key is configured. A browser from an
//! origin outside `APIGW_ALLOWED_ORIGINS` is refused first.

use std::sync::Arc;
use std::time::Instant;

use apigateway::auth::{Credential, TokenSource, Verifier, BEARER_PROTOCOL};
use apigateway::{Error, Result, WsEvent};
use serde_json::Value;

/// Who a connection is: its user, its scopes, and the subprotocol the `$connect` answer
/// selects (`bearer` when the token came that way).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    /// The user id (`sub`, the authorizer's `principalId`, or the development `user_id`).
    pub user_id: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The subprotocol to select in the answer.
    pub protocol: Option<&'static str>,
}

impl Principal {
    /// The identity an authorizer put into the event, when one ran: `principalId` and the
    /// scopes of its `scope` (or `scopes`) context value.
    pub fn from_authorizer(event: &WsEvent) -> Option<Principal> {
        let user = event.authorizer_principal()?;
        let context = event.authorizer_context();
        let scopes = Verifier::scopes_of(context.get("scope").or_else(|| context.get("scopes")));
        Some(Principal {
            user_id: Some(user.to_owned()),
            scopes,
            protocol: None,
        })
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// The rule that decides who may connect.
///
/// ```
/// let open = server_gateway::Identity::default();
/// assert!(!open.requires_token());
/// let dev = server_gateway::Identity::development();
/// assert!(dev.is_development());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Identity {
    dev_identity: bool,
    verifier: Option<Arc<Verifier>>,
    allowed_origins: Vec<String>,
    /// Set when the environment's configuration is malformed: every `$connect` is refused.
    broken: Option<String>,
}

fn forbidden(reason: &str) -> Error {
    Error::Forbidden {
        reason: reason.into(),
    }
}

fn normal_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

impl Identity {
    /// The development identity: `?user_id=` names the user (anyone can claim any id).
    pub fn development() -> Identity {
        Identity {
            dev_identity: true,
            ..Identity::default()
        }
    }

    /// A JWT is required on `$connect` (unless an authorizer already ran).
    pub fn jwt(verifier: Verifier) -> Identity {
        Identity {
            verifier: Some(Arc::new(verifier)),
            ..Identity::default()
        }
    }

    /// Browsers (requests with an `Origin` header) only from these origins
    /// (`https://chat.example.com`); devices send no `Origin` and are not refused for it.
    pub fn with_allowed_origins(mut self, origins: &[&str]) -> Identity {
        self.allowed_origins = origins.iter().map(|o| normal_origin(o)).collect();
        self
    }

    /// The rule the environment gives through `lookup`: a verifier when `APIGW_JWT_SECRET`,
    /// `APIGW_JWT_PUBLIC_KEY` or `APIGW_JWT_JWKS_URL` is set, `APIGW_ALLOWED_ORIGINS`
    /// (comma-separated), `APIGW_DEV_IDENTITY=true` for the development identity.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Identity> {
        let dev_identity = lookup("APIGW_DEV_IDENTITY").is_some_and(|v| {
            matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on")
        });
        let origins = lookup("APIGW_ALLOWED_ORIGINS").unwrap_or_default();
        let origins: Vec<&str> = origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .collect();
        if origins
            .iter()
            .any(|o| !(o.starts_with("http://") || o.starts_with("https://")))
        {
            return Err(Error::invalid(
                "APIGW_ALLOWED_ORIGINS",
                "must be comma-separated origins such as https://chat.example.com",
            ));
        }
        let verifier = Verifier::from_lookup(&lookup)?;
        Ok(Identity {
            dev_identity,
            verifier: verifier.map(Arc::new),
            allowed_origins: Vec::new(),
            broken: None,
        }
        .with_allowed_origins(&origins))
    }

    /// [`Identity::from_lookup`] of the process environment; a malformed configuration
    /// gives a rule that refuses every `$connect` (500) — never an open door.
    pub fn from_env() -> Identity {
        Identity::from_lookup(|name| std::env::var(name).ok()).unwrap_or_else(|e| Identity {
            broken: Some(e.to_string()),
            ..Identity::default()
        })
    }

    /// Whether a token is required (a key is configured).
    pub fn requires_token(&self) -> bool {
        self.verifier.is_some()
    }

    /// Whether the development identity is on.
    pub fn is_development(&self) -> bool {
        self.dev_identity
    }

    /// Why the configuration is unusable, if it is.
    pub fn broken(&self) -> Option<&str> {
        self.broken.as_deref()
    }

    /// Who sends a management request with this `Authorization` value: a bearer JWT the
    /// configured key verifies. Without a key nothing is admitted (the management API never
    /// runs open).
    pub async fn admit_bearer(
        &self,
        authorization: Option<&str>,
        deadline: Instant,
    ) -> Result<Principal> {
        self.check_configured()?;
        let Some(verifier) = &self.verifier else {
            return Err(Error::Unauthorized {
                reason: "no key is configured for the management API".into(),
            });
        };
        let credential = Credential::from_parts(None, authorization, None).ok_or_else(|| {
            Error::Unauthorized {
                reason: "no bearer token".into(),
            }
        })?;
        verified(verifier, &credential, deadline).await
    }

    fn check_configured(&self) -> Result<()> {
        match &self.broken {
            Some(problem) => Err(Error::invalid("configuration", problem.clone())),
            None => Ok(()),
        }
    }

    /// Who `event` (a `$connect`) is, or why not: [`Error::Forbidden`] for an origin
    /// outside the list, [`Error::Unauthorized`] for a missing or failing token. The token
    /// is a registered secret of the debug crate while it is read.
    pub async fn admit(&self, event: &WsEvent, deadline: Instant) -> Result<Principal> {
        self.check_configured()?;
        if !self.allowed_origins.is_empty() {
            if let Some(origin) = event.header("origin") {
                if !self.allowed_origins.contains(&normal_origin(origin)) {
                    return Err(forbidden("the origin is not allowed"));
                }
            }
        }
        if let Some(principal) = Principal::from_authorizer(event) {
            return Ok(principal);
        }
        if let Some(verifier) = &self.verifier {
            let credential = Credential::from_event(event).ok_or_else(|| Error::Unauthorized {
                reason: "no token (query token, Authorization: Bearer, or the bearer subprotocol)"
                    .into(),
            })?;
            return verified(verifier, &credential, deadline).await;
        }
        if self.dev_identity {
            return Ok(Principal {
                user_id: event.query("user_id").map(str::to_owned),
                scopes: Verifier::scopes_of(event.query("scope").map(Value::from).as_ref()),
                protocol: None,
            });
        }
        Ok(Principal::default())
    }
}

/// Who `credential` is, by `verifier`: the token a registered secret of the debug crate
/// while it is read; `bearer` selected when it came as the subprotocol.
async fn verified(
    verifier: &Verifier,
    credential: &Credential,
    deadline: Instant,
) -> Result<Principal> {
    let _guard = debug::register_secret(credential.token());
    let claims = verifier.verify(credential.token(), deadline).await?;
    Ok(Principal {
        user_id: Some(claims.sub),
        scopes: claims.scopes,
        protocol: (credential.source == TokenSource::Subprotocol).then_some(BEARER_PROTOCOL),
    })
}
