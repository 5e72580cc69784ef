//! Error codes are an open set: each crate declares its own. No two crates may declare the
//! same name, every name is upper snake case, and docs/architecture.md lists every one.

use std::collections::BTreeMap;

fn declared() -> Vec<(&'static str, contract::ErrorCode)> {
    let crates: [(&str, &[contract::ErrorCode]); 4] = [
        ("contract", contract::codes::ALL),
        ("websocket", websocket::codes::ALL),
        ("interface", interface::codes::ALL),
        ("home_assistant", home_assistant::codes::ALL),
    ];
    crates
        .into_iter()
        .flat_map(|(name, codes)| codes.iter().map(move |c| (name, *c)))
        .collect()
}

#[test]
fn no_two_crates_declare_the_same_code() {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (owner, code) in declared() {
        assert!(
            code.as_str()
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_'),
            "{code} ({owner}) is not upper snake case"
        );
        if let Some(first) = seen.insert(code.as_str(), owner) {
            panic!("{code} is declared by both {first} and {owner}");
        }
    }
    // The client gateway gathers exactly the codes below Home Assistant.
    for code in gateway::codes::ALL {
        assert!(
            seen.contains_key(code.as_str()),
            "{code} is gathered but declared nowhere"
        );
    }
}

#[test]
fn the_architecture_doc_lists_every_code() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/architecture.md"
    ))
    .expect("docs/architecture.md");
    for (owner, code) in declared() {
        assert!(
            doc.contains(&format!("`{code}`")),
            "docs/architecture.md does not list {code} ({owner})"
        );
    }
}
