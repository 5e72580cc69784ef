//! `$connect` authentication on events in AWS's shape, against the real SDK, the embedded
//! DynamoDB and the local Management API: each refusal (nothing stored) and each way in —
//! and none of the tokens in any answer, stored record or debug line.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use apigateway::auth::{Jwks, Verifier, VerifierSettings};
use apigateway::{Management, Store};
use apigw_local::ManagementApi;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use local_dynamo::LocalDynamo;
use once_cell::sync::Lazy;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use serde_json::{json, Value};
use server_gateway::{app, Identity, Limits, Router};
use support::fixture;

const SECRET: &str = "a-test-secret-that-is-32-bytes-long!!";

/// Every debug line of this test binary.
static LOG: Lazy<Arc<Mutex<Vec<u8>>>> = Lazy::new(Arc::default);
/// Every token a test made, to look for in the output at the end of each test.
static TOKENS: Lazy<Mutex<Vec<String>>> = Lazy::new(Mutex::default);

struct Sink(Arc<Mutex<Vec<u8>>>);
impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("DEBUG_MODE", "true");
        std::env::set_var("APIGW_DEBUG_MODE", "true");
        let log = LOG.clone();
        debug::install(move || Sink(log.clone()));
    });
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn remember(token: String) -> String {
    TOKENS.lock().unwrap().push(token.clone());
    token
}

fn hs256(claims: Value, secret: &str) -> String {
    remember(
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
        )
        .unwrap(),
    )
}

fn good_claims(sub: &str) -> Value {
    json!({"sub": sub, "aud": "chat", "exp": now() + 300, "scope": "chat:write websocket:admin"})
}

/// A `$connect` for `id` on the local API at `host` with these query values and headers
/// (the fixture's `user_id` query value removed).
fn connect(id: &str, host: &str, query: Value, headers: &[(&str, &str)]) -> Value {
    let mut e = fixture("connect");
    e["requestContext"]["connectionId"] = json!(id);
    e["requestContext"]["domainName"] = json!(host);
    e["requestContext"]["stage"] = json!("local");
    let multi: serde_json::Map<String, Value> = query
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    e["queryStringParameters"] = query;
    e["multiValueQueryStringParameters"] = Value::Object(multi);
    for (name, value) in headers {
        e["headers"][*name] = json!(value);
        e["multiValueHeaders"][*name] = json!([value]);
    }
    e
}

fn message(id: &str, host: &str, body: Value) -> Value {
    let mut e = fixture("message");
    e["requestContext"]["connectionId"] = json!(id);
    e["requestContext"]["domainName"] = json!(host);
    e["requestContext"]["stage"] = json!("local");
    e["requestContext"]["routeKey"] = json!(body["type"]);
    e["body"] = json!(body.to_string());
    e
}

struct World {
    _db: LocalDynamo,
    store: Store,
    api: ManagementApi,
    management: Management,
}

async fn world() -> World {
    capture();
    let db = LocalDynamo::embedded().unwrap();
    let store = support::store(&db, "auth").await;
    let api = ManagementApi::start("local").unwrap();
    let management = support::management(&store);
    World {
        _db: db,
        store,
        api,
        management,
    }
}

fn settings() -> VerifierSettings {
    VerifierSettings {
        audience: Some("chat".into()),
        ..VerifierSettings::default()
    }
}

fn router(w: &World, identity: Identity) -> Router {
    app::router_with(w.store.clone(), w.management.clone())
        .identity(identity)
        .limits(Limits::default())
        .until(Instant::now() + Duration::from_secs(10))
}

fn hs_identity() -> Identity {
    Identity::jwt(
        Verifier::hs256(SECRET.as_bytes())
            .unwrap()
            .with_settings(settings()),
    )
}

/// No token in any debug line so far, in `texts`, or in the table's records.
async fn assert_no_token(w: &World, texts: &[String]) {
    let log = String::from_utf8_lossy(&LOG.lock().unwrap()).into_owned();
    assert!(
        log.contains("connect failed"),
        "the refusals were logged: {log}"
    );
    let mut records = String::new();
    for c in w.store.all_connections().await.unwrap() {
        records.push_str(&format!("{c:?}"));
    }
    for token in TOKENS.lock().unwrap().iter() {
        // The signature part alone is enough to recognise a token.
        let signature = token.rsplit('.').next().unwrap_or(token);
        for (name, text) in [("log", &log), ("records", &records)]
            .into_iter()
            .chain(texts.iter().map(|t| ("answer", t)))
        {
            assert!(
                signature.is_empty() || !text.contains(signature),
                "a token in the {name}"
            );
        }
    }
}

