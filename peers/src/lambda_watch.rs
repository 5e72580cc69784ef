//! `cargo lambda watch`, the real Lambda runtime emulator, serving this workspace's
//! functions on 127.0.0.1 for a test; stopped with its function instances when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The workspace root, where `cargo lambda watch` finds every function.
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `cargo lambda watch` in its own process group, killed with the group on drop.
#[derive(Debug)]
pub struct LambdaWatch {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl LambdaWatch {
    /// Whether `cargo lambda` runs here (`pip install cargo-lambda`).
    pub fn available() -> bool {
        Command::new("cargo")
            .args(["lambda", "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Whether a test that needs it should run: `false` (and a message) when cargo-lambda
    /// is missing outside CI; a panic when it is missing under CI (`CI` set).
    pub fn required() -> bool {
        crate::required_in_ci(
            LambdaWatch::available(),
            "cargo-lambda",
            "pip install cargo-lambda",
        )
    }

    /// Starts it on an ephemeral port of 127.0.0.1 with `env` for the functions, its
    /// output in a log file.
    pub fn start(env: &[(&str, &str)]) -> std::io::Result<LambdaWatch> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        LambdaWatch::start_at(port, env)
    }

    /// [`LambdaWatch::start`] on `port` (a restart where the last one served).
    pub fn start_at(port: u16, env: &[(&str, &str)]) -> std::io::Result<LambdaWatch> {
        let log = std::env::temp_dir().join(format!("cargo-lambda-watch-{port}.log"));
        let file = std::fs::File::create(&log)?;
        let mut cmd = Command::new("cargo");
        cmd.args([
            "lambda",
            "watch",
            "--ignore-changes",
            "-A",
            "127.0.0.1",
            "-P",
            &port.to_string(),
        ])
        .current_dir(workspace_root())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        Ok(LambdaWatch {
            child: cmd.spawn()?,
            port,
            log,
        })
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`, the Lambda Invoke API's base.
    pub fn invoke_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `cargo lambda invoke FUNCTION` with `event`, bounded by `timeout`: the answer's JSON.
    pub fn invoke(
        &self,
        function: &str,
        event: &Value,
        timeout: Duration,
    ) -> Result<Value, String> {
        let output = Command::new("timeout")
            .args([
                &format!("{}", timeout.as_secs().max(1)),
                "cargo",
                "lambda",
                "invoke",
                function,
            ])
            .args([
                "-A",
                "127.0.0.1",
                "-P",
                &self.port.to_string(),
                "--data-ascii",
                &event.to_string(),
            ])
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'));
        match line.map(serde_json::from_str::<Value>) {
            Some(Ok(v)) => Ok(v),
            _ => Err(format!(
                "status {:?}; stdout: {stdout}; stderr: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )),
        }
    }

    /// [`invoke`](LambdaWatch::invoke) retried until it answers (the first invocation
    /// waits for the function to build and start), for at most `budget`.
    pub fn first_invoke(&self, function: &str, event: &Value, budget: Duration) -> Value {
        let start = Instant::now();
        // Bounded: the budget.
        loop {
            match self.invoke(function, event, budget.saturating_sub(start.elapsed())) {
                Ok(v) => return v,
                Err(e) if start.elapsed() < budget => {
                    eprintln!("waiting for cargo lambda watch: {e}");
                    std::thread::sleep(Duration::from_secs(2));
                }
                Err(e) => panic!(
                    "no answer from cargo lambda watch: {e}\n{}",
                    self.log_text()
                ),
            }
        }
    }

    /// What it and its functions printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for LambdaWatch {
    fn drop(&mut self) {
        // cargo-lambda stops its function instances on SIGINT (they run in process groups of
        // their own, so killing the watch's group alone would orphan them).
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-s", "INT", "--", &group])
            .status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &group])
            .status();
        let _ = self.child.wait();
    }
}
