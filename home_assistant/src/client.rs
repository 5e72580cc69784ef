//! The client: one logical request's view of an instance — its warm session, checked
//! before reuse and replaced when dead.

use std::sync::Arc;
use std::time::{Duration, Instant};

use debug::{debug_line, CorrelationId};
use gateway::Phase;
use interface::IntoTimeout;
use parking_lot::Mutex;

use crate::config::HaConfig;
use crate::error::{Error, Result};
use contract::Deadline;

use websocket::{Backoff, DeadlineExt};

use crate::answers::{SessionInfo, SessionStatus};
use crate::hub::{Held, HomeAssistant, Shared};
use crate::operations::check_alive;
use crate::session::HaSession;
use crate::subscriptions::Subscriptions;
use crate::SCOPE;

/// Passes of one call at most (each opens a session or answers).
const RUNS: usize = 16;

/// Whether a call may run again on a new session when its session fails under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads and subscriptions: running them again changes nothing in Home Assistant.
    Safe,
    /// A command that may act (`call_service`, any command): never sent twice. A failure
    /// after it was sent says its outcome is unknown.
    Once,
}

/// Drops the session of `held` (it failed): its subscriptions are to be made again.
fn lose(held: &mut Held, budget: &Deadline) {
    if let Some(dead) = held.session.take() {
        dead.close(budget);
    }
    held.subscriptions.lost();
}

/// Opens sessions for one call: a first session at once; a reconnect with backoff.
#[derive(Debug, Default)]
struct Connector {
    backoff: Option<Backoff>,
    /// Why the last session or attempt failed.
    last: Option<Error>,
    token_reread: bool,
}

impl Connector {
    /// A new session: one attempt when none was open before; else attempts on the
    /// reconnect policy's schedule (backoff with jitter), none past the call's deadline.
    /// A refused token is not retried here.
    fn open(
        &mut self,
        hub: &HomeAssistant,
        config: &HaConfig,
        reconnecting: bool,
        budget: &Deadline,
    ) -> Result<HaSession> {
        if !reconnecting {
            return HaSession::open(hub, config, budget);
        }
        let backoff = self
            .backoff
            .get_or_insert_with(|| Backoff::new(hub.core().connection_config().reconnect));
        // Bounded: the backoff allows a bounded number of attempts, none past the deadline.
        while let Some(wait) = backoff.next_wait(Instant::now(), budget.at()) {
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
            debug_line!(
                SCOPE,
                "Reconnecting to Home Assistant (attempt={}, waited={})",
                backoff.attempts(),
                debug::seconds(wait)
            );
            match HaSession::open(hub, config, budget) {
                Ok(session) => {
                    debug_line!(SCOPE, "Reconnected (session={})", session.name);
                    return Ok(session);
                }
                Err(e @ Error::AuthFailed { .. }) => return Err(e),
                Err(e) => {
                    debug_line!(
                        SCOPE,
                        "Reconnect attempt failed (error_code={}): {}",
                        e.code(),
                        debug::redact(&e.to_string())
                    );
                    self.last = Some(e);
                }
            }
        }
        Err(self
            .last
            .take()
            .unwrap_or_else(|| budget.timed_out(Phase::Connect).into()))
    }
}

