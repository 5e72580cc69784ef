//! The real runtime loop behind an HTTP CONNECT proxy (Debian's tinyproxy on loopback):
//! Home Assistant's connections and the generic client's both go through `HTTP_PROXY`,
//! with basic auth from the proxy URL that no output shows.

mod support;

use std::time::Duration;

use peers::{HaStandIn, ProxySetup, TinyProxy};
use serde_json::json;
use support::Runtime;

const TOKEN: &str = "ha-token-behind-proxy-77";
const PASSWORD: &str = "proxy-pass-SECRET-55";

#[test]
fn home_assistant_and_generic_connections_go_through_the_proxy() {
    let proxy = TinyProxy::start(&ProxySetup {
        basic_auth: Some(("lambda".into(), PASSWORD.into())),
        ..ProxySetup::default()
    })
    .expect("tinyproxy (apt install tinyproxy)");
    let ha = HaStandIn::start(TOKEN).unwrap();
    let echo = peers::echo().unwrap();
    let output = std::env::temp_dir().join(format!("suga-proxy-{}.log", std::process::id()));
    let proxy_url = proxy.url_with("lambda", PASSWORD);
    let env = [
        ("HA_URL", ha.base_url()),
        ("HA_TOKEN", TOKEN.to_owned()),
        ("HTTP_PROXY", proxy_url),
        ("DEBUG_MODE", "true".into()),
        ("WEBSOCKET_DEBUG_MODE", "true".into()),
        ("HA_DEBUG_MODE", "true".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut runtime = Runtime::start(&env, Duration::from_secs(10), Some(&output));

    let (config, _) = runtime.invoke(&json!({"operation": "ha_get_config"}));
    assert_eq!(config["success"], true, "{config}");
    let ha_port = url::Url::parse(&ha.base_url()).unwrap().port().unwrap();
    assert!(proxy.tunneled_to(ha_port), "{}", proxy.log());

    let (reply, _) = runtime.invoke(
        &json!({"operation": "request", "url": echo.url(), "message": {"through": "proxy"}}),
    );
    assert_eq!(reply["data"]["response"]["through"], "proxy", "{reply}");
    assert!(proxy.tunneled_to(echo.addr().port()), "{}", proxy.log());
    drop(runtime);

    let log = std::fs::read_to_string(&output).unwrap_or_default();
    assert!(log.contains("proxy=127.0.0.1:"), "{log}");
    assert!(!log.contains(PASSWORD), "{log}");
    assert!(!config.to_string().contains(PASSWORD));
    let _ = std::fs::remove_file(output);
}

/// Accepts TCP and never answers (a proxy or an extension that stalls).
fn stalling() -> peers::Server {
    peers::Server::start(
        "ws",
        std::sync::Arc::new(|mut stream: std::net::TcpStream| {
            let mut buf = [0u8; 1024];
            while matches!(std::io::Read::read(&mut stream, &mut buf), Ok(n) if n > 0) {}
        }),
    )
    .unwrap()
}

#[test]
fn a_stalling_proxy_or_extension_answers_before_the_deadline() {
    let proxy = stalling();
    let extension = stalling();
    let echo = peers::echo().unwrap();
    let ha = HaStandIn::start(TOKEN).unwrap();
    let env = [
        ("HA_URL", ha.base_url()),
        ("HA_TOKEN_PARAMETER", "/stalled".to_owned()),
        (
            "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT",
            extension.addr().port().to_string(),
        ),
        ("HTTP_PROXY", format!("http://{}", proxy.addr())),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut runtime = Runtime::start(&env, Duration::from_secs(3), None);

    let (stalled, margin) = runtime
        .invoke(&json!({"operation": "request", "url": echo.url(), "message": {}, "timeout": 30}));
    assert_eq!(stalled["error_code"], "WEBSOCKET_TIMEOUT", "{stalled}");
    assert_eq!(stalled["details"]["phase"], "proxy", "{stalled}");
    assert!(margin > 0, "answered {} ms after the deadline", -margin);

    let (token, margin) = runtime.invoke(&json!({"operation": "ha_get_config", "timeout": 30}));
    assert_eq!(token["error_code"], "CONFIG_INVALID", "{token}");
    assert_eq!(
        token["details"]["variable"], "HA_TOKEN_PARAMETER",
        "{token}"
    );
    assert!(margin > 0, "answered {} ms after the deadline", -margin);
}
