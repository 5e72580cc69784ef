//! The Home Assistant token from SSM Parameter Store or Secrets Manager, read through a
//! local stand-in of the Parameters and Secrets Lambda Extension, in the real runtime loop:
//! the session token header and `withDecryption=true` are sent, the token is cached for
//! `HA_TOKEN_CACHE_TTL`, read once more when Home Assistant refuses it (a rotated secret),
//! never through a proxy, never in any output; a missing, refused or ambiguous source is
//! `CONFIG_INVALID` naming its variable.

mod support;

use std::time::Duration;

use peers::{HaStandIn, Quirks, SecretsExtension};
use serde_json::{json, Value};
use support::Runtime;

const SESSION: &str = "session-token-of-the-sandbox";
const TOKEN_1: &str = "parameter-token-SECRET-1111";
const TOKEN_2: &str = "rotated-token-SECRET-2222";
const SCOPES: [&str; 5] = ["LAMBDA", "HA", "GATEWAY", "INTERFACE", "WEBSOCKET"];

fn debug_env() -> Vec<(String, String)> {
    let mut env = vec![("DEBUG_MODE".to_owned(), "true".to_owned())];
    for scope in SCOPES {
        env.push((format!("{scope}_DEBUG_MODE"), "true".into()));
        env.push((format!("{scope}_DEBUG_TIMING"), "true".into()));
    }
    env
}

fn start(pairs: Vec<(String, String)>, output: &std::path::Path) -> Runtime {
    let env: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Runtime::start(&env, Duration::from_secs(10), Some(output))
}

fn output_file(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("suga-token-{}-{name}.log", std::process::id()))
}

fn assert_no_secret(answers: &[Value], output: &std::path::Path) {
    let log = std::fs::read_to_string(output).unwrap_or_default();
    for secret in [TOKEN_1, TOKEN_2, SESSION] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
        for answer in answers {
            assert!(!answer.to_string().contains(secret), "{secret} in {answer}");
        }
    }
}

#[test]
fn a_parameter_is_read_once_cached_and_read_again_when_refused() {
    let extension = SecretsExtension::start(SESSION).unwrap();
    extension.set_parameter("/ha/token", TOKEN_1);
    let ha = HaStandIn::start(TOKEN_1).unwrap();
    ha.set_quirks(Quirks {
        reflect_token_everywhere: true,
        ..Quirks::default()
    });
    // Any proxy would stall: the extension must be reached directly, Home Assistant too
    // (its host is in NO_PROXY).
    let stalling = peers::Server::start(
        "ws",
        std::sync::Arc::new(|mut stream: std::net::TcpStream| {
            let mut buf = [0u8; 1024];
            while matches!(std::io::Read::read(&mut stream, &mut buf), Ok(n) if n > 0) {}
        }),
    )
    .unwrap();
    let proxy = format!("http://{}", stalling.addr());
    let output = output_file("parameter");
    let mut env = debug_env();
    env.extend([
        ("HA_URL".to_owned(), ha.base_url()),
        ("HA_TOKEN_PARAMETER".into(), "/ha/token".into()),
        (
            "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT".into(),
            extension.port().to_string(),
        ),
        ("AWS_SESSION_TOKEN".into(), SESSION.into()),
        ("HTTP_PROXY".into(), proxy.clone()),
        ("HTTPS_PROXY".into(), proxy),
        ("NO_PROXY".into(), "127.0.0.1".into()),
    ]);
    let mut runtime = start(env, &output);
    let mut answers = Vec::new();

    let (first, _) = runtime.invoke(&json!({"operation": "ha_get_config"}));
    assert_eq!(first["success"], true, "{first}");
    let (second, _) = runtime.invoke(&json!({"operation": "ha_get_states"}));
    assert_eq!(second["success"], true, "{second}");
    answers.extend([first, second]);
    let asked = extension.requests();
    assert_eq!(asked.len(), 1, "cached within the TTL: {asked:?}");
    assert!(
        asked[0].starts_with("/systemsmanager/parameters/get?name=%2Fha%2Ftoken"),
        "{asked:?}"
    );
    assert!(asked[0].contains("withDecryption=true"), "{asked:?}");

    // Rotation: the parameter and Home Assistant change, the warm session goes.
    extension.set_parameter("/ha/token", TOKEN_2);
    ha.set_token(TOKEN_2);
    ha.restart();
    let (rotated, _) = runtime.invoke(&json!({"operation": "ha_get_config"}));
    assert_eq!(rotated["success"], true, "{rotated}");
    assert_eq!(extension.requests().len(), 2, "{:?}", extension.requests());
    // And the new token is cached in turn.
    let (again, _) = runtime.invoke(&json!({"operation": "ha_ping"}));
    assert_eq!(again["success"], true, "{again}");
    assert_eq!(extension.requests().len(), 2);
    answers.extend([rotated, again]);

    // A token Home Assistant refuses and the extension does not renew: one read, then
    // the refusal.
    ha.set_token("yet-another-token-SECRET");
    ha.restart();
    let (refused, _) = runtime.invoke(&json!({"operation": "ha_get_config"}));
    assert_eq!(refused["error_code"], "HA_AUTH_FAILED", "{refused}");
    assert_eq!(extension.requests().len(), 3);
    answers.push(refused);
    drop(runtime);
    assert_no_secret(&answers, &output);
    let _ = std::fs::remove_file(output);
}

