//! The built-in app (route selection `$request.body.type`): ping, hello, rooms, stats. Its
//! answers go back as the route's response body (two-way routes); a message it cannot read
//! gets an error frame, and the connection stays.

use std::sync::Arc;
use std::time::{Duration, Instant};

use apigateway::{Answer, Audience, BroadcastReport, Error, Management, Store};
use serde_json::json;
use server_interface::{error_frame, frame, rfc3339, AppRequest};

use crate::router::{endpoint_of, handler, Context, Router};

/// The scope a client's `broadcast` needs.
pub const ADMIN_SCOPE: &str = "websocket:admin";

/// The message types the app serves, each also a route key.
pub const MESSAGE_TYPES: [&str; 10] = [
    "ping",
    "hello",
    "subscribe_room",
    "unsubscribe_room",
    "room_members",
    "get_stats",
    "room_message",
    "direct_message",
    "broadcast",
    "kick",
];

/// Most members a `room_members` answer lists (it says `truncated` beyond).
pub const MAX_LISTED_MEMBERS: usize = 100;

/// Longest a message route spends sending to others (API Gateway's integration timeout
/// is 29 s; the invocation's own deadline cuts it further).
pub const SEND_BUDGET: Duration = Duration::from_secs(20);

/// The app's router over `store`: every message type as a route, and `$default` for
/// anything else (the same handler reads the body's `type` either way, so an API that
/// routes everything to `$default` works too).
///
/// ```no_run
/// # async fn demo(store: apigateway::Store) {
/// let router = server_gateway::app::router(store);
/// # }
/// ```
pub fn router(store: Store) -> Router {
    let mut router = Router::new(store).default_route(handler(answer));
    for kind in MESSAGE_TYPES {
        router = router.route(kind, handler(answer));
    }
    router
}

/// The app's router with a Management API to send to others through (`room_message`,
/// `direct_message`, `broadcast`).
pub fn router_with(store: Store, management: Management) -> Router {
    let mut router = Router::new(store)
        .with_management(management)
        .on_disconnect(Arc::new(|ctx| Box::pin(left_rooms(ctx))))
        .default_route(handler(answer));
    for kind in MESSAGE_TYPES {
        router = router.route(kind, handler(answer));
    }
    router
}

/// The answer to one message of the app.
pub async fn answer(ctx: Context) -> Answer {
    let store = &ctx.store;
    let id = ctx.event.connection_id().to_owned();
    let body = match (ctx.event.is_binary(), ctx.event.body()) {
        (true, _) => Err((
            "Binary messages are not served.".to_owned(),
            "INVALID_MESSAGE",
        )),
        (false, None) => Err(("The message is empty.".to_owned(), "INVALID_MESSAGE")),
        (false, Some(text)) => AppRequest::parse(text).map_err(|e| (e, "INVALID_MESSAGE")),
    };
    // One message in, one answer out: counted in one round with the activity (the writes
    // run at once; a store that fails them still answers).
    let reply = match body {
        Err((sentence, code)) => {
            let _ = store.count_messages(1, 1).await;
            error_frame(&sentence, code)
        }
        Ok(request) => {
            let activity = apigateway::ConnectionUpdate {
                metadata: None,
                last_activity: Some(ctx.event.request_time_ms()),
            };
            let _ = tokio::join!(
                store.update_connection(&id, &activity),
                store.count_messages(1, 1)
            );
            reply(&ctx, store, &id, request).await
        }
    };
    Answer::ok().with_body(reply)
}

/// Sends `message` as a frame of `kind` to `audience`, the sender excluded; the counts frame.
async fn pass_on(ctx: &Context, kind: &str, audience: Audience, data: serde_json::Value) -> String {
    match send_to_others(ctx, kind, audience, data).await {
        Ok(report) => frame(&format!("{kind}_sent"), counts(&report)),
        Err(error) => error,
    }
}

