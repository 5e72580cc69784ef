//! Trust settings of the environment: `WS_CA_CERT` (a PEM file added to the system roots)
//! and `WS_TLS_INSECURE` (verification off only when set to true, a warning line on every
//! connect and `tls_insecure: true` in the answer), against TLS servers with certificates
//! made at test time — through the gateway API and the JSON event contract.

use std::time::Duration;

use gateway::{Call, Gateway};
use serde_json::{json, Value};
use tests::pki::TestPki;
use tests::servers;

const T: Duration = Duration::from_secs(5);

fn gateway_with(pairs: &[(&str, String)]) -> Gateway {
    tests::gateway_from_env(pairs)
}

fn run(gateway: &Gateway, event: Value) -> Value {
    tests::answer(gateway, event)
}

fn file_with(name: &str, contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{name}-{}.pem", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn ws_ca_cert_adds_a_root_to_the_system_ones() {
    let pki = TestPki::generate();
    let server = servers::tls_echo(&pki);
    let event = json!({"operation": "request", "url": server.url(), "message": {"ca": 1}});

    // Without it the CA is unknown.
    let envelope = run(&gateway_with(&[]), event.clone());
    assert_eq!(envelope["error_code"], "WEBSOCKET_TLS_FAILED", "{envelope}");

    let ca = file_with("ws-ca", &pki.ca_pem);
    let gateway = gateway_with(&[("WS_CA_CERT", ca.display().to_string())]);
    let envelope = run(&gateway, event);
    assert_eq!(envelope["success"], true, "{envelope}");
    // The system roots stay trusted beside it: a certificate of another unknown CA fails,
    // and only verification against the added one passes.
    let other = TestPki::generate();
    let stranger = servers::tls_echo(&other);
    let err = gateway
        .request(&stranger.url(), &json!({}), &Call::new().timeout(T))
        .unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_TLS_FAILED
    );

    // A file that is not PEM fails every operation naming the variable.
    let junk = file_with("ws-ca-junk", "not a certificate");
    let gateway = gateway_with(&[("WS_CA_CERT", junk.display().to_string())]);
    let envelope = run(&gateway, json!({"operation": "get_stats"}));
    assert_eq!(envelope["error_code"], "CONFIG_INVALID", "{envelope}");
    assert_eq!(envelope["details"]["variable"], "WS_CA_CERT");
    let _ = std::fs::remove_file(ca);
    let _ = std::fs::remove_file(junk);
}

#[test]
fn ws_tls_insecure_turns_verification_off_with_a_warning_and_a_flag() {
    tests::capture::install();
    let pki = TestPki::generate();
    let server = servers::tls_echo(&pki);
    let gateway = gateway_with(&[("WS_TLS_INSECURE", "true".into())]);

    let envelope = run(
        &gateway,
        json!({"operation": "connect", "url": server.url(), "correlation_id": "insecure-1"}),
    );
    assert_eq!(envelope["success"], true, "{envelope}");
    assert_eq!(envelope["data"]["tls_insecure"], true, "{envelope}");
    let envelope = run(
        &gateway,
        json!({"operation": "request", "url": server.url(), "message": {"x": 1},
               "correlation_id": "insecure-2"}),
    );
    assert_eq!(envelope["success"], true, "{envelope}");
    assert_eq!(envelope["data"]["tls_insecure"], true, "{envelope}");

    // One warning line on every connect, whatever the debug switches say.
    for cid in ["insecure-1", "insecure-2"] {
        let warnings: Vec<String> = tests::capture::lines_with(cid)
            .into_iter()
            .filter(|l| l.contains("[WEBSOCKET-WARNING]"))
            .collect();
        assert_eq!(warnings.len(), 1, "{cid}: {warnings:?}");
        assert!(warnings[0].contains("verification is OFF"), "{warnings:?}");
    }

    // ws:// has nothing to verify: no flag, no warning.
    let echo = servers::echo();
    let envelope = run(
        &gateway,
        json!({"operation": "connect", "url": echo.url(), "correlation_id": "insecure-3"}),
    );
    assert!(envelope["data"].get("tls_insecure").is_none(), "{envelope}");
    assert!(tests::capture::lines_with("insecure-3")
        .iter()
        .all(|l| !l.contains("WARNING")));
}

#[test]
fn verification_stays_on_unless_set_to_true() {
    let pki = TestPki::generate();
    let server = servers::tls_echo(&pki);
    for value in ["false", "0", "no", ""] {
        let gateway = gateway_with(&[("WS_TLS_INSECURE", value.into())]);
        let envelope = run(
            &gateway,
            json!({"operation": "request", "url": server.url(), "message": {}}),
        );
        assert_eq!(
            envelope["error_code"], "WEBSOCKET_TLS_FAILED",
            "WS_TLS_INSECURE={value}: {envelope}"
        );
    }
}
