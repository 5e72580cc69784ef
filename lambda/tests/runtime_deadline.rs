//! The real runtime loop against a Runtime API of the project's own (a loopback HTTP
//! server speaking Lambda's `next` / `response` protocol with a real deadline header): the
//! `lambda` binary's answer arrives before the invocation's deadline, always — when Home
//! Assistant stalls in authentication and when a warm session stalls.
//!
//! cargo-lambda's emulator gives every invocation a 600 s budget, so it cannot show this.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use peers::{HaStandIn, Quirks};
use serde_json::{json, Value};

const TOKEN: &str = "runtime-token-SECRET-4242";
/// Time each invocation is given, as Lambda gives it: a deadline in epoch milliseconds.
const BUDGET: Duration = Duration::from_millis(2000);

/// The runtime API and the function process it serves.
struct Runtime {
    server: tiny_http::Server,
    child: Child,
    next_id: u32,
}

impl Runtime {
    fn start(ha: &HaStandIn) -> Runtime {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("runtime API");
        let addr = server.server_addr().to_ip().expect("ip address");
        let child = Command::new(env!("CARGO_BIN_EXE_lambda"))
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "suga-websocket")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "local")
            .env("HA_URL", ha.base_url())
            .env("HA_TOKEN", TOKEN)
            .env_remove("HA_CA_CERT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the function");
        Runtime {
            server,
            child,
            next_id: 0,
        }
    }

    /// Hands `event` to the function's next poll and returns its answer and how long
    /// before (positive) or after (negative) the deadline it arrived, in milliseconds.
    fn invoke(&mut self, event: &Value) -> (Value, i128) {
        self.next_id += 1;
        let request_id = format!("req-{}", self.next_id);
        let until = Instant::now() + Duration::from_secs(60);
        let mut deadline_ms = 0u128;
        while Instant::now() < until {
            let Ok(Some(request)) = self.server.recv_timeout(Duration::from_millis(200)) else {
                continue;
            };
            let url = request.url().to_owned();
            if url.ends_with("/runtime/invocation/next") {
                deadline_ms = epoch_ms() + BUDGET.as_millis();
                let headers = [
                    ("Lambda-Runtime-Aws-Request-Id", request_id.clone()),
                    ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
                    (
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:000000000000:function:suga-websocket".into(),
                    ),
                    (
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-00000000-000000000000000000000000".into(),
                    ),
                    ("Content-Type", "application/json".into()),
                ];
                let mut response = tiny_http::Response::from_string(event.to_string());
                for (name, value) in headers {
                    if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
                    {
                        response.add_header(h);
                    }
                }
                let _ = request.respond(response);
            } else if url.contains(&format!("/invocation/{request_id}/")) {
                let arrived = epoch_ms();
                let mut request = request;
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let _ = request.respond(tiny_http::Response::empty(202));
                let answer: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                return (answer, deadline_ms as i128 - arrived as i128);
            } else {
                let _ = request.respond(tiny_http::Response::empty(202));
            }
        }
        panic!("no answer from the function for {event}");
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn epoch_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

#[test]
fn a_stalling_home_assistant_never_answers_after_the_deadline() {
    let ha = HaStandIn::start(TOKEN).expect("stand-in");
    let mut runtime = Runtime::start(&ha);

    // A warm session first.
    let (warm, _) = runtime.invoke(&json!({"operation": "ha_get_states"}));
    assert_eq!(warm["success"], true, "{warm}");

    // The warm session stalls.
    ha.set_stalled(true);
    let (stalled, margin) = runtime.invoke(&json!({"operation": "ha_get_config", "timeout": 30}));
    assert_eq!(stalled["error_code"], "WEBSOCKET_TIMEOUT", "{stalled}");
    eprintln!("warm session stalled: answered {margin} ms before the deadline");
    assert!(
        margin > 0,
        "the answer came {}ms after the deadline",
        -margin
    );
    ha.set_stalled(false);

    // Authentication stalls (the dead session is replaced by one that never authenticates).
    ha.restart();
    ha.set_quirks(Quirks {
        stall_auth: true,
        ..Quirks::default()
    });
    let (auth, margin) = runtime.invoke(&json!({"operation": "ha_get_states", "timeout": 30}));
    assert_eq!(auth["error_code"], "WEBSOCKET_TIMEOUT", "{auth}");
    eprintln!("authentication stalled: answered {margin} ms before the deadline");
    assert!(
        margin > 0,
        "the answer came {}ms after the deadline",
        -margin
    );

    // And the same process goes on once Home Assistant does.
    ha.set_quirks(Quirks::default());
    let (after, margin) = runtime.invoke(&json!({"operation": "ha_get_states"}));
    assert_eq!(after["success"], true, "{after}");
    assert!(margin > 0);
}
