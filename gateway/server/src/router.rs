//! The router: API Gateway's `$connect`, `$disconnect`, `$default` and custom route keys to
//! handlers, with `on_connect` / `on_disconnect` hooks. Every event gets an answer in API
//! Gateway's shape; none panics.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use apigateway::auth::Verifier;
use apigateway::{Answer, Error, EventKind, NewConnection, Store, WsEvent};
use debug::{debug_line, Timer};
use serde_json::Value;

use crate::identity::{Identity, Principal};
use crate::limits::Limits;
use crate::SCOPE;

/// How long `$connect` may take to admit a connection when the router has no deadline.
const CONNECT_BUDGET: std::time::Duration = std::time::Duration::from_secs(5);

/// What a handler or hook gets: the event and the store.
#[derive(Debug, Clone)]
pub struct Context {
    /// The event.
    pub event: WsEvent,
    /// The connection store.
    pub store: Store,
    /// The connection's user, when known (`$connect`: as the identity rule found it).
    pub user_id: Option<String>,
    /// The connection's scopes (from its token or its authorizer).
    pub scopes: Vec<String>,
    /// The Management API, when the router has one (to send to other connections).
    pub management: Option<apigateway::Management>,
    /// When the answer must be back (the invocation's deadline, less a margin), if known.
    pub deadline: Option<std::time::Instant>,
    /// The rooms the connection was in: set for `on_disconnect` hooks (read before its
    /// records went), empty elsewhere.
    pub rooms: Vec<String>,
}

impl Context {
    /// Whether the connection was granted `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

type Future_<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A route handler: an async function of the context answering API Gateway.
pub type Handler = Arc<dyn Fn(Context) -> Future_<Answer> + Send + Sync>;

/// A hook: `on_connect` may refuse (a non-2xx answer: nothing is stored), `on_disconnect`
/// is told after the records went.
pub type Hook = Arc<dyn Fn(Context) -> Future_<Option<Answer>> + Send + Sync>;

/// A handler from an async closure.
///
/// ```
/// let h = server_gateway::handler(|_ctx| async { apigateway::Answer::ok().with_body("hi") });
/// # let _ = h;
/// ```
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    Arc::new(move |ctx| Box::pin(f(ctx)))
}

/// The router of one API.
///
/// ```no_run
/// # async fn demo(store: apigateway::Store) {
/// use server_gateway::{handler, Router};
/// let router = Router::new(store)
///     .route("sendmessage", handler(|_ctx| async { apigateway::Answer::ok() }));
/// let answer = router.handle_text(r#"{"requestContext": {}}"#).await;
/// assert_eq!(answer.status_code, 400);
/// # }
/// ```
#[derive(Clone)]
pub struct Router {
    store: Store,
    management: Option<apigateway::Management>,
    deadline: Option<std::time::Instant>,
    identity: Identity,
    limits: Limits,
    /// A malformed limit from the environment: `$connect` is refused until it is fixed.
    problem: Option<String>,
    routes: HashMap<String, Handler>,
    default: Option<Handler>,
    on_connect: Option<Hook>,
    on_disconnect: Option<Hook>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut routes: Vec<&String> = self.routes.keys().collect();
        routes.sort();
        f.debug_struct("Router")
            .field("routes", &routes)
            .field("default", &self.default.is_some())
            .field("identity", &self.identity)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Router {
    /// A router over `store`: `$connect` stores the connection, `$disconnect` deletes it
    /// (with its memberships); no message route yet. The identity rule and the limits are
    /// read from the environment ([`Identity::from_env`], [`Limits::from_env`]); a malformed
    /// value refuses every `$connect` with 500 ([`Router::problem`] says why).
    pub fn new(store: Store) -> Router {
        let (limits, problem) = match Limits::from_env() {
            Ok(limits) => (limits, None),
            Err(e) => (Limits::default(), Some(e.to_string())),
        };
        Router {
            store,
            management: None,
            deadline: None,
            identity: Identity::from_env(),
            limits,
            problem,
            routes: HashMap::new(),
            default: None,
            on_connect: None,
            on_disconnect: None,
        }
    }

    /// With a Management API for handlers to send through.
    pub fn with_management(mut self, management: apigateway::Management) -> Router {
        self.management = Some(management);
        self
    }

    /// This router for one invocation that must answer before `deadline`.
    pub fn until(&self, deadline: std::time::Instant) -> Router {
        let mut router = self.clone();
        router.deadline = Some(deadline);
        router
    }

    /// With another identity rule.
    pub fn identity(mut self, identity: Identity) -> Router {
        self.identity = identity;
        self
    }

    /// With other limits.
    pub fn limits(mut self, limits: Limits) -> Router {
        self.limits = limits;
        self.problem = None;
        self
    }

    /// Why the router's configuration is unusable (a malformed variable), if it is: every
    /// `$connect` is refused with 500 until it is fixed.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref().or(self.identity.broken())
    }

