//! The system's roots, found the fast way and the slow way: a CA placed in a hashed
//! directory (`SSL_CERT_DIR`) is trusted without `add_root_certificate`, and so is one in a
//! bundle file (`SSL_CERT_FILE`) when no hashed directory is given. One test function: it
//! sets the process environment.

use std::time::Duration;

use gateway::ManagerConfig;
use serde_json::json;
use tests::pki::TestPki;
use tests::{own_gateway, servers};

const T: Duration = Duration::from_secs(5);

#[test]
fn system_roots_from_a_hashed_directory_or_a_bundle() {
    let pki = TestPki::generate();
    let server = servers::tls_echo(&pki);
    let ca = openssl::x509::X509::from_pem(pki.ca_pem.as_bytes()).unwrap();
    let root = std::env::temp_dir().join(format!("suga-roots-{}", std::process::id()));
    let hashed = root.join("hashed");
    let plain = root.join("plain");
    std::fs::create_dir_all(&hashed).unwrap();
    std::fs::create_dir_all(&plain).unwrap();
    let name = format!("{:08x}.0", ca.subject_name_hash());
    std::fs::write(hashed.join(name), &pki.ca_pem).unwrap();
    let bundle = plain.join("bundle.pem");
    std::fs::write(&bundle, &pki.ca_pem).unwrap();

    // A hashed directory: the CA is found by its subject hash.
    std::env::set_var("SSL_CERT_DIR", &hashed);
    std::env::remove_var("SSL_CERT_FILE");
    assert_eq!(
        websocket::SystemRoots::locate(),
        websocket::SystemRoots::HashedDir(hashed.clone())
    );
    let reply = own_gateway(ManagerConfig::default())
        .request(
            &server.url(),
            &json!({"roots": "hashed"}),
            &gateway::Call::new().timeout(T),
        )
        .unwrap();
    assert_eq!(reply.response().unwrap(), json!({"roots": "hashed"}));

    // No hashed directory given, a bundle is: read whole.
    std::env::set_var("SSL_CERT_DIR", &plain);
    std::env::set_var("SSL_CERT_FILE", &bundle);
    assert_eq!(
        websocket::SystemRoots::locate(),
        websocket::SystemRoots::Bundle(bundle.clone())
    );
    let reply = own_gateway(ManagerConfig::default())
        .request(
            &server.url(),
            &json!({"roots": "bundle"}),
            &gateway::Call::new().timeout(T),
        )
        .unwrap();
    assert_eq!(reply.response().unwrap(), json!({"roots": "bundle"}));

    // A directory that does not hold the CA: refused.
    let other = TestPki::generate();
    let other_server = servers::tls_echo(&other);
    std::env::set_var("SSL_CERT_DIR", &hashed);
    std::env::remove_var("SSL_CERT_FILE");
    let err = own_gateway(ManagerConfig::default())
        .request(
            &other_server.url(),
            &json!({}),
            &gateway::Call::new().timeout(T),
        )
        .unwrap_err();
    assert_eq!(
        gateway::error_code(&err),
        gateway::codes::WEBSOCKET_TLS_FAILED
    );
    std::env::remove_var("SSL_CERT_DIR");
    let _ = std::fs::remove_dir_all(&root);
}
