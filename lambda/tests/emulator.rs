//! The function under the real Lambda runtime emulator: `cargo lambda watch` runs the
//! binary's runtime loop, `cargo lambda invoke` sends events through the Runtime API.
//!
//! Needs cargo-lambda (`pip install cargo-lambda`). Without it the test fails under CI
//! (`CI` set) and is skipped with a message elsewhere.

use std::time::Duration;

use peers::hostile::{breaching, Breach};
use peers::LambdaWatch;
use serde_json::json;

const TOKEN: &str = "emulator-token-SECRET";
/// Bound on the first invocation, which may have to compile the function.
const FIRST_INVOKE_BUDGET: Duration = Duration::from_secs(900);

#[test]
fn round_trip_under_cargo_lambda_watch() {
    if !LambdaWatch::required() {
        return;
    }
    let echo = peers::echo().unwrap();
    let ha = peers::HaStandIn::start(TOKEN).unwrap();
    let ha_url = ha.base_url();
    let watch = LambdaWatch::start(&[
        ("HA_URL", ha_url.as_str()),
        ("HA_TOKEN", TOKEN),
        ("DEBUG_MODE", "true"),
        ("LAMBDA_DEBUG_MODE", "true"),
    ])
    .expect("start cargo lambda watch");

    // The first invocation waits for the function to build and start.
    let request = json!({"operation": "request", "url": echo.url(), "message": {"via": "emulator"}, "timeout": 5, "correlation_id": "emu-1"});
    let envelope = watch.first_invoke("lambda", &request, FIRST_INVOKE_BUDGET);
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
            "lambda",
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
            "lambda",
            &json!({"operation": "ha_get_config"}),
            Duration::from_secs(60),
        )
        .unwrap();
    assert_eq!(config["data"]["session"]["reused"], true, "{config}");
    assert_eq!(ha.auths(), 1);

    let unknown = watch
        .invoke(
            "lambda",
            &json!({"operation": "nope"}),
            Duration::from_secs(60),
        )
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
                "lambda",
                &json!({"operation": "request", "url": server.url(), "message": {}, "timeout": 3}),
                Duration::from_secs(60),
            )
            .unwrap();
        assert_eq!(hostile["error_code"], code, "{breach:?}: {hostile}");
        let after = watch
            .invoke(
                "lambda",
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