/// A refusal case: its name, query, headers and the status it must get.
type Case = (&'static str, Value, Vec<(&'static str, String)>, u16);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_answers_401_or_403_and_stores_nothing() {
    let w = world().await;
    let host = w.api.host();
    let router = router(&w, hs_identity());
    let bearer = |t: &str| format!("Bearer {t}");
    let none_header = {
        use base64::Engine;
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        remember(format!(
            "{}.{}.",
            b.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b.encode(good_claims("mallory").to_string())
        ))
    };
    let cases: Vec<Case> = vec![
        ("missing", json!({}), vec![], 401),
        (
            "expired",
            json!({"token": hs256(json!({"sub": "a", "aud": "chat", "exp": now() - 120}), SECRET)}),
            vec![],
            401,
        ),
        (
            "not yet valid",
            json!({"token": hs256(json!({"sub": "a", "aud": "chat", "exp": now() + 600, "nbf": now() + 300}), SECRET)}),
            vec![],
            401,
        ),
        (
            "no exp",
            json!({"token": hs256(json!({"sub": "a", "aud": "chat"}), SECRET)}),
            vec![],
            401,
        ),
        (
            "wrong signature",
            json!({}),
            vec![(
                "Authorization",
                bearer(&hs256(
                    good_claims("a"),
                    "another-secret-that-is-32-bytes-long",
                )),
            )],
            401,
        ),
        (
            "wrong audience",
            json!({"token": hs256(json!({"sub": "a", "aud": "other", "exp": now() + 300}), SECRET)}),
            vec![],
            401,
        ),
        ("alg none", json!({"token": none_header}), vec![], 401),
        (
            "garbage",
            json!({}),
            vec![("Sec-WebSocket-Protocol", "bearer, not-a-token".to_owned())],
            401,
        ),
    ];
    let mut answers = Vec::new();
    for (i, (name, query, headers, status)) in cases.into_iter().enumerate() {
        let id = format!("refused{i}=");
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = router
            .handle_value(connect(&id, &host, query, &headers))
            .await;
        assert_eq!(answer.status_code, status, "{name}: {answer:?}");
        assert!(
            answer.headers.is_empty() && answer.body.is_none(),
            "{name}: a bare refusal"
        );
        assert!(
            w.store.get_connection(&id).await.unwrap().is_none(),
            "{name}: nothing stored"
        );
        answers.push(answer.to_json());
    }

    // Algorithm confusion: an HS256 token keyed with the ES256 public key's PEM.
    let ec = PKey::from_ec_key(
        EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap(),
    )
    .unwrap();
    let public_pem = String::from_utf8(ec.public_key_to_pem().unwrap()).unwrap();
    let es = router.clone().identity(Identity::jwt(
        Verifier::public_key_pem(public_pem.as_bytes())
            .unwrap()
            .with_settings(settings()),
    ));
    let confused = hs256(good_claims("mallory"), &public_pem);
    let answer = es
        .handle_value(connect("confused=", &host, json!({"token": confused}), &[]))
        .await;
    assert_eq!(answer.status_code, 401, "algorithm confusion refused");

    // Another origin: 403; the listed one and a device without Origin get in.
    let listed = router
        .clone()
        .identity(hs_identity().with_allowed_origins(&["https://chat.example.com"]));
    let token = hs256(good_claims("olga"), SECRET);
    let answer = listed
        .handle_value(connect(
            "origin1=",
            &host,
            json!({"token": token}),
            &[("Origin", "https://evil.example.net")],
        ))
        .await;
    assert_eq!(answer.status_code, 403, "wrong origin");
    assert!(w.store.get_connection("origin1=").await.unwrap().is_none());
    for (id, headers) in [
        ("origin2=", vec![("Origin", "https://chat.example.com")]),
        ("origin3=", vec![]),
    ] {
        let answer = listed
            .handle_value(connect(id, &host, json!({"token": token}), &headers))
            .await;
        assert_eq!(answer.status_code, 200, "{id}: {answer:?}");
    }
    assert_no_token(&w, &answers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_header_and_subprotocol_tokens_get_in() {
    let w = world().await;
    let host = w.api.host();
    let router = router(&w, hs_identity());
    let t1 = hs256(good_claims("alice"), SECRET);
    let t2 = hs256(good_claims("bob"), SECRET);
    let t3 = hs256(
        json!({"sub": "carol", "aud": "chat", "exp": now() + 300}),
        SECRET,
    );
    let mut answers = Vec::new();
    let a = router
        .handle_value(connect("q=", &host, json!({"token": t1}), &[]))
        .await;
    assert_eq!(a.status_code, 200, "query: {a:?}");
    assert!(
        a.headers.is_empty(),
        "no subprotocol selected for a query token"
    );
    let auth = format!("Bearer {t2}");
    let a = router
        .handle_value(connect("h=", &host, json!({}), &[("Authorization", &auth)]))
        .await;
    assert_eq!(a.status_code, 200, "header: {a:?}");
    let offered = format!("bearer, {t3}");
    let a = router
        .handle_value(connect(
            "p=",
            &host,
            json!({}),
            &[("Sec-WebSocket-Protocol", &offered)],
        ))
        .await;
    assert_eq!(a.status_code, 200, "subprotocol: {a:?}");
    assert_eq!(
        a.headers.get("Sec-WebSocket-Protocol").map(String::as_str),
        Some("bearer"),
        "the answer selects bearer, never the token"
    );
    answers.push(a.to_json());
    for (id, user) in [("q=", "alice"), ("h=", "bob"), ("p=", "carol")] {
        let c = w.store.get_connection(id).await.unwrap().expect("stored");
        assert_eq!(c.user_id.as_deref(), Some(user), "sub is the user id");
    }
    let alice = w.store.get_connection("q=").await.unwrap().unwrap();
    assert_eq!(
        alice.metadata["scopes"],
        json!(["chat:write", "websocket:admin"])
    );
    // Scopes decide a later route: carol has none, so her broadcast is refused.
    let b = router
        .handle_value(message(
            "p=",
            &host,
            json!({"type": "broadcast", "data": {"message": "hi"}}),
        ))
        .await;
    let frame: Value = serde_json::from_str(b.body.as_deref().unwrap()).unwrap();
    assert_eq!(frame["data"]["error_code"], "APIGW_FORBIDDEN", "{frame}");
    answers.push(b.to_json());
    // An RS256 public key works the same way.
    let rsa = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let rs = router.clone().identity(Identity::jwt(
        Verifier::public_key_pem(&rsa.public_key_to_pem().unwrap())
            .unwrap()
            .with_settings(settings()),
    ));
    let signed = remember(
        encode(
            &Header::new(Algorithm::RS256),
            &good_claims("dora"),
            &EncodingKey::from_rsa_pem(&rsa.private_key_to_pem_pkcs8().unwrap()).unwrap(),
        )
        .unwrap(),
    );
    let a = rs
        .handle_value(connect("rs=", &host, json!({"token": signed}), &[]))
        .await;
    assert_eq!(a.status_code, 200, "RS256: {a:?}");
    let _ = router
        .handle_value(connect("x=", &host, json!({}), &[]))
        .await;
    assert_no_token(&w, &answers).await;
}

/// A JWKS served on 127.0.0.1, its keys swappable, its fetches counted.
struct KeySet {
    url: String,
    keys: Arc<Mutex<JwkSet>>,
    fetches: Arc<std::sync::atomic::AtomicUsize>,
}

async fn key_set() -> KeySet {
    use axum::routing::get;
    let keys = Arc::new(Mutex::new(JwkSet { keys: vec![] }));
    let fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (k, f) = (keys.clone(), fetches.clone());
    let app = axum::Router::new().route(
        "/.well-known/jwks.json",
        get(move || {
            let (k, f) = (k.clone(), f.clone());
            async move {
                f.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body = serde_json::to_string(&*k.lock().unwrap()).unwrap();
                ([("content-type", "application/json")], body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    KeySet { url, keys, fetches }
}

/// An ES256 key as (its signing key, its JWK named `kid`).
fn ec_key(kid: &str) -> (EncodingKey, Jwk) {
    let ec = PKey::from_ec_key(
        EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap(),
    )
    .unwrap();
    let signing = EncodingKey::from_ec_pem(&ec.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&signing, Algorithm::ES256).unwrap();
    jwk.common.key_id = Some(kid.to_owned());
    (signing, jwk)
}

fn es256(key: &EncodingKey, kid: &str, claims: Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    remember(encode(&header, &claims, key).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_rotation_is_followed_with_one_refetch() {
    use std::sync::atomic::Ordering::SeqCst;
    let w = world().await;
    let host = w.api.host();
    let set = key_set().await;
    let (k1, jwk1) = ec_key("k1");
    let (k2, jwk2) = ec_key("k2");
    set.keys.lock().unwrap().keys = vec![jwk1];
    let mut jwks = Jwks::new(&set.url).unwrap();
    jwks.cooldown = Duration::ZERO;
    let router = router(
        &w,
        Identity::jwt(Verifier::jwks(jwks).with_settings(settings())),
    );
    let a = router
        .handle_value(connect(
            "j1=",
            &host,
            json!({"token": es256(&k1, "k1", good_claims("erin"))}),
            &[],
        ))
        .await;
    assert_eq!(a.status_code, 200, "{a:?}");
    assert_eq!(set.fetches.load(SeqCst), 1);
    let a = router
        .handle_value(connect(
            "j2=",
            &host,
            json!({"token": es256(&k1, "k1", good_claims("erin"))}),
            &[],
        ))
        .await;
    assert_eq!(a.status_code, 200);
    assert_eq!(
        set.fetches.load(SeqCst),
        1,
        "a known kid is served from the cache"
    );
    // The issuer rotates: k2 in, k1 out.
    set.keys.lock().unwrap().keys = vec![jwk2];
    let a = router
        .handle_value(connect(
            "j3=",
            &host,
            json!({"token": es256(&k2, "k2", good_claims("erin"))}),
            &[],
        ))
        .await;
    assert_eq!(a.status_code, 200, "the new key after one refetch: {a:?}");
    assert_eq!(set.fetches.load(SeqCst), 2);
    // A token naming a key the set does not have: one refetch, then 401.
    let a = router
        .handle_value(connect(
            "j4=",
            &host,
            json!({"token": es256(&k1, "nope", good_claims("erin"))}),
            &[],
        ))
        .await;
    assert_eq!(a.status_code, 401);
    assert_eq!(
        set.fetches.load(SeqCst),
        3,
        "exactly one refetch for the unknown kid"
    );

    // With the default cooldown, a burst of unknown kids costs no fetch past the first.
    let cooled = router.clone().identity(Identity::jwt(
        Verifier::jwks(Jwks::new(&set.url).unwrap()).with_settings(settings()),
    ));
    let before = set.fetches.load(SeqCst);
    for i in 0..5 {
        let a = cooled
            .handle_value(connect(
                &format!("burst{i}="),
                &host,
                json!({"token": es256(&k2, &format!("x{i}"), good_claims("erin"))}),
                &[],
            ))
            .await;
        assert_eq!(a.status_code, 401);
    }
    assert_eq!(
        set.fetches.load(SeqCst) - before,
        1,
        "the cooldown holds refetches back"
    );
    assert_no_token(&w, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorizers_identity_holds_on_connect_and_later_routes() {
    let w = world().await;
    let host = w.api.host();
    // A verifier is configured, yet the authorizer's context is enough: it already ran.
    let router = router(&w, hs_identity());
    let mut e = connect("az=", &host, json!({}), &[]);
    e["requestContext"]["authorizer"] = json!({"principalId": "frank", "scope": "websocket:admin"});
    let a = router.handle_value(e).await;
    assert_eq!(a.status_code, 200, "{a:?}");
    let c = w.store.get_connection("az=").await.unwrap().unwrap();
    assert_eq!(c.user_id.as_deref(), Some("frank"));
    w.api.connect("az=");
    // A later route carries the authorizer again (AWS passes it on every route): the scope
    // lets the broadcast through.
    let mut m = message(
        "az=",
        &host,
        json!({"type": "broadcast", "data": {"message": "hi"}}),
    );
    m["requestContext"]["authorizer"] = json!({"principalId": "frank", "scope": "websocket:admin"});
    let b = router.handle_value(m).await;
    let frame: Value = serde_json::from_str(b.body.as_deref().unwrap()).unwrap();
    assert_eq!(frame["type"], "broadcast_sent", "{frame}");
    // Without the scope in the authorizer's context, the same broadcast is refused.
    let mut m = message(
        "az=",
        &host,
        json!({"type": "broadcast", "data": {"message": "hi"}}),
    );
    m["requestContext"]["authorizer"] = json!({"principalId": "frank"});
    let b = router.handle_value(m).await;
    let frame: Value = serde_json::from_str(b.body.as_deref().unwrap()).unwrap();
    assert_eq!(frame["data"]["error_code"], "APIGW_FORBIDDEN", "{frame}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_user_limit_checks_its_counted_connections_first() {
    let w = world().await;
    let host = w.api.host();
    let router = router(&w, hs_identity());
    let token = hs256(good_claims("gina"), SECRET);
    for i in 0..5 {
        let id = format!("g{i}=");
        let a = router
            .handle_value(connect(&id, &host, json!({"token": token}), &[]))
            .await;
        assert_eq!(a.status_code, 200, "{id}");
        w.api.connect(&id);
    }
    // All five open: the sixth is refused, nothing stored.
    let a = router
        .handle_value(connect("g5=", &host, json!({"token": token}), &[]))
        .await;
    assert_eq!(a.status_code, 403, "over the per-user limit");
    assert!(w.store.get_connection("g5=").await.unwrap().is_none());
    // Three went without a $disconnect reaching us: their records stay until the check.
    for id in ["g0=", "g2=", "g4="] {
        w.api.disconnect(id);
    }
    assert_eq!(w.store.connections_by_user("gina").await.unwrap().len(), 5);
    let a = router
        .handle_value(connect("g5=", &host, json!({"token": token}), &[]))
        .await;
    assert_eq!(
        a.status_code, 200,
        "the stale records do not lock the user out"
    );
    let mut left: Vec<String> = w
        .store
        .connections_by_user("gina")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.connection_id)
        .collect();
    left.sort();
    assert_eq!(left, ["g1=", "g3=", "g5="], "the gone ones were removed");
}
