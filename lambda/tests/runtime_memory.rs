//! Memory bounded for the whole process, however many connections it holds: the real
//! runtime loop opens 64 connections (the registry's default bound) whose peers each send
//! all but the last byte of a frame of the largest size the defaults allow, and stall. Each
//! receive times out with the partial frame kept — until the process's budget of held bytes
//! is spent; from then on a connection that would pass it is dropped with a clear error.
//! The function's peak RSS, read from /proc, stays within 96 MiB (a 128 MB Lambda's room).

mod support;

use std::time::Duration;

use serde_json::json;
use support::Runtime;

/// The largest message the defaults allow (6 MiB less 4 KiB).
const MAX_MESSAGE: usize = (6 << 20) - (4 << 10);
const CONNECTIONS: usize = 64;
/// A large message: half the largest.
const LARGE: usize = MAX_MESSAGE / 2;
const PEAK_LIMIT_KIB: u64 = 96 << 10;

/// Reports the function's peak RSS under `label` and asserts it within the limit.
fn assert_peak_within_limit(runtime: &Runtime, label: &str) {
    let peak_mib = runtime.peak_rss_kib() as f64 / 1024.0;
    eprintln!("{label}: peak RSS {peak_mib:.1} MiB");
    assert!(
        runtime.peak_rss_kib() <= PEAK_LIMIT_KIB,
        "{label}: peak RSS {peak_mib:.1} MiB is over 96 MiB"
    );
}

#[test]
fn sixty_four_held_connections_with_stalled_maximum_frames_stay_within_96_mib() {
    let peer = peers::one_byte_short(MAX_MESSAGE).expect("peer");
    let echo = peers::echo().expect("echo");
    let mut runtime = Runtime::start(&[], Duration::from_secs(10), None);
    let (mut timed_out, mut refused) = (0, 0);
    for _ in 0..CONNECTIONS {
        let (connected, _) = runtime.invoke(&json!({"operation": "connect", "url": peer.url()}));
        assert_eq!(connected["success"], true, "{connected}");
        let handle = connected["data"]["connection"].clone();
        let (received, _) = runtime.invoke(&json!({
            "operation": "receive", "connection": handle, "expect": "binary", "timeout": 0.5
        }));
        match received["error_code"].as_str() {
            Some("WEBSOCKET_TIMEOUT") => timed_out += 1,
            Some("MESSAGE_TOO_LARGE") => {
                assert!(received["details"]["held_bytes"].is_u64(), "{received}");
                refused += 1;
            }
            _ => panic!("unexpected answer: {received}"),
        }
    }
    assert_peak_within_limit(
        &runtime,
        &format!("{CONNECTIONS} connections: {timed_out} hold a partial frame, {refused} dropped"),
    );
    assert!(
        timed_out > 0 && refused > 0,
        "{timed_out} held, {refused} refused"
    );

    // The process goes on serving.
    let (reply, _) = runtime.invoke(&json!({
        "operation": "request", "url": echo.url(), "message": {"ok": true}
    }));
    assert_eq!(reply["success"], true, "{reply}");
}

/// 64 held connections that each once received a large message (half the largest default
/// size: 3 MiB, to keep the test short) and then sit idle: tungstenite's read buffer grows
/// to the largest frame and kept it for the connection's life (412 MB for 64 connections
/// after 6 MB each), now let go after each large message.
#[test]
fn sixty_four_idle_connections_after_large_messages_stay_within_96_mib() {
    let peer = peers::large_text_reply(LARGE).expect("peer");
    let mut runtime = Runtime::start(&[], Duration::from_secs(20), None);
    for _ in 0..CONNECTIONS {
        let (connected, _) = runtime.invoke(&json!({"operation": "connect", "url": peer.url()}));
        assert_eq!(connected["success"], true, "{connected}");
        let handle = connected["data"]["connection"].clone();
        let (sent, _) = runtime.invoke(&json!({
            "operation": "send", "connection": handle, "text": "go"
        }));
        assert_eq!(sent["success"], true, "{sent}");
        let (received, _) = runtime.invoke(&json!({
            "operation": "receive", "connection": handle, "expect": "text", "timeout": 5
        }));
        assert_eq!(received["success"], true, "{}", received["error"]);
        assert_eq!(received["data"]["text"].as_str().map(str::len), Some(LARGE));
    }
    assert_peak_within_limit(
        &runtime,
        &format!("{CONNECTIONS} idle connections after a 3 MiB message each"),
    );
}
