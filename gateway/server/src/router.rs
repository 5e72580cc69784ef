//! The router: API Gateway's `$connect`, `$disconnect`, `$default` and custom route keys to
//! handlers, with `on_connect` / `on_disconnect` hooks. Every event gets an answer in API
//! Gateway's shape; none panics.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use apigateway::{Answer, Error, EventKind, NewConnection, Store, WsEvent};
use debug::{debug_line, Timer};
use serde_json::Value;

use crate::identity::Identity;
use crate::SCOPE;

/// What a handler or hook gets: the event and the store.
#[derive(Debug, Clone)]
pub struct Context {
    /// The event.
    pub event: WsEvent,
    /// The connection store.
    pub store: Store,
    /// The connection's user, when known (`$connect`: as the identity rule found it).
    pub user_id: Option<String>,
    /// The Management API, when the router has one (to send to other connections).
    pub management: Option<apigateway::Management>,
    /// When the answer must be back (the invocation's deadline, less a margin), if known.
    pub deadline: Option<std::time::Instant>,
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
            .finish()
    }
}

impl Router {
    /// A router over `store`: `$connect` stores the connection, `$disconnect` deletes it
    /// (with its memberships); no message route yet. The identity rule is read from the
    /// environment ([`Identity::from_env`]).
    pub fn new(store: Store) -> Router {
        Router {
            store,
            management: None,
            deadline: None,
            identity: Identity::from_env(),
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

    /// Runs `hook` on `$disconnect`, after the connection's records were deleted.
    pub fn on_disconnect(mut self, hook: Hook) -> Router {
        self.on_disconnect = Some(hook);
        self
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

    fn context(&self, event: WsEvent, user_id: Option<String>) -> Context {
        Context {
            event,
            store: self.store.clone(),
            user_id,
            management: self.management.clone(),
            deadline: self.deadline,
        }
    }

    async fn connect(&self, event: WsEvent) -> Answer {
        let user = self.identity.user_of(&event);
        let mut answer = Answer::ok();
        if let Some(hook) = &self.on_connect {
            if let Some(given) = hook(self.context(event.clone(), user.clone())).await {
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
        let mut new =
            NewConnection::new(event.connection_id()).connected_at(event.connected_at_ms());
        if let Some(user) = &user {
            new = new.user(user);
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

    async fn disconnect(&self, event: WsEvent) -> Answer {
        let (code, _) = event.disconnect();
        debug_line!(
            SCOPE,
            "Disconnect (connection_id={}, status_code={})",
            event.connection_id(),
            code.map_or_else(|| "none".to_owned(), |c| c.to_string())
        );
        if let Err(e) = self.store.delete_connection(event.connection_id()).await {
            log_failure("disconnect", &e);
        }
        if let Some(hook) = &self.on_disconnect {
            let _ = hook(self.context(event, None)).await;
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
        let user = match event.authorizer_principal() {
            Some(p) => Some(p.to_owned()),
            None => self
                .store
                .get_connection(event.connection_id())
                .await
                .ok()
                .flatten()
                .and_then(|c| c.user_id),
        };
        handler(self.context(event, user)).await
    }
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
