//! The `apigw-local` command as its users run it: a child process on an ephemeral port,
//! its ready line read, stopped with SIGTERM (then SIGKILL) when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// Longest the command may take to print its ready line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `apigw-local`.
pub struct Running {
    child: Child,
    /// Its ready line: `websocket`, `management`, `dynamodb`, `routes`, ...
    pub ready: Value,
}

impl Running {
    /// `apigw-local --port 0 ARGS` with `env` added, in a working directory of its own
    /// (where its default state file goes).
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Running {
        Running::start_in(&workdir(), args, env)
    }

    /// [`Running::start`], its standard error kept in the returned buffer.
    pub fn start_logged(
        args: &[&str],
        env: &[(&str, &str)],
    ) -> (Running, std::sync::Arc<parking_lot::Mutex<String>>) {
        let log = std::sync::Arc::new(parking_lot::Mutex::new(String::new()));
        let running = Running::spawn(&workdir(), args, env, Some(std::sync::Arc::clone(&log)));
        (running, log)
    }

    /// [`Running::start`] in `dir` (a second run there finds the first one's state).
    pub fn start_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Running {
        Running::spawn(dir, args, env, None)
    }

    fn spawn(
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        log: Option<std::sync::Arc<parking_lot::Mutex<String>>>,
    ) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_apigw-local"))
            .current_dir(dir)
            .args(["--port", "0"])
            .args(args)
            .env_remove("APIGW_JWT_SECRET")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if log.is_some() {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .expect("start apigw-local");
        if let (Some(log), Some(stderr)) = (log, child.stderr.take()) {
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut log = log.lock();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(READY_TIMEOUT).unwrap_or_default();
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("no ready line from apigw-local ({e}): {line:?}"));
        Running { child, ready }
    }

    /// `ws://127.0.0.1:PORT/STAGE`.
    pub fn url(&self) -> String {
        self.ready["websocket"].as_str().unwrap().to_owned()
    }

    /// `http://127.0.0.1:PORT/STAGE`.
    pub fn management(&self) -> String {
        self.ready["management"].as_str().unwrap().to_owned()
    }

    /// `http://127.0.0.1:PORT/`, the chat page.
    pub fn chat(&self) -> String {
        self.ready["chat"].as_str().unwrap().to_owned()
    }

    /// Kills it (SIGKILL): no close frame, no `$disconnect`, as a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops it with SIGTERM and waits (at most 10 s); whether it exited by itself.
    pub fn stop(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-s", "TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// A fresh, empty working directory under the system's temporary one.
pub fn workdir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("apigw-local-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a working directory");
    dir
}

/// Sends `frame` as a text message.
pub fn send(client: &mut crate::support::Client, frame: &Value) {
    client
        .send(tungstenite::Message::text(frame.to_string()))
        .unwrap();
}

/// The built-in app's next frame of `kind`, passing over `presence` frames (others joining
/// and leaving arrive whenever they happen); any other frame is a failure.
pub fn next_kind(client: &mut crate::support::Client, kind: &str) -> Value {
    for _ in 0..20 {
        let frame = crate::support::next_json(client);
        if frame["type"] == kind {
            return frame;
        }
        assert_eq!(frame["type"], "presence", "expected {kind}: {frame}");
    }
    panic!("no {kind} frame in 20");
}

/// The users of a `room_members` frame, sorted.
pub fn users_in(frame: &Value) -> Vec<String> {
    let mut users: Vec<String> = frame["data"]["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["user_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    users.sort();
    users
}

/// Bound on the first invocation, which may have to compile the function.
pub const FIRST_INVOKE_BUDGET: Duration = Duration::from_secs(900);

/// `lambda-apigw` under `cargo lambda watch`, its DynamoDB the emulator's embedded one
/// (on a port chosen here, given to both), restartable where it served.
pub struct WatchedFunction {
    /// The runtime emulator.
    pub watch: Option<peers::LambdaWatch>,
    env: Vec<(String, String)>,
    /// The emulator's `--dynamodb-port`.
    pub dynamodb_port: u16,
    port: u16,
}

impl WatchedFunction {
    /// Starts it with the local AWS settings and `extra` in its environment; `None` when
    /// cargo-lambda is not installed outside CI (the test is skipped).
    pub fn start(extra: &[(&str, &str)]) -> Option<WatchedFunction> {
        if !peers::LambdaWatch::required() {
            return None;
        }
        let dynamodb_port = free_port();
        let mut env: Vec<(String, String)> = [
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "local"),
            ("AWS_SECRET_ACCESS_KEY", "local"),
            ("APIGW_CREATE_TABLE", "true"),
            ("DEBUG_MODE", "true"),
            ("APIGW_DEBUG_MODE", "true"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.push((
            "AWS_ENDPOINT_URL_DYNAMODB".into(),
            format!("http://127.0.0.1:{dynamodb_port}"),
        ));
        let mut function = WatchedFunction {
            watch: None,
            env,
            dynamodb_port,
            port: free_port(),
        };
        function.launch();
        Some(function)
    }

    fn launch(&mut self) {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.watch =
            Some(peers::LambdaWatch::start_at(self.port, &env).expect("cargo lambda watch"));
    }

    /// Stops the runtime emulator and its function and starts them again on the same
    /// port; waits until the function answers.
    pub fn restart(&mut self) {
        drop(self.watch.take());
        self.launch();
        self.wait_ready();
    }

    /// Waits for the function's first answer (it may have to build; it needs the
    /// emulator's DynamoDB, so after the emulator started): a `$disconnect` for a
    /// connection that never was (nothing removed, 200).
    pub fn wait_ready(&self) {
        let Some(watch) = &self.watch else {
            panic!("cargo lambda watch is not running");
        };
        let warm = serde_json::json!({"requestContext": {"routeKey": "$disconnect",
            "eventType": "DISCONNECT", "connectionId": "WarmUpWarmUp000=", "connectedAt": 0,
            "requestTimeEpoch": 0, "requestId": "warm", "stage": "local",
            "domainName": "127.0.0.1:1", "apiId": "apigwlocal"}, "isBase64Encoded": false});
        let answer = watch.first_invoke("lambda-apigw", &warm, FIRST_INVOKE_BUDGET);
        assert_eq!(answer["statusCode"], 200, "{answer}\n{}", watch.log_text());
    }

    /// What it and its function printed.
    pub fn log_text(&self) -> String {
        self.watch
            .as_ref()
            .map(peers::LambdaWatch::log_text)
            .unwrap_or_default()
    }

    /// `apigw-local`'s arguments for it: the Invoke API, the built-in app's route
    /// selection and routes, the shared DynamoDB port.
    pub fn emulator_args(&self) -> Vec<String> {
        let mut args = vec![
            "--invoke-url".to_owned(),
            format!("http://127.0.0.1:{}", self.port),
            "--function-name".into(),
            "lambda-apigw".into(),
            "--route-selection-expression".into(),
            "$request.body.type".into(),
            "--dynamodb-port".into(),
            self.dynamodb_port.to_string(),
            "--route".into(),
            "$default".into(),
        ];
        for kind in server_gateway::app::MESSAGE_TYPES {
            args.extend(["--route".to_owned(), kind.to_owned()]);
        }
        args
    }
}

/// A port of 127.0.0.1 free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
