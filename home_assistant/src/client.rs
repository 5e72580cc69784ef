//! The client: one logical request's view of an instance — its warm session, checked
//! before reuse and replaced when dead.

use std::sync::Arc;
use std::time::Duration;

use debug::{debug_line, CorrelationId};
use gateway::Phase;
use interface::IntoTimeout;
use parking_lot::Mutex;

use crate::config::HaConfig;
use crate::error::{Error, Result};
use contract::Deadline;

use websocket::DeadlineExt;

use crate::answers::SessionInfo;
use crate::hub::{HomeAssistant, Shared};
use crate::operations::check_alive;
use crate::session::HaSession;
use crate::SCOPE;

/// Longest the liveness check of a warm session may take.
pub const LIVENESS_TIMEOUT: Duration = Duration::from_secs(2);

/// A Home Assistant client for one logical request (one Lambda invocation).
///
/// Sessions are shared: a client for the same URL and token reuses the authenticated
/// session a previous client left open, after a liveness check (a Home Assistant `ping`).
/// A dead session is replaced transparently. A command that was sent but not answered in
/// time fails with `WEBSOCKET_TIMEOUT` and is never sent again. Every step — connecting,
/// authenticating, the liveness check, closing a dead session — is cut to the call's
/// timeout.
///
/// ```no_run
/// use std::time::Duration;
/// use home_assistant::{HaClient, HaConfig, ServiceCall};
/// let client = HaClient::new(HaConfig::from_env()?, None)?;
/// let states = client.get_states(Duration::from_secs(10))?.to_value();
/// client.call_service(
///     &ServiceCall::new("light", "turn_on").target(serde_json::json!({"entity_id": "light.kitchen"})),
///     Duration::from_secs(10),
/// )?;
/// # Ok::<(), home_assistant::Error>(())
/// ```
#[derive(Debug)]
pub struct HaClient {
    /// The instance whose sessions, limits and counters it uses.
    hub: Arc<HomeAssistant>,
    /// Replaced once when Home Assistant refuses a token read from the extension and the
    /// extension has a newer one (a rotated secret).
    config: Mutex<HaConfig>,
    correlation_id: CorrelationId,
    /// Whether this client already checked (or opened) its session.
    verified: Mutex<bool>,
    info: Mutex<Option<SessionInfo>>,
}

impl HaClient {
    /// A client; `correlation_id` is used unchanged, or when `None` the current request's,
    /// or a new one.
    ///
    /// ```no_run
    /// let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "token")?, Some("req-1"))?;
    /// assert_eq!(client.correlation_id(), "req-1");
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn new(config: HaConfig, correlation_id: Option<&str>) -> Result<HaClient> {
        let correlation_id = CorrelationId::given_or_current(correlation_id)
            .map_err(|e| Error::invalid_parameter("correlation_id", &e.to_string()))?;
        Ok(HaClient::with_correlation_id(config, correlation_id))
    }

    /// A client under a correlation id checked already (at a boundary that read it).
    ///
    /// ```no_run
    /// let id = debug::CorrelationId::parse("req-2").unwrap();
    /// let client = home_assistant::HaClient::with_correlation_id(home_assistant::HaConfig::new("http://h:8123", "t")?, id);
    /// assert_eq!(client.correlation_id(), "req-2");
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn with_correlation_id(config: HaConfig, correlation_id: CorrelationId) -> HaClient {
        HaClient::on(Arc::clone(HomeAssistant::global()), config, correlation_id)
    }

    /// A client of the instance `hub` (its sessions, limits and counters, not the
    /// per-process ones).
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use home_assistant::{HaClient, HaConfig, HomeAssistant};
    /// let mine = Arc::new(HomeAssistant::new());
    /// let id = debug::CorrelationId::parse("req-3").unwrap();
    /// let client = HaClient::on(mine, HaConfig::new("http://h:8123", "t")?, id);
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn on(
        hub: Arc<HomeAssistant>,
        config: HaConfig,
        correlation_id: CorrelationId,
    ) -> HaClient {
        HaClient {
            hub,
            config: Mutex::new(config),
            correlation_id,
            verified: Mutex::new(false),
            info: Mutex::new(None),
        }
    }

