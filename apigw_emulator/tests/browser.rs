//! The chat page in a real browser: Debian's Chromium, headless, driven over WebDriver by
//! Debian's chromedriver, the page served by `apigw-local`, the function `lambda-apigw`
//! under `cargo lambda watch` with a JWT secret (tokens required). Two pages join a room
//! and talk; a direct message reaches only its user; a page without a valid token is
//! refused; a page the function disconnects (`kick`) sees the close and comes back into
//! its room; pages that ping stay connected through idle periods longer than the idle
//! timeout; after a restart of the function the pages still receive. Screenshots of every
//! page go to `target/browser-artifacts/`.

mod running;
#[path = "../../apigw_local/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::{Capabilities, WindowHandle};
use fantoccini::{Client, ClientBuilder, Locator};
use running::{free_port, next_kind, send, workdir, Running, WatchedFunction};
use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const SECRET: &str = "browser-test-secret-at-least-32-bytes!!";
/// Longest a page may take to show what the test waits for.
const PAGE_WAIT: Duration = Duration::from_secs(20);
/// The emulator's idle timeout here: far below AWS's 10 minutes, so that the pages'
/// keepalive (1 s here, 4 minutes by default) is what keeps them open.
const IDLE_TIMEOUT_S: u64 = 3;

/// Whether the browser is here: `false` (and a message) outside CI without it; in CI a
/// missing browser is a failure.
fn browser_required() -> bool {
    peers::required_in_ci(
        Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
        "chromium and chromium-driver",
        "apt-get install chromium chromium-driver",
    )
}

fn token(sub: &str, scopes: &[&str]) -> String {
    apigateway::auth::mint_token(
        SECRET.as_bytes(),
        sub,
        scopes,
        Duration::from_secs(3600),
        None,
        None,
    )
    .unwrap()
}

/// chromedriver on an ephemeral port of 127.0.0.1, killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let until = Instant::now() + Duration::from_secs(20);
        // Bounded: 20 s.
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Chromium as CI needs it: headless, no sandbox (CI runs as root), no /dev/shm (small in
/// containers), a fresh profile, nothing fetched from outside, no throttling of pages
/// that are not in front.
fn capabilities(profile: &Path) -> Capabilities {
    let args = [
        "--headless=new".to_owned(),
        "--no-sandbox".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-gpu".into(),
        format!("--user-data-dir={}", profile.display()),
        "--no-first-run".into(),
        "--no-default-browser-check".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-extensions".into(),
        "--disable-default-apps".into(),
        "--disable-background-timer-throttling".into(),
        "--disable-renderer-backgrounding".into(),
        "--disable-backgrounding-occluded-windows".into(),
        "--window-size=1100,700".into(),
    ];
    let mut caps = Capabilities::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": CHROMIUM, "args": args}),
    );
    caps
}

/// One page of the chat in its own browser window.
struct Page {
    name: &'static str,
    window: WindowHandle,
}

/// The browser: one WebDriver session, a window per page.
struct Browser {
    client: Client,
    artifacts: PathBuf,
}

impl Browser {
    async fn open(&self, name: &'static str, url: &str, first: bool) -> Page {
        if !first {
            let new = self.client.new_window(false).await.unwrap();
            self.client.switch_to_window(new.handle).await.unwrap();
        }
        self.client.goto(url).await.unwrap();
        let window = self.client.window().await.unwrap();
        Page { name, window }
    }

    async fn on(&self, page: &Page) {
        self.client
            .switch_to_window(page.window.clone())
            .await
            .unwrap();
    }