#[test]
fn a_secret_is_read_from_secrets_manager() {
    let extension = SecretsExtension::start(SESSION).unwrap();
    extension.set_secret("prod/ha-token", TOKEN_1);
    let ha = HaStandIn::start(TOKEN_1).unwrap();
    let output = output_file("secret");
    let mut env = debug_env();
    env.extend([
        ("HA_URL".to_owned(), ha.base_url()),
        ("HA_TOKEN_SECRET".into(), "prod/ha-token".into()),
        (
            "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT".into(),
            extension.port().to_string(),
        ),
        ("AWS_SESSION_TOKEN".into(), SESSION.into()),
        ("HA_TOKEN_CACHE_TTL".into(), "0".into()),
    ]);
    let mut runtime = start(env, &output);
    let (answer, _) = runtime.invoke(&json!({"operation": "ha_get_states"}));
    assert_eq!(answer["success"], true, "{answer}");
    let asked = extension.requests();
    assert_eq!(asked, ["/secretsmanager/get?secretId=prod%2Fha-token"]);
    // A TTL of 0 reads it for every session... and a warm session needs none.
    let (warm, _) = runtime.invoke(&json!({"operation": "ha_get_states"}));
    assert_eq!(warm["success"], true, "{warm}");
    drop(runtime);
    assert_no_secret(&[answer, warm], &output);
    let _ = std::fs::remove_file(output);
}

#[test]
fn missing_refused_and_ambiguous_sources_are_config_invalid() {
    let extension = SecretsExtension::start(SESSION).unwrap();
    extension.set_parameter("/ha/denied", TOKEN_1);
    extension.deny("/ha/denied");
    let ha = HaStandIn::start(TOKEN_1).unwrap();
    // (variables on top of the defaults, the variable named, what the error says)
    type Case = (Vec<(&'static str, String)>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (
            vec![("HA_TOKEN_PARAMETER", "/ha/missing".into())],
            "HA_TOKEN_PARAMETER",
            "400",
        ),
        (
            vec![("HA_TOKEN_PARAMETER", "/ha/denied".into())],
            "HA_TOKEN_PARAMETER",
            "403",
        ),
        (
            vec![("HA_TOKEN_SECRET", "nope".into())],
            "HA_TOKEN_SECRET",
            "400",
        ),
        (
            vec![
                ("HA_TOKEN", TOKEN_1.into()),
                ("HA_TOKEN_SECRET", "x".into()),
            ],
            "HA_TOKEN_SECRET",
            "exactly one",
        ),
        (
            vec![
                ("HA_TOKEN_PARAMETER", "/ha/denied".into()),
                ("AWS_SESSION_TOKEN", "wrong".into()),
            ],
            "HA_TOKEN_PARAMETER",
            "401",
        ),
        (
            vec![
                ("HA_TOKEN_PARAMETER", "/ha/x".into()),
                ("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "1".into()),
            ],
            "HA_TOKEN_PARAMETER",
            "port 1",
        ),
        (
            vec![
                ("HA_TOKEN_PARAMETER", "/ha/x".into()),
                ("HA_TOKEN_CACHE_TTL", "soon".into()),
            ],
            "HA_TOKEN_CACHE_TTL",
            "HA_TOKEN_CACHE_TTL",
        ),
    ];
    for (vars, variable, says) in cases {
        let mut env: Vec<(String, String)> = vec![
            ("HA_URL".into(), ha.base_url()),
            (
                "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT".into(),
                extension.port().to_string(),
            ),
            ("AWS_SESSION_TOKEN".into(), SESSION.into()),
        ];
        for (k, v) in &vars {
            env.retain(|(name, _)| name != k);
            env.push((k.to_string(), v.clone()));
        }
        let output = output_file("invalid");
        let mut runtime = start(env, &output);
        let (answer, _) = runtime.invoke(&json!({"operation": "ha_get_config"}));
        assert_eq!(answer["error_code"], "CONFIG_INVALID", "{vars:?}: {answer}");
        assert_eq!(answer["details"]["variable"], variable, "{answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(
            error.contains(variable) && error.contains(says),
            "{says}: {error}"
        );
        assert!(!answer.to_string().contains(TOKEN_1), "{answer}");
        drop(runtime);
        let _ = std::fs::remove_file(output);
    }
}
