//! `HaConfig::from_lookup` and `HaClient` with the token in Parameter Store or Secrets
//! Manager, read through a local stand-in of the Parameters and Secrets Lambda Extension:
//! the typed face of what lambda/tests/runtime_token_sources.rs checks through the event
//! contract.

use std::collections::HashMap;
use std::time::Duration;

use contract::Deadline;
use home_assistant::{HaClient, HaConfig};
use peers::{HaStandIn, SecretsExtension};

const T: Duration = Duration::from_secs(5);
const TOKEN: &str = "typed-token-SECRET-5150";

fn lookup(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<&'static str, String> = pairs.into_iter().collect();
    move |name| map.get(name).cloned()
}

#[test]
fn a_secret_token_authenticates_a_client() {
    let session = "typed-session-token";
    let extension = SecretsExtension::start(session).unwrap();
    extension.set_secret("typed/ha", &format!("{TOKEN}\n"));
    let ha = HaStandIn::start(TOKEN).unwrap();
    let env = lookup(vec![
        ("HA_URL", ha.base_url()),
        ("HA_TOKEN_SECRET", "typed/ha".into()),
        (
            "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT",
            extension.port().to_string(),
        ),
        ("AWS_SESSION_TOKEN", session.into()),
    ]);
    let config = HaConfig::from_lookup(env, &Deadline::after(T)).unwrap();
    assert!(!format!("{config:?}").contains(TOKEN));
    let client = HaClient::new(config, Some("typed-secret")).unwrap();
    client.get_config(T).unwrap();
    assert_eq!(
        extension.requests(),
        ["/secretsmanager/get?secretId=typed%2Fha"]
    );
}

#[test]
fn an_extension_that_is_not_there_is_config_invalid_within_the_deadline() {
    // A port nothing listens on, and one that accepts and never answers.
    let silent = tests::servers::silent("ws");
    for port in [1.to_string(), silent.addr().port().to_string()] {
        let env = lookup(vec![
            ("HA_URL", "http://127.0.0.1:9".into()),
            ("HA_TOKEN_PARAMETER", "/nope".into()),
            ("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", port.clone()),
        ]);
        let started = std::time::Instant::now();
        let err =
            HaConfig::from_lookup(env, &Deadline::after(Duration::from_millis(500))).unwrap_err();
        assert_eq!(err.code(), gateway::codes::CONFIG_INVALID, "{err}");
        assert!(err.to_string().contains("HA_TOKEN_PARAMETER"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3), "port {port}");
    }
}
