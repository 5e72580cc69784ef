//! `wss://` against a server whose certificate was made at test time and trusted through a
//! custom root.

use std::time::Duration;

use serde_json::json;
use tests::pki::TestPki;
use tests::servers;

const T: Duration = Duration::from_secs(5);

fn trusted_pki() -> TestPki {
    let pki = TestPki::generate();
    gateway::websocket_add_root_certificate(pki.ca_pem.as_bytes()).unwrap();
    pki
}

#[test]
fn wss_request_with_a_custom_root() {
    let pki = trusted_pki();
    let server = servers::tls_echo(&pki);
    for host in ["127.0.0.1", "localhost"] {
        let url = server.url_with_host(host);
        let reply = gateway::websocket_request(
            &url,
            &json!({"secure": host}),
            &gateway::Call::new().timeout(T),
        )
        .unwrap();
        assert_eq!(reply.response().unwrap(), json!({"secure": host}));
    }
}

#[test]
fn wss_connection_lives_across_calls() {
    let pki = trusted_pki();
    let server = servers::tls_echo(&pki);
    let conn = gateway::websocket_connect(&server.url(), &gateway::Call::new().timeout(T)).unwrap();
    let h = conn.connection.as_str();
    for i in 0..5 {
        gateway::websocket_send(h, &json!({"i": i}), &gateway::Call::new()).unwrap();
        assert_eq!(
            gateway::websocket_receive(h, &gateway::Call::new().timeout(T))
                .unwrap()
                .message()
                .unwrap()["i"],
            i
        );
    }
    gateway::websocket_close(h, &gateway::Call::new()).unwrap();
}

#[test]
fn name_mismatch_is_tls_failed() {
    let pki = trusted_pki();
    // The certificate names localhost and 127.0.0.1, not 127.0.0.2.
    let server = servers::tls_echo_on("127.0.0.2", &pki);
    let err =
        gateway::websocket_request(&server.url(), &json!({}), &gateway::Call::new().timeout(T))
            .unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_TLS_FAILED,
        "{err:?}"
    );
}

#[test]
fn bad_pem_is_invalid_parameter() {
    let err = gateway::websocket_add_root_certificate(b"-----BEGIN CERTIFICATE-----\nnope\n")
        .unwrap_err();
    assert_eq!(tests::failure(&err).code, gateway::codes::INVALID_PARAMETER);
}

#[test]
fn an_untrusted_ca_is_tls_failed() {
    // A CA nobody added: the system roots do not know it.
    let pki = TestPki::generate();
    let server = servers::tls_echo(&pki);
    let gateway = tests::own_gateway(gateway::ManagerConfig::default());
    let err = gateway
        .request(&server.url(), &json!({}), &gateway::Call::new().timeout(T))
        .unwrap_err();
    let failure = tests::failure(&err);
    assert_eq!(
        failure.code,
        gateway::codes::WEBSOCKET_TLS_FAILED,
        "{err:?}"
    );
    assert_eq!(failure.details["phase"], "tls_handshake");
    assert!(
        failure.message.contains("certificate"),
        "{}",
        failure.message
    );
}

/// A gateway over a core of its own that trusts `pki`'s CA.
fn gateway_trusting(pki: &TestPki) -> gateway::Gateway {
    let gateway = tests::own_gateway(gateway::ManagerConfig::default());
    gateway
        .core()
        .add_root_certificate(pki.ca_pem.as_bytes())
        .unwrap();
    gateway
}

#[test]
fn an_expired_certificate_is_tls_failed() {
    let pki = TestPki::generate_expired();
    let server = servers::tls_echo(&pki);
    let gateway = gateway_trusting(&pki);
    let err = gateway
        .request(&server.url(), &json!({}), &gateway::Call::new().timeout(T))
        .unwrap_err();
    let failure = tests::failure(&err);
    assert_eq!(
        failure.code,
        gateway::codes::WEBSOCKET_TLS_FAILED,
        "{err:?}"
    );
    assert!(failure.message.contains("expired"), "{}", failure.message);
}

#[test]
fn a_wrong_host_name_is_tls_failed_on_a_core_of_its_own() {
    let pki = TestPki::generate();
    let server = servers::tls_echo_on("127.0.0.2", &pki);
    let gateway = gateway_trusting(&pki);
    let err = gateway
        .request(&server.url(), &json!({}), &gateway::Call::new().timeout(T))
        .unwrap_err();
    let failure = tests::failure(&err);
    assert_eq!(
        failure.code,
        gateway::codes::WEBSOCKET_TLS_FAILED,
        "{err:?}"
    );
    // The same CA and host name work.
    let ok = tests::servers::tls_echo(&pki);
    gateway
        .request(
            &ok.url(),
            &json!({"ok": 1}),
            &gateway::Call::new().timeout(T),
        )
        .unwrap();
}

#[test]
fn system_roots_are_a_hashed_directory_here() {
    // Debian's /etc/ssl/certs is hashed; Lambda's provided.al2023 has
    // /etc/pki/ca-trust/extracted/pem/directory-hash.
    assert!(
        matches!(
            websocket::SystemRoots::locate(),
            websocket::SystemRoots::HashedDir(_)
        ),
        "{:?}",
        websocket::SystemRoots::locate()
    );
}
