//! The deployed binary's operations, each invocation its own process (as consecutive
//! messages reach different containers): the message rate holds across processes sharing
//! one store, the development token gets in, the management API's HTTP routes answer 401,
//! 403, 400 and 200, the scheduled heartbeat runs — and the SDK configuration reads no
//! profile file and probes no instance metadata when the environment suffices.

use std::net::TcpListener;
use std::process::{Command, Output};

use apigw_local::ManagementApi;
use local_dynamo::LocalDynamo;
use serde_json::{json, Value};

const SECRET: &str = "a-binary-test-secret-of-32-bytes-or-more";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../gateway/server/tests/fixtures/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

struct World {
    db: LocalDynamo,
    table: String,
    api: ManagementApi,
}

fn world() -> World {
    World {
        db: LocalDynamo::embedded().unwrap(),
        table: format!("ops{}", fastrand::u32(..)),
        api: ManagementApi::start("local").unwrap(),
    }
}

fn command(w: &World, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lambda-apigw"));
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL_DYNAMODB", w.db.endpoint())
        .env("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", w.api.url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("APIGW_TABLE", &w.table)
        .env("APIGW_CREATE_TABLE", "true")
        .env("APIGW_JWT_SECRET", SECRET)
        .env("DEBUG_MODE", "true")
        .env("APIGW_DEBUG_MODE", "true")
        .envs(env.iter().copied());
    c
}

/// One invocation: its answer, and everything it printed.
fn invoke(w: &World, event: &Value, env: &[(&str, &str)]) -> (Value, String) {
    // On stdin: an argument is at most 128 KiB (MAX_ARG_STRLEN), and some events are larger.
    let mut child = command(w, &["invoke", "-"], env)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(event.to_string().as_bytes()).unwrap();
    }
    let out: Output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let answer = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|_| panic!("not JSON: {stdout} {stderr}"));
    (answer, format!("{stdout}\n{stderr}"))
}

