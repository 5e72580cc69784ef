//! The `apigw-local` command as its users run it: a child process on an ephemeral port,
//! its ready line read, stopped with SIGTERM (then SIGKILL) when dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
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
    /// `apigw-local --port 0 ARGS` with `env` added.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_apigw-local"))
            .args(["--port", "0"])
            .args(args)
            .env_remove("APIGW_JWT_SECRET")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start apigw-local");
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
