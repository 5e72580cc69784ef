//! Every way a connection ends gives one `$disconnect` with AWS's code and reason: the
//! client's close (its code, or 1005), the limits (1009 past 32 KB frames or 128 KB
//! messages, 1003 for binary), a dropped TCP connection (1006), the idle timeout and the
//! connection's duration (1001 by default, a setting); and the integration timeout holds
//! at AWS's own 29 s.

mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use apigw_local::Settings;
use serde_json::json;
use support::*;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::Message;

fn disconnect_of(events: &Events, id: &str) -> (i64, String) {
    let e = wait_event(events, "DISCONNECT", id);
    let c = &e["requestContext"];
    (
        c["disconnectStatusCode"].as_i64().unwrap(),
        c["disconnectReason"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn a_client_close_without_a_code_is_1005() {
    let (api, events) = emulator(Settings::default(), echo);
    let mut client = connect(&api.url(), &[]).unwrap();
    let id = connection_id(&events, 0);
    client.close(None).unwrap();
    let _ = client.read();
    assert_eq!(
        disconnect_of(&events, &id),
        (1005, "Client-side close frame status not set".into())
    );
    assert_eq!(api.connections(), 0);
    assert_eq!(api.disconnects(), [id]);
}

#[test]
fn frames_past_32_kb_and_messages_past_128_kb_close_with_1009() {
    let (api, events) = emulator(Settings::default(), echo);
    // At the limits: delivered.
    let mut client = connect(&api.url(), &[]).unwrap();
    let at_limit = "a".repeat(apigw_local::FRAME_LIMIT);
    client.send(Message::text(at_limit.clone())).unwrap();
    assert_eq!(next_text(&mut client).len(), at_limit.len());
    // One frame of 32 KB + 1.
    client
        .send(Message::text("b".repeat(apigw_local::FRAME_LIMIT + 1)))
        .unwrap();
    assert_eq!(close_of(&mut client), (1009, "Message too big".into()));
    let first = connection_id(&events, 0);
    assert_eq!(
        disconnect_of(&events, &first),
        (1009, "Message too big".into())
    );

    // 128 KB in 32 KB frames is one message at the limit; one byte more closes.
    let skip = events.lock().len();
    let mut client = connect(&api.url(), &[]).unwrap();
    let id = connection_id(&events, skip);
    let send_fragmented = |client: &mut Client, total: usize| {
        let chunk = apigw_local::FRAME_LIMIT;
        let mut sent = 0;
        let mut first = true;
        while sent < total {
            let n = chunk.min(total - sent);
            let opcode = if first {
                OpCode::Data(Data::Text)
            } else {
                OpCode::Data(Data::Continue)
            };
            let frame = Frame::message(vec![b'c'; n], opcode, sent + n == total);
            client.send(Message::Frame(frame)).unwrap();
            sent += n;
            first = false;
        }
    };
    send_fragmented(&mut client, apigw_local::MESSAGE_LIMIT);
    assert_eq!(next_text(&mut client).len(), apigw_local::MESSAGE_LIMIT);
    send_fragmented(&mut client, apigw_local::MESSAGE_LIMIT + 1);
    assert_eq!(close_of(&mut client).0, 1009);
    assert_eq!(disconnect_of(&events, &id).0, 1009);
}

#[test]
fn binary_frames_close_with_1003_unless_allowed() {
    let (api, events) = emulator(Settings::default(), echo);
    let mut client = connect(&api.url(), &[]).unwrap();
    let id = connection_id(&events, 0);
    client.send(Message::binary(vec![1, 2, 3])).unwrap();
    assert_eq!(close_of(&mut client), (1003, "Unsupported data".into()));
    assert_eq!(
        disconnect_of(&events, &id),
        (1003, "Unsupported data".into())
    );

    let settings = Settings {
        binary: true,
        ..Settings::default()
    };
    let (api, events) = emulator(settings, echo);
    let mut client = connect(&api.url(), &[]).unwrap();
    client.send(Message::binary(vec![1, 2, 3])).unwrap();
    assert_eq!(next_text(&mut client), "AQID");
    let message = events
        .lock()
        .iter()
        .find(|e| e["requestContext"]["eventType"] == "MESSAGE")
        .cloned()
        .unwrap();
    assert_eq!(message["isBase64Encoded"], true);
    assert_eq!(message["requestContext"]["routeKey"], "$default");
}

#[test]
fn a_dropped_tcp_connection_is_1006() {
    let (api, events) = emulator(Settings::default(), echo);
    let client = connect(&api.url(), &[]).unwrap();
    let id = connection_id(&events, 0);
    let stream = client.into_inner();
    stream.shutdown(std::net::Shutdown::Both).unwrap();
    drop(stream);
    assert_eq!(
        disconnect_of(&events, &id),
        (1006, "Connection closed abnormally".into())
    );
}

#[test]
fn the_idle_timeout_closes_within_ten_percent_with_the_configured_code() {
    for (code, idle) in [
        (1001u16, Duration::from_millis(1500)),
        (4000, Duration::from_secs(1)),
    ] {
        let settings = Settings {
            idle_timeout: idle,
            timeout_close_code: code,
            ..Settings::default()
        };
        let (api, events) = emulator(settings, echo);
        let mut client = connect(&api.url(), &[]).unwrap();
        let id = connection_id(&events, 0);
        // A message resets the idle clock; its answer does not.
        std::thread::sleep(idle / 2);
        client.send(Message::text("still here")).unwrap();
        let active = Instant::now();
        assert_eq!(next_text(&mut client), "still here");
        let (got, reason) = close_of(&mut client);
        let after = active.elapsed();
        assert_eq!((got, reason.as_str()), (code, "Going away"));
        assert!(after >= idle - Duration::from_millis(20), "{after:?}");
        assert!(
            after <= idle + idle / 10,
            "closed after {after:?} for {idle:?}"
        );
        assert_eq!(
            disconnect_of(&events, &id),
            (i64::from(code), "Going away".into())
        );
    }
}

#[test]
fn the_connection_duration_limit_closes_an_active_connection() {
    let limit = Duration::from_millis(1500);
    let settings = Settings {
        max_connection_duration: limit,
        ..Settings::default()
    };
    let (api, events) = emulator(settings, echo);
    let started = Instant::now();
    let mut client = connect(&api.url(), &[]).unwrap();
    let id = connection_id(&events, 0);
    let mut sent = 0;
    // Bounded: the limit closes it, or 40 rounds.
    let closed = loop {
        client.send(Message::text(format!("n{sent}"))).unwrap();
        sent += 1;
        match client.read() {
            Ok(Message::Text(_)) => {}
            Ok(Message::Close(Some(f))) => break u16::from(f.code),
            other => panic!("{other:?}"),
        }
        assert!(sent < 40, "never closed");
        std::thread::sleep(Duration::from_millis(100));
    };
    let after = started.elapsed();
    assert_eq!(closed, 1001);
    assert!(
        after >= limit && after <= limit + limit / 10 + Duration::from_millis(100),
        "{after:?}"
    );
    assert_eq!(disconnect_of(&events, &id).0, 1001);
}

#[test]
fn the_integration_timeout_holds_at_29_seconds() {
    let (api, events) = emulator(Settings::default(), |event| {
        match event["requestContext"]["eventType"].as_str() {
            Some("MESSAGE") => Reply::Stall,
            _ => Reply::Answer(json!({"statusCode": 200})),
        }
    });
    let mut client = connect(&api.url(), &[]).unwrap();
    client
        .get_mut()
        .set_read_timeout(Some(Duration::from_secs(40)))
        .unwrap();
    let id = connection_id(&events, 0);
    let sent = Instant::now();
    client.send(Message::text(r#"{"action": "slow"}"#)).unwrap();
    let answer = next_json(&mut client);
    let after = sent.elapsed();
    assert_eq!(answer["message"], "Endpoint request timed out");
    assert_eq!(answer["connectionId"], id.as_str());
    let limit = Duration::from_secs(29);
    assert!(after >= limit && after <= limit + limit / 10, "{after:?}");
    // The connection stays.
    client.send(Message::text("ping")).unwrap();
    client
        .get_mut()
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    assert!(client.can_write());
}

#[test]
fn a_connect_that_outlasts_the_integration_timeout_is_504() {
    let settings = Settings {
        integration_timeout: Duration::from_millis(500),
        ..Settings::default()
    };
    let (api, events) = emulator(settings, |_| Reply::Stall);
    let started = Instant::now();
    assert_eq!(refused_status(connect(&api.url(), &[])), 504);
    assert!(started.elapsed() < Duration::from_millis(550) + Duration::from_millis(100));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        events.lock().len(),
        1,
        "no $disconnect for a connection that never was"
    );
}

#[test]
fn a_client_that_stops_reading_gets_429s_not_unbounded_memory() {
    let settings = Settings {
        outbox_limit: 64 << 10,
        ..Settings::default()
    };
    let (api, events) = emulator(settings, echo);
    let client = connect(&api.url(), &[]).unwrap();
    let id = connection_id(&events, 0);
    let rt = runtime();
    let sdk = management(&api.management_url());
    let chunk = vec![b'z'; 16 << 10];
    let mut accepted = 0usize;
    // Bounded: 4000 posts of 16 KiB (64 MiB) at most; the socket's buffers fill first.
    let status = loop {
        let posted = rt.block_on(
            sdk.post_to_connection()
                .connection_id(&id)
                .data(chunk.clone().into())
                .send(),
        );
        match posted {
            Ok(_) => accepted += 1,
            Err(e) => break e.raw_response().map(|r| r.status().as_u16()),
        }
        assert!(accepted < 4000, "never refused");
    };
    assert_eq!(status, Some(429), "after {accepted} posts");
    let mut stream = client.into_inner();
    let _ = stream.flush();
    drop(stream);
    assert_eq!(disconnect_of(&events, &id).0, 1006);
}

/// Writes `frame` (already masked, as a client must) straight to the socket.
fn raw_frame(client: &mut Client, frame: &[u8]) {
    client.get_mut().write_all(frame).unwrap();
    client.get_mut().flush().unwrap();
}

#[test]
fn text_that_is_not_utf8_is_1007_and_a_protocol_violation_1002() {
    let (api, events) = emulator(Settings::default(), echo);
    // A text frame of two bytes that are not UTF-8 (mask key 0: the payload as it is).
    let mut client = connect(&api.url(), &[]).unwrap();
    let id = connection_id(&events, 0);
    raw_frame(&mut client, &[0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]);
    assert_eq!(close_of(&mut client).0, 1007);
    assert_eq!(
        disconnect_of(&events, &id),
        (1007, "Invalid frame payload data".into())
    );
    // A frame with RSV1 set, which no extension was negotiated for.
    let mut client = connect(&api.url(), &[]).unwrap();
    let id = connection_id(&events, 2);
    raw_frame(&mut client, &[0xc1, 0x80, 0, 0, 0, 0]);
    assert_eq!(close_of(&mut client).0, 1002);
    assert_eq!(disconnect_of(&events, &id), (1002, "Protocol error".into()));
}

#[test]
fn a_client_that_never_finishes_its_headers_is_closed_after_10_s() {
    let (api, events) = emulator(Settings::default(), echo);
    let addr = api.addr();
    let stall = |first: &'static [u8]| {
        std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            stream.write_all(first).unwrap();
            let start = Instant::now();
            let mut buf = [0u8; 512];
            // Bounded: the read timeout; 0 bytes (or a reset) is the close.
            loop {
                match std::io::Read::read(&mut stream, &mut buf) {
                    Ok(0) | Err(_) => return start.elapsed(),
                    Ok(_) => {}
                }
            }
        })
    };
    let silent = stall(b"");
    let partial = stall(b"GET /local HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (what, waited) in [("silent", silent), ("partial", partial)] {
        let waited = waited.join().unwrap();
        let limit = apigw_local::HEADER_READ_TIMEOUT;
        assert!(
            waited >= limit - limit / 10 && waited <= limit + limit / 10,
            "{what}: closed after {waited:?}"
        );
    }
    assert!(
        events.lock().is_empty(),
        "no $connect for an unfinished upgrade"
    );
}

#[test]
fn invocations_past_the_concurrency_wait_within_the_integration_timeout() {
    // One instance; each message takes 600 ms; the integration timeout is 1 s. Two at
    // once: the first is answered, the second waited 600 ms for the instance and times out.
    let slow = |event: serde_json::Value, _deadline: Instant| async move {
        if event["requestContext"]["eventType"] == "MESSAGE" {
            tokio::time::sleep(Duration::from_millis(600)).await;
            return Ok(json!({"statusCode": 200, "body": event["body"]}));
        }
        Ok(json!({"statusCode": 200}))
    };
    let settings = Settings {
        concurrency: 1,
        integration_timeout: Duration::from_secs(1),
        ..Settings::default()
    };
    let api = apigw_local::Emulator::start(settings, apigw_local::Functions::new(slow), 0).unwrap();
    let mut client = connect(&api.url(), &[]).unwrap();
    client.send(Message::text("one")).unwrap();
    client.send(Message::text("two")).unwrap();
    let mut got = vec![next_text(&mut client), next_text(&mut client)];
    got.sort(); // "one" sorts before the JSON message
    assert_eq!(got[0], "one", "{got:?}");
    let timed_out: serde_json::Value = serde_json::from_str(&got[1]).unwrap();
    assert_eq!(
        timed_out["message"], "Endpoint request timed out",
        "{got:?}"
    );
    assert!(Settings {
        concurrency: 0,
        ..Settings::default()
    }
    .problem()
    .is_some());
}