/// Sends a frame of `kind` to `audience`, the sender excluded: the report, or the error
/// frame that says why nothing was sent.
async fn send_to_others(
    ctx: &Context,
    kind: &str,
    audience: Audience,
    data: serde_json::Value,
) -> Result<BroadcastReport, String> {
    let (management, endpoint) = reach(ctx, "send to")?;
    let concurrency = concurrency(|name| std::env::var(name).ok())
        .map_err(|e| error_frame(&e, contract::codes::CONFIG_INVALID.as_str()))?;
    let text = frame(kind, data);
    let report = management
        .broadcast_except(
            &endpoint,
            audience,
            Some(ctx.event.connection_id()),
            text.as_bytes(),
            concurrency,
            send_deadline(ctx),
        )
        .await
        .map_err(|e| error_frame(&e.to_string(), e.code().as_str()))?;
    let _ = ctx.store.count_messages(0, report.delivered as i64).await;
    Ok(report)
}

/// The Management API and the event's endpoint, to `act` on other connections through
/// ("send to", "close"); else the error frame that says why not.
fn reach<'c>(ctx: &'c Context, act: &str) -> Result<(&'c Management, String), String> {
    let Some(management) = &ctx.management else {
        return Err(error_frame(
            &format!("This app cannot {act} other connections."),
            apigateway::codes::APIGW_NOT_CONFIGURED.as_str(),
        ));
    };
    let endpoint =
        endpoint_of(&ctx.event).map_err(|e| error_frame(&e.to_string(), e.code().as_str()))?;
    Ok((management, endpoint))
}

/// When sending to others must be over: [`SEND_BUDGET`], or the invocation's deadline when
/// that comes first.
fn send_deadline(ctx: &Context) -> Instant {
    let budget = Instant::now() + SEND_BUDGET;
    ctx.deadline.map_or(budget, |d| d.min(budget))
}

/// Tells a room's other members that `ctx`'s connection joined or left it (`presence`).
/// Best effort: the join or leave itself has already happened.
async fn tell_presence(ctx: &Context, room: &str, status: &str) {
    let data = json!({"room_id": room, "connection_id": ctx.event.connection_id(),
                      "user_id": ctx.user_id, "status": status});
    let _ = send_to_others(ctx, "presence", Audience::Room(room.to_owned()), data).await;
}

/// The `$disconnect` hook: `presence` "left" to every room the connection was in.
async fn left_rooms(ctx: Context) -> Option<Answer> {
    for room in ctx.rooms.iter().take(MAX_PRESENCE_ROOMS) {
        tell_presence(&ctx, room, "left").await;
    }
    None
}

/// Most rooms a `$disconnect` tells of the leave.
const MAX_PRESENCE_ROOMS: usize = 20;

/// The `room_members` frame: the room's live connections and their users, at most
/// [`MAX_LISTED_MEMBERS`] (one query: the memberships carry the users).
async fn members(store: &Store, room: &str) -> Result<String, Error> {
    let all = store.connections_by_room(room).await?;
    let members: Vec<serde_json::Value> = all
        .iter()
        .take(MAX_LISTED_MEMBERS)
        .map(|m| json!({"connection_id": m.connection_id, "user_id": m.user_id, "joined_at": m.joined_at}))
        .collect();
    Ok(frame(
        "room_members",
        json!({"room_id": room, "members": members, "truncated": all.len() > MAX_LISTED_MEMBERS}),
    ))
}

/// `kick`: closes every connection of `user` through the Management API (API Gateway then
/// sends their `$disconnect`); the counts frame.
async fn kick(ctx: &Context, user: &str) -> String {
    let (management, endpoint) = match reach(ctx, "close") {
        Ok(both) => both,
        Err(error) => return error,
    };
    let connections = match ctx.store.connections_by_user(user).await {
        Ok(c) => c,
        Err(e) => return error_frame(&e.to_string(), e.code().as_str()),
    };
    let deadline = send_deadline(ctx);
    let (mut closed, mut gone, mut failed) = (0, 0, 0);
    for c in &connections {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, management.disconnect(&endpoint, &c.connection_id)).await {
            Ok(Ok(true)) => closed += 1,
            Ok(Ok(false)) => gone += 1,
            Ok(Err(_)) | Err(_) => failed += 1,
        }
    }
    frame(
        "kick_sent",
        json!({"user_id": user, "closed": closed, "gone": gone, "failed": failed}),
    )
}

