//! `Call`: what one typed call of the gateway may set — its timeout, its correlation id and
//! the options of the connection it opens — in one value instead of trailing `None`s.

use std::time::Duration;

use debug::CorrelationId;
use interface::Timeout;
use websocket::ConnectOptions;

use crate::{Error, Result};

/// Per-call settings of the gateway's typed calls. Each one left unset takes its default:
/// the timeout is 10 s for connect, receive and request, the connection's own for send, the
/// close timeout for close; the correlation id is the current request's, or a new one; the
/// connection's options are the core's.
///
/// ```
/// use std::time::Duration;
/// use gateway::{Call, ConnectOptions};
/// let call = Call::new()
///     .timeout(Duration::from_secs(5))
///     .correlation_id("req-1")
///     .options(ConnectOptions::default().header("Authorization", "Bearer …"));
/// assert_eq!(call.timeout, Some(Duration::from_secs(5)));
/// assert!(!format!("{call:?}").contains("Bearer"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Call {
    /// Bound on the operation. Default: the operation's (see above).
    pub timeout: Option<Duration>,
    /// The request's id for every line of the call. Default: the current request's, or a
    /// new one.
    pub correlation_id: Option<String>,
    /// The options of the connection a connect or request opens. Default: none, the
    /// core's settings.
    pub options: ConnectOptions,
}

impl Call {
    /// A call with every default.
    pub fn new() -> Call {
        Call::default()
    }

    /// Sets the timeout (default: the operation's).
    pub fn timeout(mut self, timeout: Duration) -> Call {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the correlation id (default: the current request's, or a new one).
    pub fn correlation_id(mut self, id: &str) -> Call {
        self.correlation_id = Some(id.to_owned());
        self
    }

    /// Sets the options of the connection a connect or request opens (default none).
    pub fn options(mut self, options: ConnectOptions) -> Call {
        self.options = options;
        self
    }

    pub(crate) fn checked_timeout(&self) -> Result<Option<Timeout>> {
        self.timeout.map(Timeout::new).transpose()
    }

    pub(crate) fn timeout_or_default(&self) -> Result<Timeout> {
        Ok(self.checked_timeout()?.unwrap_or_default())
    }

    pub(crate) fn checked_correlation_id(&self) -> Result<Option<CorrelationId>> {
        self.correlation_id
            .as_deref()
            .map(|id| {
                CorrelationId::parse(id)
                    .map_err(|e| Error::invalid_parameter("correlation_id", &e.to_string()))
            })
            .transpose()
    }
}
