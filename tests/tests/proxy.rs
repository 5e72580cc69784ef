//! HTTP CONNECT proxies, against a real proxy on loopback (Debian's tinyproxy): `ws://`
//! through `HTTP_PROXY`, `wss://` through `HTTPS_PROXY`, basic auth from the proxy URL
//! (never shown), a proxy that refuses (407, 403), one that stalls (timeout in phase
//! `proxy`), and `NO_PROXY` — through the gateway API and the JSON event contract. The
//! settings come through a lookup function, as the per-process core reads them from the
//! environment.

use std::time::Duration;

use gateway::{Call, Gateway};
use peers::{ProxySetup, TinyProxy};
use serde_json::{json, Value};
use tests::pki::TestPki;
use tests::servers;

const T: Duration = Duration::from_secs(5);
const PASSWORD: &str = "proxy-PW-SECRET-31";

fn gateway_with(pairs: &[(&str, String)]) -> Gateway {
    tests::gateway_from_env(pairs)
}

fn run(gateway: &Gateway, event: Value) -> Value {
    tests::answer(gateway, event)
}

fn port_of(url: &str) -> u16 {
    url::Url::parse(url).unwrap().port().unwrap()
}

#[test]
fn ws_goes_through_http_proxy() {
    let proxy =
        TinyProxy::start(&ProxySetup::default()).expect("tinyproxy (apt install tinyproxy)");
    let echo = servers::echo();
    let gateway = gateway_with(&[("HTTP_PROXY", proxy.url())]);

    // JSON event contract: request and a held connection.
    let envelope = run(
        &gateway,
        json!({"operation": "request", "url": echo.url(), "message": {"via": "proxy"}}),
    );
    assert_eq!(envelope["success"], true, "{envelope}");
    assert_eq!(envelope["data"]["response"]["via"], "proxy");
    let opened = run(&gateway, json!({"operation": "connect", "url": echo.url()}));
    let handle = opened["data"]["connection"].as_str().unwrap().to_owned();
    run(
        &gateway,
        json!({"operation": "send", "connection": handle, "message": {"n": 2}}),
    );
    let received = run(
        &gateway,
        json!({"operation": "receive", "connection": handle}),
    );
    assert_eq!(received["data"]["message"]["n"], 2, "{received}");
    assert!(proxy.tunneled_to(port_of(&echo.url())), "{}", proxy.log());

    // The typed face.
    let reply = gateway
        .request(
            &echo.url(),
            &json!({"typed": true}),
            &Call::new().timeout(T),
        )
        .unwrap();
    assert_eq!(reply.response().unwrap()["typed"], true);
}

#[test]
fn wss_goes_through_https_proxy_and_verifies_the_server_not_the_proxy() {
    let proxy = TinyProxy::start(&ProxySetup::default()).unwrap();
    let pki = TestPki::generate();
    let server = servers::tls_echo(&pki);
    let ca = std::env::temp_dir().join(format!("proxy-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let gateway = gateway_with(&[
        ("HTTPS_PROXY", proxy.url()),
        ("WS_CA_CERT", ca.display().to_string()),
    ]);
    let envelope = run(
        &gateway,
        json!({"operation": "request", "url": server.url(), "message": {"tls": 1}}),
    );
    assert_eq!(envelope["success"], true, "{envelope}");
    assert!(envelope["data"].get("tls_insecure").is_none());
    assert!(proxy.tunneled_to(port_of(&server.url())), "{}", proxy.log());

    // HTTP_PROXY alone does not carry wss://: without HTTPS_PROXY it goes direct.
    let direct = TinyProxy::start(&ProxySetup::default()).unwrap();
    let gateway = gateway_with(&[
        ("HTTP_PROXY", direct.url()),
        ("WS_CA_CERT", ca.display().to_string()),
    ]);
    let envelope = run(
        &gateway,
        json!({"operation": "request", "url": server.url(), "message": {}}),
    );
    assert_eq!(envelope["success"], true, "{envelope}");
    assert!(!direct.tunneled_to(port_of(&server.url())));
    let _ = std::fs::remove_file(ca);
}

