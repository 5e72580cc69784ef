//! The real runtime loop against a Runtime API of the tests' own: a loopback HTTP server
//! speaking Lambda's `next` / `response` protocol with a real deadline header, serving the
//! `lambda` binary as Lambda would (cargo-lambda's emulator gives every invocation 600 s, so
//! it cannot show deadline behaviour).

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The runtime API and the function process it serves.
pub struct Runtime {
    server: tiny_http::Server,
    child: Child,
    next_id: u32,
    budget: Duration,
}

impl Runtime {
    /// Starts the function with `env` on top of Lambda's own variables; each invocation gets
    /// `budget` before its deadline. Its output (debug lines go to stdout, as Lambda
    /// captures them) goes to `output` when given.
    pub fn start(env: &[(&str, &str)], budget: Duration, output: Option<&Path>) -> Runtime {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("runtime API");
        let addr = server.server_addr().to_ip().expect("ip address");
        let mut command = Command::new(env!("CARGO_BIN_EXE_lambda"));
        command
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "suga-websocket")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "local")
            .env_remove("HA_CA_CERT")
            .env_remove("DEBUG_MODE")
            .env_remove("AWS_LAMBDA_LOG_FORMAT")
            .stdin(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        match output {
            Some(path) => {
                let file = std::fs::File::create(path).expect("output file");
                command.stdout(file.try_clone().expect("output file"));
                command.stderr(file);
            }
            None => {
                command.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let child = command.spawn().expect("start the function");
        Runtime {
            server,
            child,
            next_id: 0,
            budget,
        }
    }

    /// The function's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The function's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the function's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }

    /// Hands `event` to the function's next poll and returns its answer and how long
    /// before (positive) or after (negative) the deadline it arrived, in milliseconds.
    pub fn invoke(&mut self, event: &Value) -> (Value, i128) {
        self.next_id += 1;
        let request_id = format!("req-{}", self.next_id);
        let until = Instant::now() + self.budget + Duration::from_secs(60);
        let mut deadline_ms = 0u128;
        while Instant::now() < until {
            let Ok(Some(request)) = self.server.recv_timeout(Duration::from_millis(200)) else {
                continue;
            };
            let url = request.url().to_owned();
            if url.ends_with("/runtime/invocation/next") {
                deadline_ms = epoch_ms() + self.budget.as_millis();
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
