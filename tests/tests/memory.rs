//! Memory is bounded in bytes: a counting global allocator measures the peak bytes the
//! process holds while one message of the largest size the defaults allow, in the worst
//! shapes, goes through the Lambda path (event text in, envelope text out), and while a
//! flood of large Home Assistant events arrives before a result.
//!
//! One test function: the allocator counts the whole process, so nothing else may run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gateway::{ManagerConfig, DEFAULT_MAX_MESSAGE_SIZE};
use home_assistant::HaConfig;
use lambda::{Function, Invocation};
use peers::{HaStandIn, Quirks, Server};
use serde_json::json;
use tests::own_gateway;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak bytes held above what was held when `run` started.
fn peak_during(run: impl FnOnce()) -> usize {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    run();
    PEAK.load(Ordering::SeqCst).saturating_sub(base)
}

/// A server that answers the first message with `frame` (a whole WebSocket frame, built
/// before the measurement so the server allocates nothing then).
fn replying(frame: Vec<u8>) -> Server {
    let frame = Arc::new(frame);
    Server::start(
        "ws",
        Arc::new(move |stream| {
            if let Ok(mut ws) = tungstenite::accept(stream) {
                if ws.read().is_ok() {
                    let _ = ws.get_mut().write_all(&frame);
                    let _ = ws.get_mut().flush();
                }
                while ws.read().is_ok() {}
            }
        }),
    )
    .expect("start server")
}

fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode, 127];
    out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// `[0,0,...]`, `[{},{},...]` and the like, exactly `size` bytes.
fn worst_json(unit: &str, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    out.push(b'[');
    while out.len() + unit.len() + 2 <= size {
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(unit.as_bytes());
    }
    out.push(b']');
    out
}

const MB: f64 = 1024.0 * 1024.0;

#[test]
fn one_message_costs_a_small_multiple_of_its_size() {
    let size = DEFAULT_MAX_MESSAGE_SIZE;
    let function = Function::new(own_gateway(ManagerConfig::default()));
    let invocation = || Invocation::with_budget("memory", Duration::from_secs(30));
    let mut report = Vec::new();

    // Replies of the largest size in the worst shapes, expected as JSON, text and binary.
    let cases: Vec<(&str, Vec<u8>, &str, bool)> = vec![
        (
            "[0,0,...] as json",
            frame(1, &worst_json("0", size)),
            "json",
            true,
        ),
        (
            "[{},{},...] as json",
            frame(1, &worst_json("{}", size)),
            "json",
            true,
        ),
        (
            "control characters as text",
            frame(1, &vec![1u8; size]),
            "text",
            false,
        ),
        (
            "binary as base64",
            frame(2, &vec![0xffu8; size]),
            "binary",
            false,
        ),
    ];
    for (name, reply, expect, fits) in cases {
        let server = replying(reply);
        let event = json!({"operation": "request", "url": server.url(), "text": "go", "expect": expect, "timeout": 20}).to_string();
        let mut outcome = None;
        let peak = peak_during(|| {
            let envelope = function.answer(&event, &invocation());
            outcome = Some((envelope.is_success(), envelope.len()));
        });
        let (success, len) = outcome.unwrap_or_default();
        assert_eq!(success, fits, "{name}: envelope of {len} bytes");
        let ratio = peak as f64 / size as f64;
        report.push(format!(
            "{name}: peak {:.1} MiB = {ratio:.2} x the message",
            peak as f64 / MB
        ));
        // Measured: 3.0 x for [0,0,...], 2.0 x for [{},...], 1.3 x for text and binary.
        let bound = if fits { 4.0 } else { 2.5 };
        assert!(ratio <= bound, "{name}: {ratio:.2} x");
    }

    // Sending the largest message in the worst shape: the event is text, never a tree.
    let echo_sink = replying(frame(1, b"{}"));
    let message = String::from_utf8(worst_json("0", size - 256)).unwrap_or_default();
    let event = format!(
        r#"{{"operation":"request","url":"{}","message":{message},"timeout":20}}"#,
        echo_sink.url()
    );
    drop(message);
    let peak = peak_during(|| {
        let envelope = function.answer(&event, &invocation());
        assert!(envelope.is_success(), "{}", envelope.as_str());
    });
    let ratio = peak as f64 / size as f64;
    report.push(format!(
        "sending [0,0,...]: peak {:.1} MiB = {ratio:.2} x the message",
        peak as f64 / MB
    ));
    // Measured: 2.0 x.
    assert!(ratio <= 3.0, "sending: {ratio:.2} x");

    // 96 events of 1 MiB arrive before a result: the backlog holds at most 8 MiB.
    let token = "memory-token-0123456789";
    let ha = HaStandIn::start(token).expect("stand-in");
    let config = HaConfig::new(&ha.base_url(), token).expect("config");
    let ha_function =
        Function::new(own_gateway(ManagerConfig::default())).with_home_assistant(config);
    let sub = ha_function.handle(
        json!({"operation": "ha_command", "command": {"type": "subscribe_events"}}),
        &invocation(),
    );
    assert_eq!(sub["success"], true, "{sub}");
    ha.set_quirks(Quirks {
        events_before_result: 96,
        event_padding: 1 << 20,
        ..Quirks::default()
    });
    let peak = peak_during(|| {
        let envelope = ha_function.answer(r#"{"operation": "ha_get_config"}"#, &invocation());
        assert!(envelope.is_success(), "{}", envelope.as_str());
    });
    report.push(format!(
        "96 x 1 MiB events before a result: peak {:.1} MiB (backlog bound {} MiB)",
        peak as f64 / MB,
        home_assistant::BACKLOG_LIMIT_BYTES >> 20
    ));
    assert!(
        peak <= home_assistant::BACKLOG_LIMIT_BYTES + (8 << 20),
        "{:.1} MiB",
        peak as f64 / MB
    );
    eprintln!("{}", report.join("\n"));
}