#[test]
fn basic_auth_comes_from_the_proxy_url_and_is_never_shown() {
    tests::capture::install();
    let proxy = TinyProxy::start(&ProxySetup {
        basic_auth: Some(("alice".into(), PASSWORD.into())),
        ..ProxySetup::default()
    })
    .unwrap();
    let echo = servers::echo();

    let gateway = gateway_with(&[("HTTP_PROXY", proxy.url_with("alice", PASSWORD))]);
    let envelope = run(
        &gateway,
        json!({"operation": "request", "url": echo.url(), "message": {"a": 1},
               "correlation_id": "proxy-auth-ok"}),
    );
    assert_eq!(envelope["success"], true, "{envelope}");

    // Wrong credentials (tinyproxy answers 401), and none (407).
    for (url, status) in [
        (proxy.url_with("alice", "wrong-password-1"), 401),
        (proxy.url(), 407),
    ] {
        let gateway = gateway_with(&[("HTTP_PROXY", url)]);
        let envelope = run(
            &gateway,
            json!({"operation": "request", "url": echo.url(), "message": {},
                   "correlation_id": "proxy-auth-bad"}),
        );
        assert_eq!(
            envelope["error_code"], "WEBSOCKET_CONNECT_FAILED",
            "{envelope}"
        );
        assert_eq!(envelope["details"]["phase"], "proxy", "{envelope}");
        assert_eq!(envelope["details"]["http_status"], status, "{envelope}");
        let error = envelope["error"].as_str().unwrap();
        assert!(error.contains(&status.to_string()), "{error}");
        assert!(
            !envelope.to_string().contains("wrong-password"),
            "{envelope}"
        );
    }
    let lines = tests::capture::all_lines().join("\n");
    assert!(!lines.contains(PASSWORD), "{lines}");
    assert!(!lines.contains("wrong-password"), "{lines}");
}

#[test]
fn a_proxy_that_forbids_the_destination_is_403() {
    let proxy = TinyProxy::start(&ProxySetup {
        connect_ports: vec![9],
        ..ProxySetup::default()
    })
    .unwrap();
    let echo = servers::echo();
    let gateway = gateway_with(&[("HTTP_PROXY", proxy.url())]);
    let err = gateway
        .connect(&echo.url(), &Call::new().timeout(T))
        .unwrap_err();
    let failure = tests::failure(&err);
    assert_eq!(failure.code, gateway::codes::WEBSOCKET_CONNECT_FAILED);
    assert_eq!(failure.details["http_status"], 403, "{failure:?}");
    assert_eq!(failure.details["phase"], "proxy");
    assert_eq!(gateway.get_stats().unwrap().errors_count, 1);
}

#[test]
fn a_stalling_proxy_times_out_in_phase_proxy() {
    // Accepts TCP and never answers CONNECT.
    let stalling = servers::silent("ws");
    let proxy = format!("http://{}", stalling.addr());
    let echo = servers::echo();
    let gateway = gateway_with(&[("HTTP_PROXY", proxy)]);
    let started = std::time::Instant::now();
    let envelope = run(
        &gateway,
        json!({"operation": "connect", "url": echo.url(), "timeout": 0.5}),
    );
    let took = started.elapsed();
    assert_eq!(envelope["error_code"], "WEBSOCKET_TIMEOUT", "{envelope}");
    assert_eq!(envelope["details"]["phase"], "proxy", "{envelope}");
    // Bounded by the operation's timeout (a generous upper bound: this is not a timing test).
    assert!(took < Duration::from_secs(3), "{took:?}");

    // The open timeout bounds it too.
    let gateway = gateway_with(&[
        ("HTTP_PROXY", format!("http://{}", stalling.addr())),
        ("WS_OPEN_TIMEOUT", "0.3".into()),
    ]);
    let envelope = run(
        &gateway,
        json!({"operation": "connect", "url": echo.url(), "timeout": 5}),
    );
    assert_eq!(envelope["details"]["phase"], "proxy", "{envelope}");
    let budget = envelope["details"]["timeout_seconds"].as_f64().unwrap();
    assert!((budget - 0.3).abs() < 0.05, "{envelope}");
}

#[test]
fn no_proxy_hosts_go_direct() {
    // The proxy would stall: only a direct connection can succeed.
    let stalling = servers::silent("ws");
    let echo = servers::echo();
    for no_proxy in [
        "127.0.0.1",
        "localhost,127.0.0.0/8",
        "*",
        "example.com, 127.0.0.1:1",
    ] {
        let gateway = gateway_with(&[
            ("HTTP_PROXY", format!("http://{}", stalling.addr())),
            ("NO_PROXY", no_proxy.into()),
        ]);
        let envelope = run(
            &gateway,
            json!({"operation": "request", "url": echo.url(), "message": {}, "timeout": 2}),
        );
        assert_eq!(envelope["success"], true, "NO_PROXY={no_proxy}: {envelope}");
    }
    // An entry that does not match leaves the proxy in use.
    let gateway = gateway_with(&[
        ("HTTP_PROXY", format!("http://{}", stalling.addr())),
        ("no_proxy", "example.com,10.0.0.0/8".into()),
    ]);
    let envelope = run(
        &gateway,
        json!({"operation": "request", "url": echo.url(), "message": {}, "timeout": 0.5}),
    );
    assert_eq!(envelope["details"]["phase"], "proxy", "{envelope}");
}

#[test]
fn the_proxy_itself_speaks_connect() {
    // The peer under the tests above is a real proxy: a raw CONNECT gets its answer.
    let proxy = TinyProxy::start(&ProxySetup::default()).unwrap();
    let echo = servers::echo();
    let status =
        peers::raw_connect_status(proxy.port(), &format!("127.0.0.1:{}", port_of(&echo.url())))
            .unwrap();
    assert!(status.contains(" 200 "), "{status}");
}
