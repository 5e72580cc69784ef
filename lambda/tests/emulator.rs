//! The function under the real Lambda runtime emulator: `cargo lambda watch` runs the
//! binary's runtime loop, `cargo lambda invoke` sends events through the Runtime API.
//!
//! Needs cargo-lambda (`pip install cargo-lambda`). Without it the test fails under CI
//! (`CI` set) and is skipped with a message elsewhere.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use peers::hostile::{breaching, Breach};
use serde_json::{json, Value};

const TOKEN: &str = "emulator-token-SECRET";
/// Bound on the first invocation, which may have to compile the function.
const FIRST_INVOKE_BUDGET: Duration = Duration::from_secs(900);

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cargo_lambda_available() -> bool {
    Command::new("cargo")
        .args(["lambda", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `cargo lambda watch` in its own process group, killed with the group on drop.
struct Watch {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Watch {
    fn start(ha_url: &str) -> Watch {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::env::temp_dir().join(format!("cargo-lambda-watch-{port}.log"));
        let file = std::fs::File::create(&log).unwrap();
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
        .env("HA_URL", ha_url)
        .env("HA_TOKEN", TOKEN)
        .env("DEBUG_MODE", "true")
        .env("LAMBDA_DEBUG_MODE", "true")
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        Watch {
            child: cmd.spawn().expect("start cargo lambda watch"),
            port,
            log,
        }
    }

    fn invoke(&self, event: &Value, timeout: Duration) -> Result<Value, String> {
        let output = Command::new("timeout")
            .args([
                &format!("{}", timeout.as_secs().max(1)),
                "cargo",
                "lambda",
                "invoke",
                "lambda",
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

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Watch {
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

#[test]
fn round_trip_under_cargo_lambda_watch() {
    if !cargo_lambda_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "cargo-lambda is required in CI"
        );
        eprintln!("skipped: cargo-lambda is not installed (pip install cargo-lambda)");
        return;
    }
    let echo = peers::echo().unwrap();
    let ha = peers::HaStandIn::start(TOKEN).unwrap();
    let watch = Watch::start(&ha.base_url());

    // The first invocation waits for the function to build and start.
    let request = json!({"operation": "request", "url": echo.url(), "message": {"via": "emulator"}, "timeout": 5, "correlation_id": "emu-1"});
    let start = Instant::now();
    let envelope = loop {
        match watch.invoke(
            &request,
            FIRST_INVOKE_BUDGET.saturating_sub(start.elapsed()),
        ) {
            Ok(v) => break v,
            Err(e) if start.elapsed() < FIRST_INVOKE_BUDGET => {
                eprintln!("waiting for the emulator: {e}");
                std::thread::sleep(Duration::from_secs(2));
            }
            Err(e) => panic!("no answer from the emulator: {e}\n{}", watch.log_text()),
        }
    };
    assert_eq!(
        envelope["success"],
        true,
        "{envelope}\n{}",
        watch.log_text()
    );
    assert_eq!(envelope["data"]["response"], json!({"via": "emulator"}));
    assert_eq!(envelope["data"]["correlation_id"], "emu-1");

    let states = watch
        .invoke(
            &json!({"operation": "ha_get_states"}),
            Duration::from_secs(60),
        )
        .unwrap();
    assert_eq!(states["success"], true, "{states}");
    assert_eq!(states["data"]["result"].as_array().map(Vec::len), Some(3));
    // Without a correlation id in the event, the Lambda request id is used.
    let cid = states["data"]["correlation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(cid.len(), 36, "{cid}");

    // A warm second invocation reuses the session.
    let config = watch
        .invoke(
            &json!({"operation": "ha_get_config"}),
            Duration::from_secs(60),
        )
        .unwrap();
    assert_eq!(config["data"]["session"]["reused"], true, "{config}");
    assert_eq!(ha.auths(), 1);

    let unknown = watch
        .invoke(&json!({"operation": "nope"}), Duration::from_secs(60))
        .unwrap();
    assert_eq!(unknown["error_code"], "UNKNOWN_OPERATION");

    // Hostile peers under the real runtime loop (a debug build, where tungstenite's debug
    // assertions are live): each answer is a clean envelope and the next invocation of
    // the same warm process succeeds.
    for (breach, code) in [
        (
            Breach::Announce {
                length: 100 << 20,
                body: 4 << 20,
            },
            "MESSAGE_TOO_LARGE",
        ),
        (Breach::InvalidCloseCode, "WEBSOCKET_RECEIVE_FAILED"),
        (Breach::MaskedFrame, "WEBSOCKET_RECEIVE_FAILED"),
    ] {
        let server = breaching(breach).expect("start hostile server");
        let hostile = watch
            .invoke(
                &json!({"operation": "request", "url": server.url(), "message": {}, "timeout": 3}),
                Duration::from_secs(60),
            )
            .unwrap();
        assert_eq!(hostile["error_code"], code, "{breach:?}: {hostile}");
        let after = watch
            .invoke(
                &json!({"operation": "ha_get_config"}),
                Duration::from_secs(60),
            )
            .unwrap();
        assert_eq!(after["success"], true, "after {breach:?}: {after}");
        assert_eq!(after["data"]["session"]["reused"], true, "{after}");
    }

    let log = watch.log_text();
    assert!(
        log.contains(&format!(
            "[{cid}] [LAMBDA-DEBUG] Invocation (operation=ha_get_states"
        )),
        "{log}"
    );
    assert!(
        !log.contains(TOKEN),
        "the token leaked into the function's log"
    );
}
