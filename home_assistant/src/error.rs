//! What can go wrong talking to Home Assistant, and how it reads in an envelope.

use gateway::{ErrorCode, Failure};
use serde_json::Value;

/// Why a Home Assistant call failed.
///
/// ```
/// let err = home_assistant::Error::NoEntity { entity_id: "light.garage".into() };
/// assert_eq!(err.to_string(), "Home Assistant has no entity 'light.garage'.");
/// let failure = gateway::Failure::from(&err);
/// assert_eq!(failure.code, home_assistant::codes::HA_COMMAND_FAILED);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The WebSocket below failed, or a parameter is invalid.
    #[error(transparent)]
    Gateway(#[from] gateway::Error),
    /// Home Assistant refused the access token.
    #[error("Home Assistant refused the access token.")]
    AuthFailed {
        /// Home Assistant's explanation.
        ha_message: Option<Box<str>>,
    },
    /// Home Assistant answered a command with `success: false`.
    #[error("Home Assistant rejected the command: {} ({}).", .0.message, .0.code)]
    CommandFailed(Box<CommandFailure>),
    /// `get_state` found no such entity.
    #[error("Home Assistant has no entity '{entity_id}'.")]
    NoEntity {
        /// The entity asked for.
        entity_id: Box<str>,
    },
    /// A template did not render.
    #[error("Home Assistant could not render the template.")]
    TemplateFailed {
        /// Home Assistant's error.
        error: Box<Value>,
    },
    /// Home Assistant sent a message the protocol does not allow at this point.
    #[error("Expected {expected} from Home Assistant, got a message of type '{got}'.")]
    Unexpected {
        /// What the protocol calls for.
        expected: &'static str,
        /// The type that came.
        got: Box<str>,
    },
    /// Configuration that is set but cannot be used: two token variables at once, a
    /// parameter or secret that cannot be read.
    #[error("{message}")]
    ConfigInvalid {
        /// The variable.
        variable: &'static str,
        /// What is wrong, as a sentence (never the token).
        message: Box<str>,
    },
    /// No subscription has this id in this process (it ended, or was made in another
    /// container).
    #[error("There is no Home Assistant subscription {subscription} in this process.")]
    NoSubscription {
        /// The id asked for.
        subscription: u64,
    },
    /// A session holds the most subscriptions it may.
    #[error("A Home Assistant session holds at most {max} subscriptions.")]
    TooManySubscriptions {
        /// The bound.
        max: usize,
    },
    /// The states a `subscribe_entities` subscription folds would pass their bound.
    #[error("The entity states of the subscription would pass {limit} bytes.")]
    FoldTooLarge {
        /// The bound in bytes.
        limit: usize,
    },
    /// A command was sent and then the session failed or its answer did not come in time:
    /// Home Assistant may have carried it out, so it is not sent again.
    #[error("{cause} The command may have been carried out; it is not sent again.")]
    OutcomeUnknown {
        /// The command's type.
        command_type: Box<str>,
        /// What happened after it was sent.
        cause: Box<Error>,
    },
    /// A required environment variable is missing or unusable.
    #[error("{message}")]
    Config {
        /// The variable.
        variable: &'static str,
        /// What is wrong, as a sentence.
        message: Box<str>,
    },
}

/// A command Home Assistant rejected.
#[derive(Debug)]
pub struct CommandFailure {
    /// Home Assistant's error code (`not_found`, `invalid_format`, ...).
    pub code: String,
    /// Home Assistant's message.
    pub message: String,
    /// The command's `type`, when known.
    pub command_type: Option<String>,
}

/// Result of every Home Assistant call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A missing, ill-typed or invalid parameter.
    pub fn invalid_parameter(name: &str, problem: &str) -> Error {
        Error::Gateway(gateway::Error::invalid_parameter(name, problem))
    }

    /// Whether the session the error happened on can no longer be used.
    pub(crate) fn breaks_session(&self) -> bool {
        match self {
            Error::Gateway(gateway::Error::Websocket(w)) => w.breaks_connection(),
            Error::Unexpected { .. } => true,
            Error::OutcomeUnknown { cause, .. } => cause.breaks_session(),
            _ => false,
        }
    }

    /// Whether it came from the connection (not from Home Assistant's answer or a check of
    /// ours): after a command was sent, such an error leaves its outcome unknown.
    pub(crate) fn is_transport(&self) -> bool {
        matches!(self, Error::Gateway(gateway::Error::Websocket(_)))
            || matches!(self, Error::Unexpected { .. })
    }

    /// The envelope code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Gateway(e) => gateway::error_code(e),
            Error::AuthFailed { .. } => crate::codes::HA_AUTH_FAILED,
            Error::CommandFailed(_) | Error::NoEntity { .. } | Error::TemplateFailed { .. } => {
                crate::codes::HA_COMMAND_FAILED
            }
            Error::Unexpected { .. } => gateway::codes::WEBSOCKET_RECEIVE_FAILED,
            Error::Config { .. } => gateway::codes::CONFIG_MISSING,
            Error::NoSubscription { .. } => crate::codes::HA_NO_SUBSCRIPTION,
            Error::TooManySubscriptions { .. } => gateway::codes::REGISTRY_FULL,
            Error::FoldTooLarge { .. } => gateway::codes::MESSAGE_TOO_LARGE,
            Error::OutcomeUnknown { cause, .. } => cause.code(),
            Error::ConfigInvalid { .. } => gateway::codes::CONFIG_INVALID,
        }
    }
}

impl From<websocket::Error> for Error {
    fn from(e: websocket::Error) -> Error {
        Error::Gateway(e.into())
    }
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Failure {
        let failure = match e {
            Error::Gateway(inner) => return Failure::from(inner),
            Error::OutcomeUnknown {
                command_type,
                cause,
            } => {
                let mut failure = Failure::from(cause.as_ref())
                    .with_detail("outcome", "unknown")
                    .with_detail("command_type", command_type.as_ref());
                failure.message = e.to_string();
                return failure;
            }
            other => Failure::new(other.code(), other.to_string()),
        };
        match e {
            Error::AuthFailed { ha_message } => match ha_message {
                Some(m) => failure.with_detail("ha_message", m.as_ref()),
                None => failure,
            },
            Error::CommandFailed(f) => {
                let failure = failure
                    .with_detail("ha_error_code", f.code.as_str())
                    .with_detail("ha_error_message", f.message.as_str());
                match &f.command_type {
                    Some(t) => failure.with_detail("command_type", t.as_str()),
                    None => failure,
                }
            }
            Error::NoEntity { entity_id } => failure
                .with_detail("ha_error_code", "not_found")
                .with_detail("entity_id", entity_id.as_ref()),
            Error::TemplateFailed { error } => {
                failure.with_detail("ha_error_message", error.as_ref().clone())
            }
            Error::Unexpected { got, .. } => failure.with_detail("message_type", got.as_ref()),
            Error::Config { variable, .. } | Error::ConfigInvalid { variable, .. } => {
                failure.with_detail("variable", *variable)
            }
            Error::NoSubscription { subscription } => {
                failure.with_detail("subscription", *subscription)
            }
            Error::TooManySubscriptions { max } => failure.with_detail("max", *max),
            Error::FoldTooLarge { limit } => failure.with_detail("limit_bytes", *limit),
            Error::Gateway(_) | Error::OutcomeUnknown { .. } => failure,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_stays_small() {
        let size = std::mem::size_of::<super::Error>();
        assert!(size <= 40, "{size}");
    }
}
