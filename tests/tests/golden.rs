//! The event contract, held by golden files: every operation and error path of the Lambda
//! event contract, recorded as `tests/golden/NNN-name.json` (`event` in, `answer` out) and
//! replayed in order against real loopback peers.
//!
//! Placeholders: `{echo}`, `{mute}`, ... stand for the port of the peer of that name, in
//! events and answers alike; `{connection}` in an event is the handle the last `connect`
//! answered; handles in answers read `ws-N`, Home Assistant sessions `ha-N`. An answer may hold `"<number>"`, `"<string>"`
//! or `"<any>"` where a value varies from run to run (a round-trip time). A file may set
//! `env` (a `null` removes the variable) and `budget_ms` (the invocation's time left).
//!
//! `GOLDEN_RECORD=1 cargo test -p tests --test golden` writes the answer of every file that
//! has none; a file with an answer is never rewritten.
//!
//! One test function, so this binary runs its cases alone: no lock is needed for the
//! process-wide environment the Home Assistant cases set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lambda::{handle, Invocation};
use peers::hostile::{breaching, Breach};
use serde_json::{Map, Value};
use tests::pki::TestPki;
use tests::servers::{self, Server};

/// Peers the golden cases name, each by its placeholder.
struct Peers {
    _servers: Vec<Server>,
    _ha: peers::HaStandIn,
    ports: BTreeMap<&'static str, u16>,
}

impl Peers {
    fn start() -> Peers {
        let untrusted = TestPki::generate();
        let named: Vec<(&'static str, Server)> = vec![
            ("echo", servers::echo()),
            ("mute", servers::mute_after_upgrade()),
            ("non_json", servers::non_json()),
            ("binary", servers::binary_reply()),
            ("abrupt", servers::abrupt_close()),
            ("refuse", servers::refuse_upgrade()),
            ("tls", servers::tls_echo(&untrusted)),
            ("big", servers::big_reply(17 << 20)),
            (
                "badclose",
                breaching(Breach::InvalidCloseCode).expect("start hostile server"),
            ),
        ];
        let ha = peers::HaStandIn::start("GOLDEN-TOKEN-SECRET").expect("start stand-in");
        let mut ports: BTreeMap<&'static str, u16> = named
            .iter()
            .map(|(name, server)| (*name, server.addr().port()))
            .collect();
        let ha_port = url::Url::parse(&ha.base_url())
            .ok()
            .and_then(|u| u.port())
            .expect("stand-in port");
        ports.insert("ha", ha_port);
        Peers {
            _servers: named.into_iter().map(|(_, s)| s).collect(),
            _ha: ha,
            ports,
        }
    }

    /// Puts the real ports (and the last handle) into an event.
    fn fill(&self, text: &str, connection: &str) -> String {
        let mut out = text.replace("{connection}", connection);
        for (name, port) in &self.ports {
            out = out.replace(&format!("{{{name}}}"), &port.to_string());
        }
        out
    }

    /// Puts the placeholders back into an answer.
    fn normalise(&self, answer: &Value) -> Value {
        let mut text = answer.to_string();
        for (name, port) in &self.ports {
            text = text.replace(
                &format!("127.0.0.1:{port}"),
                &format!("127.0.0.1:{{{name}}}"),
            );
        }
        let text = normalise_handles(&text);
        serde_json::from_str(&text).expect("normalised answer is JSON")
    }
}

/// `"ws-17"` → `"ws-N"`, `"ha-3"` → `"ha-N"`.
fn normalise_handles(text: &str) -> String {
    normalise_prefix(&normalise_prefix(text, "\"ws-"), "\"ha-")
}

fn normalise_prefix(text: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at + prefix.len()]);
        let after = &rest[at + prefix.len()..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with('"') {
            out.push('N');
            rest = &after[digits..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Whether `actual` matches `expected`, wildcards included; the path of the first
/// difference otherwise.
fn matches(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::String(w), _) if w == "<any>" => Ok(()),
        (Value::String(w), Value::Number(_)) if w == "<number>" => Ok(()),
        (Value::String(w), Value::String(_)) if w == "<string>" => Ok(()),
        (Value::Object(e), Value::Object(a)) => {
            // Key order is not part of JSON's meaning: compare the sets.
            let mut ek: Vec<_> = e.keys().collect();
            let mut ak: Vec<_> = a.keys().collect();
            ek.sort();
            ak.sort();
            if ek != ak {
                return Err(format!("{path}: keys {ek:?} != {ak:?}"));
            }
            for (k, v) in e {
                matches(v, &a[k], &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .try_for_each(|(i, (e, a))| matches(e, a, &format!("{path}[{i}]"))),
        _ if expected == actual => Ok(()),
        _ => Err(format!("{path}: expected {expected}, got {actual}")),
    }
}

fn golden_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/golden exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn apply_env(env: &Map<String, Value>, peers: &Peers) {
    for (name, value) in env {
        match value {
            Value::String(v) => std::env::set_var(name, peers.fill(v, "")),
            _ => std::env::remove_var(name),
        }
    }
}

#[test]
fn the_event_contract_matches_the_golden_files() {
    std::env::remove_var("HA_CA_CERT");
    let record = std::env::var_os("GOLDEN_RECORD").is_some();
    let peers = Peers::start();
    let mut connection = String::from("ws-0");
    let mut failures = Vec::new();
    let files = golden_files();
    assert!(files.len() >= 102, "golden files missing: {}", files.len());
    for file in files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&file).expect("readable golden file");
        let mut case: Map<String, Value> = serde_json::from_str(&text).expect("golden JSON");
        if let Some(Value::Object(env)) = case.get("env") {
            apply_env(env, &peers);
        }
        let budget = case
            .get("budget_ms")
            .and_then(Value::as_u64)
            .map_or(Duration::from_secs(10), Duration::from_millis);
        let event: Value =
            serde_json::from_str(&peers.fill(&case["event"].to_string(), &connection))
                .expect("event JSON");
        let answer = handle(event, &Invocation::with_budget("golden-request", budget));
        if let Some(handle) = answer["data"]["connection"].as_str() {
            connection = handle.to_owned();
        }
        let actual = peers.normalise(&answer);
        match case.get("answer") {
            Some(expected) => {
                if let Err(diff) = matches(expected, &actual, "answer") {
                    failures.push(format!("{name}: {diff}"));
                }
            }
            None if record => {
                case.insert("answer".into(), actual);
                let pretty = serde_json::to_string_pretty(&case).expect("serialisable");
                std::fs::write(&file, pretty + "\n").expect("write golden file");
            }
            None => failures.push(format!("{name}: no recorded answer")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
