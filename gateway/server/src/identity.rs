//! Who a connection belongs to: the principal a REQUEST authorizer put into
//! `requestContext.authorizer`, or — only with `APIGW_DEV_IDENTITY=true`, for development —
//! a `user_id` query parameter.

use apigateway::WsEvent;

/// Where the user id comes from.
///
/// ```
/// let dev = server_gateway::Identity { dev_identity: true };
/// assert!(dev.dev_identity);
/// assert!(!server_gateway::Identity::from_env().dev_identity || std::env::var("APIGW_DEV_IDENTITY").is_ok());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Identity {
    /// Take `?user_id=` when no authorizer ran (development only: anyone can claim any id).
    pub dev_identity: bool,
}

impl Identity {
    /// `APIGW_DEV_IDENTITY=true` (only `true`/`1`/`yes`/`on`) turns the development
    /// identity on; off by default.
    pub fn from_env() -> Identity {
        Identity {
            dev_identity: std::env::var("APIGW_DEV_IDENTITY").is_ok_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on")
            }),
        }
    }

    /// The user of `event`: the authorizer's principal first; the query's `user_id` only
    /// with the development identity on.
    pub fn user_of(&self, event: &WsEvent) -> Option<String> {
        if let Some(principal) = event.authorizer_principal() {
            return Some(principal.to_owned());
        }
        if self.dev_identity {
            return event.query("user_id").map(str::to_owned);
        }
        None
    }
}
