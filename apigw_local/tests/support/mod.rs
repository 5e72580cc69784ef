//! What the emulator's tests share: a function that records every event and answers as the
//! test says, WebSocket clients on loopback with bounded reads, and the real SDK's
//! Management API client.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apigw_local::{Emulator, Function, FunctionError, Functions, Settings};
use parking_lot::Mutex;
use serde_json::{json, Value};
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

/// What the test function does with one event.
pub enum Reply {
    /// Answers this JSON.
    Answer(Value),
    /// Fails (an unhandled error).
    Fail,
    /// Never answers.
    Stall,
}

/// Every event the function got, in order.
pub type Events = Arc<Mutex<Vec<Value>>>;

/// A function that records each event and replies with `behaviour(event)`.
pub fn recording(
    behaviour: impl Fn(&Value) -> Reply + Send + Sync + 'static,
) -> (impl Function, Events) {
    let events: Events = Arc::default();
    let seen = Arc::clone(&events);
    let f = move |event: Value, _deadline: Instant| {
        let reply = behaviour(&event);
        seen.lock().push(event);
        async move {
            match reply {
                Reply::Answer(v) => Ok(v),
                Reply::Fail => Err(FunctionError::Failed("Unhandled".into())),
                Reply::Stall => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(Value::Null)
                }
            }
        }
    };
    (f, events)
}

/// 200 for `$connect`/`$disconnect`; a message's body echoed back.
pub fn echo(event: &Value) -> Reply {
    match event["requestContext"]["eventType"].as_str() {
        Some("MESSAGE") => Reply::Answer(json!({"statusCode": 200, "body": event["body"]})),
        _ => Reply::Answer(json!({"statusCode": 200})),
    }
}

/// An emulator with `settings` over a recording function.
pub fn emulator(
    settings: Settings,
    behaviour: impl Fn(&Value) -> Reply + Send + Sync + 'static,
) -> (Emulator, Events) {
    let (f, events) = recording(behaviour);
    (
        Emulator::start(settings, Functions::new(f), 0).unwrap(),
        events,
    )
}

pub type Client = WebSocket<TcpStream>;

/// Connects to `url` with extra headers; reads time out after 10 s.
pub fn connect(url: &str, headers: &[(&str, &str)]) -> Result<Client, tungstenite::Error> {
    connect_with_response(url, headers).map(|(c, _)| c)
}

/// [`connect`], with the handshake's response.
pub fn connect_with_response(
    url: &str,
    headers: &[(&str, &str)],
) -> Result<(Client, tungstenite::handshake::client::Response), tungstenite::Error> {
    let mut request = url.into_client_request()?;
    for (name, value) in headers {
        request.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let host = request.uri().authority().unwrap().as_str().to_owned();
    let stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    tungstenite::client(request, stream).map_err(|e| match e {
        tungstenite::HandshakeError::Failure(e) => e,
        tungstenite::HandshakeError::Interrupted(_) => {
            tungstenite::Error::Io(std::io::ErrorKind::TimedOut.into())
        }
    })
}

/// The HTTP status a refused connection got.
pub fn refused_status(result: Result<Client, tungstenite::Error>) -> u16 {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("not an HTTP refusal: {e}"),
        Ok(_) => panic!("the connection was accepted"),
    }
}

/// An upgrade request by hand, offering `protocols`; the response's head as text.
pub fn raw_upgrade(addr: std::net::SocketAddr, path: &str, protocols: Option<&str>) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let offer = protocols.map_or(String::new(), |p| {
        format!("Sec-WebSocket-Protocol: {p}\r\n")
    });
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Bounded: the read timeout, and 16 KiB.
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 << 10 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// The next text frame (pings and pongs skipped).
pub fn next_text(client: &mut Client) -> String {
    for _ in 0..100 {
        match client.read().unwrap() {
            Message::Text(t) => return t.as_str().to_owned(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected text, got {other:?}"),
        }
    }
    panic!("no text frame")
}

/// The next JSON text frame.
pub fn next_json(client: &mut Client) -> Value {
    serde_json::from_str(&next_text(client)).unwrap()
}

/// Reads until the server's close frame: its code and reason.
pub fn close_of(client: &mut Client) -> (u16, String) {
    for _ in 0..1000 {
        match client.read() {
            Ok(Message::Close(Some(frame))) => {
                return (u16::from(frame.code), frame.reason.as_str().to_owned())
            }
            Ok(Message::Close(None)) => return (1005, String::new()),
            Ok(_) => {}
            Err(e) => panic!("no close frame: {e}"),
        }
    }
    panic!("no close frame")
}

/// Waits (at most 10 s) until `events` holds one with `eventType` `kind` for `id`.
pub fn wait_event(events: &Events, kind: &str, id: &str) -> Value {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if let Some(e) = events.lock().iter().find(|e| {
            e["requestContext"]["eventType"] == kind && e["requestContext"]["connectionId"] == id
        }) {
            return e.clone();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no {kind} event for {id}: {:?}", events.lock())
}

/// The connection id of the first `$connect` recorded since `skip` events.
pub fn connection_id(events: &Events, skip: usize) -> String {
    events.lock()[skip..]
        .iter()
        .find(|e| e["requestContext"]["eventType"] == "CONNECT")
        .and_then(|e| e["requestContext"]["connectionId"].as_str())
        .unwrap()
        .to_owned()
}

/// The real SDK's Management API client for `endpoint` (dummy credentials).
pub fn management(endpoint: &str) -> aws_sdk_apigatewaymanagement::Client {
    use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_apigatewaymanagement::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .endpoint_url(endpoint)
        .retry_config(aws_sdk_apigatewaymanagement::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(config)
}

/// A current-thread runtime for the SDK's calls.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