/// Posts in flight for the app's messages to others: `APIGW_BROADCAST_CONCURRENCY`
/// (1 to 1024), default 64. A malformed value is the sentence of an error frame.
///
/// ```
/// use server_gateway::app::concurrency;
/// assert_eq!(concurrency(|_| None), Ok(64));
/// assert_eq!(concurrency(|_| Some("8".into())), Ok(8));
/// assert!(concurrency(|_| Some("0".into())).is_err());
/// ```
pub fn concurrency(lookup: impl Fn(&str) -> Option<String>) -> Result<usize, String> {
    match lookup("APIGW_BROADCAST_CONCURRENCY") {
        None => Ok(apigateway::DEFAULT_CONCURRENCY),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1024).contains(n))
            .ok_or_else(|| {
                "APIGW_BROADCAST_CONCURRENCY must be a number from 1 to 1024.".to_owned()
            }),
    }
}

fn counts(report: &BroadcastReport) -> serde_json::Value {
    json!({"delivered": report.delivered, "gone": report.gone, "failed": report.failed,
           "unknown": report.unknown, "not_attempted": report.not_attempted})
}

async fn reply(ctx: &Context, store: &Store, id: &str, request: AppRequest) -> String {
    let failed = |e: Error| error_frame(&e.to_string(), e.code().as_str());
    match request {
        AppRequest::RoomMessage { room, message } => {
            let data = json!({"room_id": room.as_str(), "from": id, "user_id": ctx.user_id, "message": message});
            pass_on(
                ctx,
                "room_message",
                Audience::Room(room.as_str().to_owned()),
                data,
            )
            .await
        }
        AppRequest::DirectMessage { user_id, message } => {
            let data = json!({"from": id, "user_id": ctx.user_id, "message": message});
            pass_on(ctx, "direct_message", Audience::Users(vec![user_id]), data).await
        }
        AppRequest::Broadcast { .. } if !ctx.has_scope(ADMIN_SCOPE) => error_frame(
            &format!("Broadcast needs the scope {ADMIN_SCOPE}."),
            apigateway::codes::APIGW_FORBIDDEN.as_str(),
        ),
        AppRequest::Broadcast { message } => {
            let data = json!({"from": id, "user_id": ctx.user_id, "message": message});
            pass_on(ctx, "broadcast", Audience::All, data).await
        }
        AppRequest::Ping => frame("pong", json!({"timestamp": rfc3339(None)})),
        AppRequest::Hello => frame(
            "connection",
            json!({"status": "connected", "client_id": id, "timestamp": rfc3339(None)}),
        ),
        AppRequest::SubscribeRoom(room) => match store.join_room(id, room.as_str()).await {
            Ok(joined) => {
                if joined {
                    tell_presence(ctx, room.as_str(), "joined").await;
                }
                frame("room_subscribed", json!({"room_id": room.as_str()}))
            }
            Err(e) => failed(e),
        },
        AppRequest::UnsubscribeRoom(room) => match store.leave_room(id, room.as_str()).await {
            Ok(left) => {
                if left {
                    tell_presence(ctx, room.as_str(), "left").await;
                }
                frame("room_unsubscribed", json!({"room_id": room.as_str()}))
            }
            Err(e) => failed(e),
        },
        AppRequest::RoomMembers(room) => members(store, room.as_str()).await.unwrap_or_else(failed),
        AppRequest::Kick { .. } if !ctx.has_scope(ADMIN_SCOPE) => error_frame(
            &format!("Kick needs the scope {ADMIN_SCOPE}."),
            apigateway::codes::APIGW_FORBIDDEN.as_str(),
        ),
        AppRequest::Kick { user_id } => kick(ctx, &user_id).await,
        AppRequest::GetStats => match store.stats().await {
            Ok(stats) => frame("stats", server_interface::stats_data(&stats)),
            Err(e) => failed(e),
        },
    }
}