    /// The route keys it serves: `$connect`, `$disconnect`, the custom ones (sorted) and
    /// `$default` when it has one — what a deployment's API must declare.
    pub fn route_keys(&self) -> Vec<String> {
        let mut custom: Vec<String> = self.routes.keys().cloned().collect();
        custom.sort();
        let mut keys = vec!["$connect".to_owned(), "$disconnect".to_owned()];
        keys.extend(custom);
        if self.default.is_some() {
            keys.push("$default".to_owned());
        }
        keys
    }

    /// Serves the custom route `key` (the value the route selection expression picked).
    pub fn route(mut self, key: &str, handler: Handler) -> Router {
        self.routes.insert(key.to_owned(), handler);
        self
    }

    /// Serves `$default`: messages no custom route took.
    pub fn default_route(mut self, handler: Handler) -> Router {
        self.default = Some(handler);
        self
    }

    /// Runs `hook` on `$connect` before anything is stored: a non-2xx answer refuses the
    /// connection, a 2xx one (with headers, say `Sec-WebSocket-Protocol`) is the answer.
    pub fn on_connect(mut self, hook: Hook) -> Router {
        self.on_connect = Some(hook);
        self
    }

    /// Runs `hook` on `$disconnect`, after the connection's records were deleted; its
    /// context names the connection's user and the rooms it was in.
    pub fn on_disconnect(mut self, hook: Hook) -> Router {
        self.on_disconnect = Some(hook);
        self
    }

    /// Its identity rule.
    pub fn identity_rule(&self) -> &Identity {
        &self.identity
    }

    /// Its Management API, if it has one.
    pub fn management(&self) -> Option<&apigateway::Management> {
        self.management.as_ref()
    }