/// A Home Assistant client for one logical request (one Lambda invocation).
///
/// Sessions are shared: a client for the same URL and token reuses the authenticated
/// session a previous client left open — after a liveness check (a Home Assistant `ping`)
/// when it was idle for longer than the ping interval. A dead session is replaced, with
/// backoff, and its subscriptions are made again. A command that may act (`call_service`,
/// any command) is never sent twice: when its answer does not come, the error says its
/// outcome is unknown. Every step — connecting, authenticating, the liveness check, the
/// waits between attempts, closing a dead session — is cut to the call's timeout.
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
    /// Whether this client was counted as reusing a warm session.
    counted: Mutex<bool>,
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
            counted: Mutex::new(false),
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

    /// Runs `body` on a live, authenticated session within `timeout`; `retry` says
    /// whether `body` may run again on a new session when the first one fails under it.
    pub(crate) fn with_session<T>(
        &self,
        timeout: impl IntoTimeout,
        retry: Retry,
        mut body: impl FnMut(&mut HaSession, &Deadline) -> Result<T>,
    ) -> Result<T> {
        self.with_held(timeout, retry, |session, _, budget| body(session, budget))
    }

    /// [`HaClient::with_session`] with the subscriptions held beside the session.
    ///
    /// A session idle for longer than its ping interval is checked first (a `ping`, bounded
    /// by min(ping timeout, half the time left)); a dead one is replaced, with backoff
    /// between attempts, never past the call's deadline, and its subscriptions are made
    /// again. When the session fails under `body`, `body` runs again on a new one only
    /// when `retry` allows it or nothing was sent yet; otherwise the error says the
    /// outcome is unknown.
    pub(crate) fn with_held<T>(
        &self,
        timeout: impl IntoTimeout,
        retry: Retry,
        mut body: impl FnMut(&mut HaSession, &mut Subscriptions, &Deadline) -> Result<T>,
    ) -> Result<T> {
        let timeout = timeout.into_timeout()?.get();
        let deadline = Deadline::after(timeout);
        let budget = &deadline;
        let cid = &self.correlation_id;
        let _scope = cid.scope();
        let mut connector = Connector::default();
        // Bounded: each pass either answers or used up one reconnect attempt (at most
        // RUNS) or the one re-read of the token.
        for _ in 0..RUNS {
            let config = self.config.lock().clone();
            let entry = self.hub.entry(&config);
            let mut held = entry
                .try_lock_until(budget.at())
                .ok_or_else(|| budget.timed_out(Phase::WaitForConnection))?;
            let held = &mut *held;
            let shared = self.hub.shared();
            if let Some(session) = held.session.as_mut() {
                if session.needs_check() {
                    if let Err(e) = self.check(session, budget) {
                        debug_line!(
                            SCOPE,
                            "Warm session is dead (session={}, error_code={}); reconnecting",
                            session.name,
                            e.code()
                        );
                        Shared::add(&shared.dead_sessions, 1);
                        lose(held, budget);
                        connector.last = Some(e);
                    }
                }
            }
            let mut reused = held.session.is_some();
            if held.session.is_none() {
                match connector.open(&self.hub, &config, held.opened_before, budget) {
                    Ok(fresh) => {
                        Shared::add(&shared.auths, 1);
                        if held.opened_before {
                            Shared::add(&shared.reconnects, 1);
                        }
                        held.opened_before = true;
                        held.session = Some(fresh);
                        reused = false;
                    }
                    Err(refused @ Error::AuthFailed { .. }) if !connector.token_reread => {
                        // A token from Parameter Store or Secrets Manager may have rotated:
                        // read it once more and, when it changed, authenticate once more.
                        match config.refreshed(self.hub.tokens(), budget)? {
                            Some(newer) => {
                                debug_line!(
                                    SCOPE,
                                    "Token refused; read it again and retrying once"
                                );
                                *self.config.lock() = newer;
                                connector.token_reread = true;
                                continue;
                            }
                            None => return Err(refused),
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            let Some(session) = held.session.as_mut() else {
                continue;
            };
            let made_again = held.subscriptions.pending();
            if let Err(e) = held.subscriptions.establish(session, budget) {
                if e.breaks_session() && budget.left() > Duration::ZERO {
                    lose(held, budget);
                    connector.last = Some(e);
                    continue;
                }
                return Err(e);
            }
            Shared::add(&shared.resubscribed, made_again as u64);
            if reused && !std::mem::replace(&mut *self.counted.lock(), true) {
                debug_line!(
                    SCOPE,
                    "Reusing session (session={}, ha_version={})",
                    session.name,
                    session.ha_version
                );
                Shared::add(&shared.reused, 1);
            }
            let started = session.started();
            let dropped_before = session.dropped();
            let result = body(session, &mut held.subscriptions, budget);
            let dropped_total = session.dropped();
            *self.info.lock() = Some(SessionInfo {
                connection: session.name.clone(),
                ha_version: session.ha_version.clone(),
                reused,
                latency_ms: session.latency.map(|l| l.as_secs_f64() * 1000.0),
                events_dropped: dropped_total - dropped_before,
                events_dropped_total: dropped_total,
            });
            let sent = session.started() != started;
            let session_kind = session.last_command().to_owned();
            let broken = session.is_broken() || result.as_ref().is_err_and(Error::breaks_session);
            if broken {
                lose(held, budget);
            }
            match result {
                Err(e)
                    if broken
                        && (retry == Retry::Safe || !sent)
                        && budget.left() > Duration::ZERO =>
                {
                    debug_line!(
                        SCOPE,
                        "Session failed during the call (error_code={}); running it again on a new one",
                        e.code()
                    );
                    connector.last = Some(e);
                }
                Err(e) if retry == Retry::Once && sent && e.is_transport() => {
                    return Err(Error::OutcomeUnknown {
                        command_type: session_kind.into(),
                        cause: Box::new(e),
                    });
                }
                other => return other,
            }
        }
        Err(connector
            .last
            .unwrap_or_else(|| budget.timed_out(Phase::Connect).into()))
    }

    /// The state of the pooled session of this client's URL and token (nothing is sent or
    /// opened), waiting at most `timeout` for a call that holds it.
    ///
    /// ```no_run
    /// # let client = home_assistant::HaClient::new(home_assistant::HaConfig::new("http://h:8123", "t")?, None)?;
    /// let status = client.session_status(std::time::Duration::from_secs(1))?;
    /// println!("{} ({:?} ms)", status.state, status.latency_ms);
    /// # Ok::<(), home_assistant::Error>(())
    /// ```
    pub fn session_status(&self, timeout: impl IntoTimeout) -> Result<SessionStatus> {
        let deadline = Deadline::after(timeout.into_timeout()?.get());
        let config = self.config.lock().clone();
        let entry = self.hub.entry(&config);
        let held = entry
            .try_lock_until(deadline.at())
            .ok_or_else(|| deadline.timed_out(Phase::WaitForConnection))?;
        let subscriptions = held.subscriptions.len();
        Ok(match &held.session {
            None => SessionStatus {
                subscriptions,
                ..SessionStatus::default()
            },
            Some(s) => SessionStatus {
                state: if s.is_broken() { "broken" } else { "open" },
                connection: Some(s.name.clone()),
                ha_version: Some(s.ha_version.clone()),
                age_seconds: Some(s.opened_at.elapsed().as_secs_f64()),
                idle_seconds: Some(s.idle().as_secs_f64()),
                latency_ms: s.latency.map(|l| l.as_secs_f64() * 1000.0),
                coalescing: s.coalescing,
                subscriptions,
                pending_messages: s.backlog_len(),
            },
        })
    }

    /// Runs `f` on the subscriptions of this client's URL and token, without a session.
    pub(crate) fn with_subscriptions<T>(
        &self,
        f: impl FnOnce(&mut Subscriptions) -> Result<T>,
    ) -> Result<T> {
        let config = self.config.lock().clone();
        let entry = self.hub.entry(&config);
        let mut held = entry.lock();
        f(&mut held.subscriptions)
    }

    /// The liveness check of a session used again after a pause.
    fn check(&self, session: &mut HaSession, budget: &Deadline) -> Result<()> {
        let shared = self.hub.shared();
        Shared::add(&shared.liveness_checks, 1);
        let rtt = check_alive(session, budget)?;
        shared
            .last_latency_us
            .store(rtt.as_micros() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}