    async fn fill(&self, page: &Page, id: &str, text: &str) {
        self.on(page).await;
        let field = self.client.find(Locator::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn click(&self, page: &Page, id: &str) {
        self.on(page).await;
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    async fn select(&self, page: &Page, id: &str, value: &str) {
        self.on(page).await;
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
    }

    async fn state(&self, page: &Page) -> Value {
        self.on(page).await;
        self.client
            .execute("return window.chat.state();", vec![])
            .await
            .unwrap()
    }

    /// Polls the page's state until `ok` holds (at most [`PAGE_WAIT`]); the state.
    async fn wait(&self, page: &Page, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + PAGE_WAIT;
        loop {
            let state = self.state(page).await;
            if ok(&state) {
                return state;
            }
            if Instant::now() > until {
                self.screenshot(page, "failed").await;
                panic!("{}: {what} did not happen: {state:#}", page.name);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, page: &Page, step: &str) {
        self.on(page).await;
        if let Ok(png) = self.client.screenshot().await {
            let file = self.artifacts.join(format!("{}-{step}.png", page.name));
            let _ = std::fs::write(file, png);
        }
    }

    async fn connect(&self, page: &Page, token: &str) {
        self.fill(page, "token", token).await;
        self.click(page, "connect").await;
    }

    async fn join(&self, page: &Page, room: &str) {
        self.fill(page, "room", room).await;
        self.click(page, "join-button").await;
    }

    async fn say(&self, page: &Page, target: &str, to_user: &str, text: &str) {
        self.select(page, "target", target).await;
        if target == "direct" {
            self.fill(page, "to-user", to_user).await;
        }
        self.fill(page, "text", text).await;
        self.click(page, "send-button").await;
    }
}

fn status(state: &Value) -> &str {
    state["status"].as_str().unwrap_or("")
}

fn logged(state: &Value, kind: &str, text: &str) -> bool {
    state["log"].as_array().is_some_and(|log| {
        log.iter()
            .any(|e| e["kind"] == kind && e["text"].as_str().is_some_and(|t| t.contains(text)))
    })
}

fn has_members(state: &Value, users: &[&str]) -> bool {
    let mut members: Vec<&str> = state["members"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    members.sort();
    members == users
}

#[test]
fn two_pages_talk_through_the_emulator_in_a_real_browser() {
    if !browser_required() {
        return;
    }
    let Some(mut function) = WatchedFunction::start(&[("APIGW_JWT_SECRET", SECRET)]) else {
        return;
    };
    let mut args = function.emulator_args();
    args.extend(["--idle-timeout".into(), IDLE_TIMEOUT_S.to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let emulator = Running::start(&args, &[]);
    function.wait_ready();

    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("..")
        .join("browser-artifacts");
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).unwrap();
    let profile = workdir();
    let driver = Driver::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = rt
        .block_on(
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities(&profile))
                .connect(&format!("http://127.0.0.1:{}", driver.port)),
        )
        .expect("a WebDriver session");
    let browser = Browser { client, artifacts };
    let page_url = format!("{}?keepalive=1000&backoff=200", emulator.chat());
    let quiet_url = format!("{}?keepalive=600000&backoff=200", emulator.chat());

    let pages = rt.block_on(async {
        let alice = browser.open("alice", &page_url, true).await;
        let bob = browser.open("bob", &page_url, false).await;
        let carol = browser.open("carol", &page_url, false).await;
        let mallory = browser.open("mallory", &page_url, false).await;

        // Two pages join a room; each sees the other in it.
        browser.connect(&alice, &token("alice", &[])).await;
        browser
            .wait(&alice, "open", |s| {
                status(s) == "open" && s["connectionId"].is_string()
            })
            .await;
        browser.join(&alice, "lobby").await;
        browser.connect(&bob, &token("bob", &[])).await;
        browser.wait(&bob, "open", |s| status(s) == "open").await;
        browser.join(&bob, "lobby").await;
        browser
            .wait(&alice, "bob in the room", |s| {
                has_members(s, &["alice", "bob"])
            })
            .await;
        browser
            .wait(&bob, "alice in the room", |s| {
                has_members(s, &["alice", "bob"])
            })
            .await;

        // One sends, the other receives.
        browser.say(&bob, "room", "", "hello alice").await;
        browser
            .wait(&alice, "bob's message", |s| {
                logged(s, "room_message", "[lobby] bob: hello alice")
            })
            .await;
        browser.screenshot(&alice, "1-room").await;

        // A direct message reaches only its user.
        browser.connect(&carol, &token("carol", &[])).await;
        browser.wait(&carol, "open", |s| status(s) == "open").await;
        browser.join(&carol, "lobby").await;
        browser
            .wait(&alice, "carol in the room", |s| {
                has_members(s, &["alice", "bob", "carol"])
            })
            .await;
        browser.say(&alice, "direct", "bob", "just for bob").await;
        browser
            .wait(&bob, "the direct message", |s| {
                logged(s, "direct_message", "alice: just for bob")
            })
            .await;
        browser.say(&alice, "room", "", "after the secret").await;
        let carol_state = browser
            .wait(&carol, "the later room message", |s| {
                logged(s, "room_message", "after the secret")
            })
            .await;
        assert!(
            !logged(&carol_state, "direct_message", "just for bob"),
            "carol got bob's direct message: {carol_state:#}"
        );
        browser.screenshot(&bob, "2-direct").await;

        // A page without a valid token is refused.
        browser
            .connect(&mallory, &format!("{}x", token("mallory", &[])))
            .await;
        let refused = browser
            .wait(&mallory, "refusal", |s| status(s) == "refused")
            .await;
        assert!(refused["connectionId"].is_null(), "{refused:#}");
        browser.screenshot(&mallory, "3-refused").await;

        // The function closes bob's connection (an admin's kick: DELETE @connections): his
        // page sees the close, reconnects and is back in the room.
        let bob_before = browser.state(&bob).await["connectionId"].clone();
        let admin_url = emulator.url();
        let admin_token = token("root", &["websocket:admin"]);
        let kicked = tokio::task::spawn_blocking(move || {
            let mut admin = support::connect(
                &admin_url,
                &[("Sec-WebSocket-Protocol", &format!("bearer, {admin_token}"))],
            )
            .unwrap();
            send(
                &mut admin,
                &json!({"type": "kick", "data": {"user_id": "bob"}}),
            );
            next_kind(&mut admin, "kick_sent")
        })
        .await
        .unwrap();
        assert_eq!(kicked["data"]["closed"], 1, "{kicked}");
        let back = browser
            .wait(&bob, "reconnected into lobby", |s| {
                status(s) == "open"
                    && s["reconnects"].as_u64() >= Some(1)
                    && s["connectionId"].is_string()
                    && s["connectionId"] != bob_before
            })
            .await;
        assert_eq!(back["lastClose"]["code"], 1000, "{back:#}");
        assert_eq!(back["rooms"], json!(["lobby"]), "{back:#}");
        browser
            .wait(&bob, "bob's page lists the room again", |s| {
                has_members(s, &["alice", "bob", "carol"])
            })
            .await;
        browser
            .wait(&alice, "bob back in the room", |s| {
                has_members(s, &["alice", "bob", "carol"])
            })
            .await;
        browser.screenshot(&bob, "4-reconnected").await;

        // Idle for longer than the idle timeout: pages that ping stay; a page that does
        // not (its keepalive is 10 minutes) is closed by the emulator and comes back.
        let quiet = browser.open("quiet", &quiet_url, false).await;
        browser.connect(&quiet, &token("quinn", &[])).await;
        browser.wait(&quiet, "open", |s| status(s) == "open").await;
        tokio::time::sleep(Duration::from_secs(2 * IDLE_TIMEOUT_S + 1)).await;
        let dropped = browser
            .wait(&quiet, "the idle close", |s| {
                s["reconnects"].as_u64() >= Some(1)
            })
            .await;
        assert_eq!(dropped["lastClose"]["code"], 1001, "{dropped:#}");
        let alice_state = browser.state(&alice).await;
        assert_eq!(alice_state["reconnects"], 0, "{alice_state:#}");
        assert_eq!(status(&alice_state), "open");
        [alice, bob, carol, mallory, quiet]
    });

    // A restart of the function: the pages still receive.
    function.restart();
    rt.block_on(async {
        let [alice, bob, carol, mallory, quiet] = &pages;
        browser.say(carol, "room", "", "after the restart").await;
        for page in [alice, bob] {
            browser
                .wait(page, "a message after the restart", |s| {
                    logged(s, "room_message", "carol: after the restart")
                })
                .await;
        }
        browser.say(bob, "direct", "carol", "still here").await;
        browser
            .wait(carol, "a direct message after the restart", |s| {
                logged(s, "direct_message", "bob: still here")
            })
            .await;
        for page in [alice, bob, carol, mallory, quiet] {
            browser.screenshot(page, "5-final").await;
        }
    });
    let _ = rt.block_on(browser.client.close());
    let shots = std::fs::read_dir(&browser.artifacts).map_or(0, |d| d.count());
    assert!(shots >= 9, "screenshots in {}", browser.artifacts.display());
    eprintln!("screenshots: {}", browser.artifacts.display());
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);
}