    /// The deadline of this invocation, if set.
    pub fn deadline(&self) -> Option<std::time::Instant> {
        self.deadline
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Answers an event given as JSON text.
    pub async fn handle_text(&self, text: &str) -> Answer {
        match WsEvent::parse(text) {
            Ok(event) => self.handle(event).await,
            Err(e) => refused_event(&e),
        }
    }

    /// Answers an event given as a value.
    pub async fn handle_value(&self, value: Value) -> Answer {
        match WsEvent::from_value(value) {
            Ok(event) => self.handle(event).await,
            Err(e) => refused_event(&e),
        }
    }

    /// Answers one event; its lines carry the event's `requestId` as their correlation id
    /// (a new one when it has none that fits), across every `.await`.
    pub async fn handle(&self, event: WsEvent) -> Answer {
        use tracing::Instrument;
        let cid = debug::CorrelationId::parse(event.request_id())
            .unwrap_or_else(|_| debug::CorrelationId::generate());
        let span = cid.span();
        self.dispatch(event).instrument(span).await
    }

    async fn dispatch(&self, event: WsEvent) -> Answer {
        let timer = Timer::start(&SCOPE, "route");
        debug_line!(
            SCOPE,
            "Event (route_key={}, connection_id={}, request_id={})",
            debug::escape_line(event.route_key()),
            event.connection_id(),
            debug::escape_line(event.request_id())
        );
        let answer = match event.kind() {
            EventKind::Connect => self.connect(event).await,
            EventKind::Disconnect => self.disconnect(event).await,
            EventKind::Message => self.message(event).await,
        };
        debug_line!(SCOPE, "Answer (status={})", answer.status_code);
        timer.finish();
        answer
    }

    fn context(&self, event: WsEvent, principal: Principal) -> Context {
        Context {
            event,
            store: self.store.clone(),
            user_id: principal.user_id,
            scopes: principal.scopes,
            management: self.management.clone(),
            deadline: self.deadline,
            rooms: Vec::new(),
        }
    }

    async fn connect(&self, event: WsEvent) -> Answer {
        if let Some(problem) = &self.problem {
            debug::warn_line(&SCOPE, format_args!("connect refused: {problem}"));
            return Answer::refuse(500);
        }
        let deadline = self
            .deadline
            .unwrap_or_else(|| std::time::Instant::now() + CONNECT_BUDGET);
        let principal = match self.identity.admit(&event, deadline).await {
            Ok(p) => p,
            Err(e) => {
                log_failure("connect", &e);
                return Answer::refuse(refusal_status(&e));
            }
        };
        if let Some(user) = &principal.user_id {
            if let Err(e) = self.admit_user(&event, user, deadline).await {
                log_failure("connect", &e);
                return Answer::refuse(refusal_status(&e));
            }
        }
        let mut answer = Answer::ok();
        if let Some(hook) = &self.on_connect {
            if let Some(given) = hook(self.context(event.clone(), principal.clone())).await {
                if !given.accepts() {
                    debug_line!(
                        SCOPE,
                        "Connect refused by on_connect (status={})",
                        given.status_code
                    );
                    return given;
                }
                answer = given;
            }
        }
        if let Some(protocol) = principal.protocol {
            answer = answer.with_header("Sec-WebSocket-Protocol", protocol);
        }
        let mut new =
            NewConnection::new(event.connection_id()).connected_at(event.connected_at_ms());
        if let Some(user) = &principal.user_id {
            new = new.user(user);
        }
        if !principal.scopes.is_empty() {
            let mut metadata = serde_json::Map::new();
            metadata.insert("scopes".to_owned(), Value::from(principal.scopes.clone()));
            new = new.metadata(metadata);
        }
        match self.store.store_connection(&new).await {
            Ok(_) => answer,
            Err(e @ Error::InvalidParameter { .. }) => {
                log_failure("connect", &e);
                Answer::refuse(400)
            }
            Err(e) => {
                log_failure("connect", &e);
                Answer::refuse(500)
            }
        }
    }

    /// Admits one more connection of `user` under the per-user limit. At the limit, each
    /// counted connection is asked for with `GET @connections`: the gone ones are removed
    /// (a lost `$disconnect` cannot lock a user out), and only the open ones count.
    async fn admit_user(
        &self,
        event: &WsEvent,
        user: &str,
        deadline: std::time::Instant,
    ) -> apigateway::Result<()> {
        let limit = self.limits.connections_per_user;
        if limit == 0 {
            return Ok(());
        }
        let counted = self.store.connections_by_user(user).await?;
        let others: Vec<_> = counted
            .into_iter()
            .filter(|c| c.connection_id != event.connection_id())
            .collect();
        if others.len() < limit {
            return Ok(());
        }
        let over = || Error::Forbidden {
            reason: format!("the user holds its limit of {limit} connections").into(),
        };
        let Some(management) = &self.management else {
            return Err(over());
        };
        let endpoint = endpoint_of(event)?;
        let checked = tokio::time::timeout_at(deadline.into(), async {
            let mut open = 0usize;
            for connection in &others {
                match management
                    .is_alive(&endpoint, &connection.connection_id)
                    .await
                {
                    Ok(false) => {}
                    // Open, or not known: it counts.
                    Ok(true) | Err(_) => open += 1,
                }
            }
            open
        })
        .await;
        let open = checked.unwrap_or(others.len());
        debug_line!(
            SCOPE,
            "Per-user limit checked (counted={}, open={open}, limit={limit})",
            others.len()
        );
        if open >= limit {
            return Err(over());
        }
        Ok(())
    }

    async fn disconnect(&self, event: WsEvent) -> Answer {
        let (code, _) = event.disconnect();
        debug_line!(
            SCOPE,
            "Disconnect (connection_id={}, status_code={})",
            event.connection_id(),
            code.map_or_else(|| "none".to_owned(), |c| c.to_string())
        );
        // Only a hook is told the user and the rooms: two more reads per $disconnect, when
        // asked for.
        let (user_id, rooms) = match &self.on_disconnect {
            Some(_) => {
                let id = event.connection_id();
                let user = self.store.get_connection(id).await.ok().flatten();
                let rooms = self.store.rooms_of(id).await.unwrap_or_default();
                (user.and_then(|c| c.user_id), rooms)
            }
            None => (None, Vec::new()),
        };
        if let Err(e) = self.store.delete_connection(event.connection_id()).await {
            log_failure("disconnect", &e);
        }
        if let Some(hook) = &self.on_disconnect {
            let principal = Principal {
                user_id,
                ..Principal::default()
            };
            let mut ctx = self.context(event, principal);
            ctx.rooms = rooms;
            let _ = hook(ctx).await;
        }
        Answer::ok()
    }

    async fn message(&self, event: WsEvent) -> Answer {
        let handler = self
            .routes
            .get(event.route_key())
            .or(self.default.as_ref())
            .cloned();
        let Some(handler) = handler else {
            let e = Error::UnknownRoute {
                route: event
                    .route_key()
                    .chars()
                    .flat_map(char::escape_debug)
                    .take(64)
                    .collect::<String>()
                    .into(),
            };
            log_failure("message", &e);
            return failure_answer(404, &e);
        };
        // The rate check and the connection's identity are read at once: one round trip
        // to the store instead of two (the read is wasted only for a refused message).
        let principal = async {
            match Principal::from_authorizer(&event) {
                Some(p) => p,
                None => match self.store.get_connection(event.connection_id()).await {
                    Ok(Some(c)) => Principal {
                        scopes: Verifier::scopes_of(c.metadata.get("scopes")),
                        user_id: c.user_id,
                        protocol: None,
                    },
                    _ => Principal::default(),
                },
            }
        };
        let (refusal, principal) = tokio::join!(self.refuse_message(&event), principal);
        if let Some(refusal) = refusal {
            return Answer::ok().with_body(refusal);
        }
        handler(self.context(event, principal)).await
    }

    /// The error frame of a message over the size limit or the connection's rate, if it is
    /// one. A store that cannot count lets the message through (and says so in a line).
    async fn refuse_message(&self, event: &WsEvent) -> Option<String> {
        let size = event.body().map_or(0, str::len);
        let max = self.limits.max_message_bytes;
        if size > max {
            debug_line!(SCOPE, "Message refused (size={size}, limit={max})");
            return Some(server_interface::error_frame(
                &format!("The message of {size} bytes is over the limit of {max}."),
                contract::codes::MESSAGE_TOO_LARGE.as_str(),
            ));
        }
        let rate = self.limits.rate?;
        match self
            .store
            .admit_message(event.connection_id(), rate.messages, rate.window)
            .await
        {
            Ok(true) => None,
            Ok(false) => {
                debug_line!(
                    SCOPE,
                    "Message refused (rate, limit={}, window_s={})",
                    rate.messages,
                    rate.window.as_secs()
                );
                Some(server_interface::error_frame(
                    &format!(
                        "More than {} messages in {} s: this one was not served.",
                        rate.messages,
                        rate.window.as_secs()
                    ),
                    contract::codes::RATE_LIMIT_EXCEEDED.as_str(),
                ))
            }
            Err(e) => {
                log_failure("rate", &e);
                None
            }
        }
    }
}

/// The status of a refused `$connect`: 401 unauthenticated, 403 not allowed, 500 for
/// anything else (a store or configuration failure).
fn refusal_status(e: &Error) -> u16 {
    match e {
        Error::Unauthorized { .. } => 401,
        Error::Forbidden { .. } => 403,
        _ => 500,
    }
}

/// The Management API's endpoint for the event's API, by the one rule.
pub(crate) fn endpoint_of(event: &WsEvent) -> apigateway::Result<String> {
    let (domain, stage, api) = event.api();
    apigateway::management_endpoint(|name| std::env::var(name).ok(), domain, stage, api)
}

/// The answer to an event that is not one: 400 with the envelope as its body, and a line.
fn refused_event(e: &Error) -> Answer {
    log_failure("event", e);
    failure_answer(400, e)
}

fn failure_answer(status: u16, e: &Error) -> Answer {
    Answer::refuse(status)
        .with_body(contract::Envelope::failure(&contract::Failure::from(e)).as_str())
}

/// A failure's line: always written (an operator must see refused events), through the
/// debug crate's warning path.
fn log_failure(stage: &str, e: &Error) {
    debug::warn_line(
        &SCOPE,
        format_args!("{stage} failed ({}): {e}", e.code().as_str()),
    );
}