    /// The correlation id of this client's calls.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// assert!(!client.correlation_id().is_empty());
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn correlation_id(&self) -> &str {
        self.correlation_id.as_str()
    }

    /// The session the last call ran on.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// # let t = std::time::Duration::from_secs(5);
    /// client.get_states(t)?;
    /// let reused = client.session_info().map(|i| i.reused);
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn session_info(&self) -> Option<SessionInfo> {
        self.info.lock().clone()
    }

    /// Runs `body` on a live, authenticated session within `timeout`.
    pub(crate) fn with_session<T>(
        &self,
        timeout: impl IntoTimeout,
        body: impl FnOnce(&mut HaSession, &Deadline) -> Result<T>,
    ) -> Result<T> {
        let timeout = timeout.into_timeout()?.get();
        let deadline = Deadline::after(timeout);
        let budget = &deadline;
        let cid = &self.correlation_id;
        let _scope = cid.scope();
        // At most two passes: the second only after the token was read once more.
        let mut token_reread = false;
        loop {
            let config = self.config.lock().clone();
            let entry = self.hub.entry(&config);
            let mut slot = entry
                .try_lock_until(budget.at())
                .ok_or_else(|| budget.timed_out(Phase::WaitForConnection))?;
            let mut verified = self.verified.lock();
            let mut reused = false;
            if !*verified {
                if let Some(session) = slot.as_mut() {
                    match check_alive(session, budget) {
                        Ok(()) => {
                            debug_line!(
                                SCOPE,
                                "Reusing session (session={}, ha_version={})",
                                session.name,
                                session.ha_version
                            );
                            Shared::add(&self.hub.shared().reused, 1);
                            reused = true;
                        }
                        Err(e) => {
                            debug_line!(
                                SCOPE,
                                "Warm session is gone (error_code={}); reconnecting",
                                e.code()
                            );
                            if let Some(dead) = slot.take() {
                                dead.close(budget);
                            }
                            Shared::add(&self.hub.shared().reconnects, 1);
                            // No time left for a new session: answer now.
                            budget.left_in(Phase::Connect)?;
                        }
                    }
                }
            }
            let session = match slot.as_mut() {
                Some(session) => session,
                None => match HaSession::open(&self.hub, &config, budget) {
                    Ok(fresh) => {
                        Shared::add(&self.hub.shared().auths, 1);
                        slot.insert(fresh)
                    }
                    Err(refused @ Error::AuthFailed { .. }) if !token_reread => {
                        // A token from Parameter Store or Secrets Manager may have rotated:
                        // read it once more and, when it changed, authenticate once more.
                        match config.refreshed(self.hub.tokens(), budget)? {
                            Some(newer) => {
                                debug_line!(
                                    SCOPE,
                                    "Token refused; read it again and retrying once"
                                );
                                *self.config.lock() = newer;
                                token_reread = true;
                                continue;
                            }
                            None => return Err(refused),
                        }
                    }
                    Err(e) => return Err(e),
                },
            };
            *verified = true;
            let dropped_before = session.dropped();
            let result = body(session, budget);
            let dropped_total = session.dropped();
            *self.info.lock() = Some(SessionInfo {
                connection: session.name.clone(),
                ha_version: session.ha_version.clone(),
                reused,
                latency_ms: session.latency.map(|l| l.as_secs_f64() * 1000.0),
                events_dropped: dropped_total - dropped_before,
                events_dropped_total: dropped_total,
            });
            if result.as_ref().is_err_and(Error::breaks_session) {
                if let Some(dead) = slot.take() {
                    dead.close(budget);
                }
                *verified = false;
            }
            return result;
        }
    }
}