fn token(w: &World, sub: &str, scopes: &[&str]) -> String {
    let mut args = vec!["token", "--sub", sub];
    for s in scopes {
        args.extend(["--scope", s]);
    }
    let out = command(w, &args, &[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn connect(w: &World, id: &str, token: &str) -> Value {
    let mut e = fixture("connect");
    e["requestContext"]["connectionId"] = json!(id);
    e["requestContext"]["domainName"] = json!(w.api.host());
    e["requestContext"]["stage"] = json!("local");
    e["queryStringParameters"] = json!({"token": token});
    e["multiValueQueryStringParameters"] = json!({"token": [token]});
    e
}

fn ping(w: &World, id: &str) -> Value {
    let mut e = fixture("message");
    e["requestContext"]["connectionId"] = json!(id);
    e["requestContext"]["domainName"] = json!(w.api.host());
    e["requestContext"]["stage"] = json!("local");
    e["requestContext"]["routeKey"] = json!("ping");
    e["body"] = json!(r#"{"type":"ping"}"#);
    e
}

fn http(method: &str, path: &str, authorization: Option<&str>, body: Option<&str>) -> Value {
    let mut headers = json!({"content-type": "application/json"});
    if let Some(a) = authorization {
        headers["authorization"] = json!(a);
    }
    json!({
        "version": "2.0", "routeKey": format!("{method} {path}"), "rawPath": format!("/prod{path}"),
        "rawQueryString": "", "headers": headers,
        "requestContext": {"accountId": "123456789012", "apiId": "h77p2", "domainName": "h77p2.execute-api.eu-west-1.amazonaws.com",
            "http": {"method": method, "path": format!("/prod{path}"), "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "curl/8"},
            "requestId": "Hx1aWjYzIAMEbWQ=", "routeKey": format!("{method} {path}"), "stage": "prod",
            "time": "02/Dec/2026:06:00:00 +0000", "timeEpoch": 1796191200000u64},
        "body": body, "isBase64Encoded": false
    })
}

#[test]
fn the_message_rate_holds_across_processes() {
    let w = world();
    let t = token(&w, "rita", &[]);
    let rate = [("APIGW_RATE_LIMIT", "3"), ("APIGW_RATE_WINDOW", "3600")];
    // Keep the five messages inside one window.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now % 3600 > 3590 {
        std::thread::sleep(std::time::Duration::from_secs(3600 - now % 3600 + 1));
    }
    let (a, out) = invoke(&w, &connect(&w, "rate1=", &t), &rate);
    assert_eq!(a["statusCode"], 200, "{out}");
    let mut kinds = Vec::new();
    for _ in 0..5 {
        let (a, _) = invoke(&w, &ping(&w, "rate1="), &rate);
        let frame: Value = serde_json::from_str(a["body"].as_str().unwrap()).unwrap();
        kinds.push(if frame["type"] == "error" {
            frame["data"]["error_code"].as_str().unwrap().to_owned()
        } else {
            frame["type"].as_str().unwrap().to_owned()
        });
    }
    assert_eq!(
        kinds,
        [
            "pong",
            "pong",
            "pong",
            "RATE_LIMIT_EXCEEDED",
            "RATE_LIMIT_EXCEEDED"
        ]
    );
}

#[test]
fn the_management_routes_answer_401_403_400_and_200() {
    let w = world();
    let user = token(&w, "ursula", &[]);
    let admin = token(&w, "adam", &["websocket:admin"]);
    let (a, out) = invoke(&w, &connect(&w, "m1=", &user), &[]);
    assert_eq!(a["statusCode"], 200, "{out}");
    w.api.connect("m1=");
    let mut printed = out;
    let body = r#"{"type":"notice","data":{"text":"maintenance at six"}}"#;
    let big = json!({"type": "notice", "data": {"text": "x".repeat(200 * 1024)}}).to_string();
    let cases = [
        (http("GET", "/api/v1/websocket/stats", None, None), 401),
        (
            http(
                "GET",
                "/api/v1/websocket/stats",
                Some("Bearer not.a.token"),
                None,
            ),
            401,
        ),
        (
            http(
                "GET",
                "/api/v1/websocket/stats",
                Some(&format!("Bearer {user}")),
                None,
            ),
            403,
        ),
        (
            http(
                "POST",
                "/api/v1/websocket/broadcast",
                Some(&format!("Bearer {user}")),
                Some(body),
            ),
            403,
        ),
        (
            http(
                "POST",
                "/api/v1/websocket/broadcast",
                Some(&format!("Bearer {admin}")),
                Some(r#"{"data":1}"#),
            ),
            400,
        ),
        (
            http(
                "GET",
                "/api/v1/websocket/nothing",
                Some(&format!("Bearer {admin}")),
                None,
            ),
            404,
        ),
        (
            http(
                "POST",
                "/api/v1/websocket/broadcast",
                Some(&format!("Bearer {admin}")),
                Some(&big),
            ),
            400,
        ),
    ];
    for (event, status) in cases {
        let (a, out) = invoke(&w, &event, &[]);
        assert_eq!(a["statusCode"], status, "{event}: {a} {out}");
        let envelope: Value = serde_json::from_str(a["body"].as_str().unwrap()).unwrap();
        assert_eq!(envelope["success"], false);
        assert!(
            envelope["error"].is_string() && envelope["error_code"].is_string(),
            "{envelope}"
        );
        printed.push_str(&out);
    }
    let (a, out) = invoke(
        &w,
        &http(
            "GET",
            "/api/v1/websocket/stats",
            Some(&format!("Bearer {admin}")),
            None,
        ),
        &[],
    );
    assert_eq!(a["statusCode"], 200, "{out}");
    let stats: Value = serde_json::from_str(a["body"].as_str().unwrap()).unwrap();
    assert_eq!(stats["success"], true);
    assert_eq!(stats["data"]["connected_clients"], 1, "{stats}");
    assert!(stats["timestamp"].is_string());
    printed.push_str(&out);

    let (a, out) = invoke(
        &w,
        &http(
            "POST",
            "/api/v1/websocket/broadcast",
            Some(&format!("Bearer {admin}")),
            Some(body),
        ),
        &[],
    );
    assert_eq!(a["statusCode"], 200, "{out}");
    let sent: Value = serde_json::from_str(a["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["success"], true);
    assert_eq!(sent["data"]["message"], "Message broadcasted successfully");
    assert_eq!(sent["data"]["clients_count"], 1);
    assert_eq!(sent["data"]["message_type"], "notice");
    assert_eq!(sent["data"]["delivered"], 1);
    assert!(sent["timestamp"].is_string());
    let got: Value = serde_json::from_slice(&w.api.posted_to("m1=")[0]).unwrap();
    assert_eq!(got["type"], "notice");
    assert_eq!(got["data"]["text"], "maintenance at six");
    printed.push_str(&out);

    // The scheduled heartbeat, as EventBridge sends it.
    let scheduled = json!({"version": "0", "id": "5e1c0a9e", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-12-02T06:00:00Z", "region": "eu-west-1", "resources": [], "detail": {}});
    let (a, out) = invoke(&w, &scheduled, &[]);
    assert_eq!(a["success"], true, "{a} {out}");
    assert_eq!(a["data"]["delivered"], 1);
    assert_eq!(a["data"]["complete"], true);
    printed.push_str(&out);

    for secret in [user.as_str(), admin.as_str(), SECRET] {
        let signature = secret.rsplit('.').next().unwrap();
        assert!(
            !printed.contains(signature),
            "a token or the secret was printed"
        );
    }
}

/// Whether `strace` runs here (`.ci/run` installs it).
fn strace() -> bool {
    Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_sdk_reads_no_profile_and_probes_no_metadata_when_the_environment_suffices() {
    assert!(
        strace(),
        "strace is needed for this test (.ci/run installs it)"
    );
    let w = world();
    let dir = std::env::temp_dir().join(format!("apigw-home-{}", fastrand::u64(..)));
    std::fs::create_dir_all(dir.join(".aws")).unwrap();
    let config = dir.join(".aws/config");
    std::fs::write(&config, "[default]\nregion = eu-west-3\n").unwrap();
    // An instance metadata endpoint that counts who knocks.
    let imds = TcpListener::bind("127.0.0.1:0").unwrap();
    imds.set_nonblocking(true).unwrap();
    let imds_url = format!("http://{}", imds.local_addr().unwrap());
    let trace = dir.join("trace");
    let t = token(&w, "sam", &[]);
    let event = connect(&w, "sdk1=", &t).to_string();
    let mut out = command(&w, &[], &[]);
    out.env_remove("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI")
        .env("HOME", &dir)
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds_url)
        .arg("invoke")
        .arg(&event);
    let program = out.get_program().to_owned();
    let args: Vec<_> = out.get_args().map(ToOwned::to_owned).collect();
    let envs: Vec<_> = out
        .get_envs()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned())))
        .collect();
    let traced = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=openat,open,connect", "-o"])
        .arg(&trace)
        .arg(program)
        .args(args)
        .env_clear()
        .envs(envs)
        .output()
        .unwrap();
    assert!(
        traced.status.success(),
        "{}",
        String::from_utf8_lossy(&traced.stderr)
    );
    let calls = std::fs::read_to_string(&trace).unwrap();
    assert!(
        calls.contains("connect("),
        "the trace saw the store's connection: {calls}"
    );
    assert!(
        !calls.contains(".aws"),
        "a profile file was opened: {calls}"
    );
    assert!(
        !calls.contains("169.254.169.254"),
        "the metadata address was dialled"
    );
    assert!(imds.accept().is_err(), "the metadata endpoint was probed");
    let _ = std::fs::remove_dir_all(&dir);
}
