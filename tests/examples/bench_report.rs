//! The benchmark report: every row this project against the raw library, measured in one
//! run. Whole processes (cold start + one request over `ws://` and over `wss://`, peak RSS,
//! artifact size) are timed here, alternating A B A B; in-process figures are read from
//! criterion's estimates (`cargo bench -p tests --bench overhead` first). Prints one table,
//! writes it into docs/performance.md between the report markers, and draws
//! docs/performance.svg.
//!
//! `scripts/bench` runs everything in order.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Parser;
use plotters::prelude::*;

/// Measures and writes the report.
#[derive(Parser, Debug)]
struct Args {
    /// Runs of each process measurement (alternating ours and raw).
    #[arg(long, default_value_t = 40)]
    runs: usize,
    /// The workspace root.
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

/// One row of the table.
struct Row {
    what: String,
    ours: String,
    raw: String,
    ratio: f64,
    target: &'static str,
    met: Option<bool>,
}

/// Times of whole processes, in milliseconds.
struct Samples {
    label: String,
    ours: Vec<f64>,
    raw: Vec<f64>,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return f64::NAN;
    }
    s[s.len() / 2]
}

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return f64::NAN;
    }
    s[((s.len() - 1) as f64 * q).round() as usize]
}

/// Runs `cmd` once; its wall time in ms, or an error when it failed.
fn run_once(cmd: &mut Command) -> Result<f64, String> {
    let start = Instant::now();
    let out = cmd.output().map_err(|e| e.to_string())?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if out.status.success() {
        Ok(ms)
    } else {
        Err(format!(
            "{:?} failed: {}{}",
            cmd,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Alternates `ours` and `raw` `runs` times each (after one warm-up of each).
fn alternate(
    label: &str,
    runs: usize,
    ours: &dyn Fn() -> Command,
    raw: &dyn Fn() -> Command,
) -> Result<Samples, String> {
    run_once(&mut ours())?;
    run_once(&mut raw())?;
    let mut s = Samples {
        label: label.to_owned(),
        ours: Vec::new(),
        raw: Vec::new(),
    };
    for _ in 0..runs {
        s.ours.push(run_once(&mut ours())?);
        s.raw.push(run_once(&mut raw())?);
    }
    Ok(s)
}

/// Peak RSS of one run, in KiB, by `/usr/bin/time`.
fn peak_rss_kib(cmd: &mut Command) -> Result<f64, String> {
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(program)
        .args(args)
        .envs(
            cmd.get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .output()
        .map_err(|e| e.to_string())?;
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines()
        .last()
        .and_then(|l| l.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("no RSS figure: {err}"))
}

/// A criterion median in nanoseconds.
fn criterion_ns(root: &Path, group: &str, function: &str) -> Option<f64> {
    let path = root
        .join("target/criterion")
        .join(group)
        .join(function)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn fmt_ms(ms: f64) -> String {
    format!("{ms:.2} ms")
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1000.0 {
        format!("{:.1} µs", ns / 1000.0)
    } else {
        format!("{ns:.1} ns")
    }
}

/// A trust store holding the system's roots and the test CA, as a bundle and as a hashed
/// directory, so both programs pay for the real system store.
fn trust_store(dir: &Path, ca_pem: &str) -> Result<(PathBuf, PathBuf), String> {
    let hashed = dir.join("hashed");
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(&hashed).map_err(|e| e.to_string())?;
    let system_bundle = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ]
    .iter()
    .find(|p| Path::new(p).exists())
    .ok_or("no system bundle")?;
    let mut bundle = std::fs::read_to_string(system_bundle).map_err(|e| e.to_string())?;
    bundle.push_str(ca_pem);
    let bundle_path = dir.join("bundle.pem");
    std::fs::write(&bundle_path, bundle).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir("/etc/ssl/certs")
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.len() == 10 && name.as_bytes()[8] == b'.' {
            let _ = std::os::unix::fs::symlink(entry.path(), hashed.join(&name));
        }
    }
    let ca = openssl::x509::X509::from_pem(ca_pem.as_bytes()).map_err(|e| e.to_string())?;
    let hash = format!("{:08x}", ca.subject_name_hash());
    let mut n = 0;
    while hashed.join(format!("{hash}.{n}")).exists() {
        n += 1;
    }
    std::fs::write(hashed.join(format!("{hash}.{n}")), ca_pem).map_err(|e| e.to_string())?;
    Ok((bundle_path, hashed))
}

/// A row read from criterion: what, our group and function, raw's group and function, the
/// target as text and as a ratio.
type CriterionPair = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<f64>,
);

fn ratio_row(
    what: &str,
    ours: f64,
    raw: f64,
    f: fn(f64) -> String,
    target: &'static str,
    limit: Option<f64>,
) -> Row {
    let ratio = ours / raw;
    Row {
        what: what.to_owned(),
        ours: f(ours),
        raw: f(raw),
        ratio,
        target,
        met: limit.map(|l| ratio <= l),
    }
}

fn draw(samples: &[Samples], path: &Path) -> Result<(), String> {
    let root = SVGBackend::new(path, (760, 80 + 90 * samples.len() as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let max = samples
        .iter()
        .flat_map(|s| s.ours.iter().chain(s.raw.iter()))
        .fold(0.0f64, |a, b| a.max(quantile(&[*b], 1.0)));
    let rows = samples.len() * 2;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Cold process + one request (ms): p10-p90, median",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(230)
        .build_cartesian_2d(0.0..max * 1.05, 0.0..rows as f64)
        .map_err(|e| e.to_string())?;
    let labels: Vec<String> = samples
        .iter()
        .flat_map(|s| [format!("{} — raw", s.label), format!("{} — ours", s.label)])
        .collect();
    chart
        .configure_mesh()
        .y_labels(rows)
        .y_label_formatter(&|y| {
            let i = (*y - 0.5).round();
            if (*y - 0.5 - i).abs() < 0.01 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        })
        .disable_y_mesh()
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, s) in samples.iter().enumerate() {
        for (j, (data, color)) in [(&s.raw, RED), (&s.ours, BLUE)].into_iter().enumerate() {
            let y = (i * 2 + j) as f64;
            let (p10, p50, p90) = (quantile(data, 0.1), median(data), quantile(data, 0.9));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(p10, y + 0.25), (p90, y + 0.75)],
                    color.mix(0.35).filled(),
                )))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(p50, y + 0.15), (p50, y + 0.85)],
                    color.stroke_width(3),
                )))
                .map_err(|e| e.to_string())?;
        }
    }
    root.present().map_err(|e| e.to_string())
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let root = args.root.canonicalize().map_err(|e| e.to_string())?;
    let lambda_bin = root.join("target/release/lambda");
    let raw_bin = root.join("target/release/examples/raw_request");
    let bootstrap = root.join("target/lambda/lambda/bootstrap");
    for bin in [&lambda_bin, &raw_bin] {
        if !bin.exists() {
            return Err(format!("{} is missing: run scripts/bench", bin.display()));
        }
    }

    let echo = peers::echo().map_err(|e| e.to_string())?;
    let pki = tests::pki::TestPki::generate();
    let tls = tests::servers::tls_echo(&pki);
    let store = root.join("target/bench-trust");
    let (bundle, hashed) = trust_store(&store, &pki.ca_pem)?;
    let message = r#"{"type":"get_states","id":7}"#;
    let event = |url: &str| {
        format!(
            r#"{{"operation":"request","url":"{url}","text":{message:?},"expect":"text","timeout":5}}"#
        )
    };
    let ws_event = event(&echo.url());
    let wss_event = event(&tls.url());
    let with_store = |mut cmd: Command| {
        cmd.env("SSL_CERT_FILE", &bundle)
            .env("SSL_CERT_DIR", &hashed);
        cmd
    };
    let lambda = |bin: &Path, e: &str| {
        let mut c = Command::new(bin);
        c.arg("invoke").arg(e);
        c
    };
    let raw = |url: &str| {
        let mut c = Command::new(&raw_bin);
        c.arg(url).arg(message);
        c
    };

    let mut samples = Vec::new();
    let ws = alternate(
        "ws://",
        args.runs,
        &|| lambda(&lambda_bin, &ws_event),
        &|| raw(&echo.url()),
    )?;
    let wss = alternate(
        "first wss://",
        args.runs,
        &|| with_store(lambda(&lambda_bin, &wss_event)),
        &|| with_store(raw(&tls.url())),
    )?;
    let mut rows = vec![
        ratio_row(
            "cold process + one ws:// request (lambda invoke vs raw tungstenite + native-tls)",
            median(&ws.ours),
            median(&ws.raw),
            fmt_ms,
            "≤ 1.0",
            Some(1.0),
        ),
        ratio_row(
            "cold process + first wss:// request (system bundle + test CA in the trust store)",
            median(&wss.ours),
            median(&wss.raw),
            fmt_ms,
            "≤ 0.2",
            Some(0.2),
        ),
    ];
    samples.push(ws);
    samples.push(wss);
    if bootstrap.exists() {
        let deployed = alternate(
            "ws://, deployed artifact",
            args.runs,
            &|| lambda(&bootstrap, &ws_event),
            &|| raw(&echo.url()),
        )?;
        rows.push(ratio_row(
            "cold process + one ws:// request, deployed artifact (static OpenSSL) vs raw (dynamic)",
            median(&deployed.ours),
            median(&deployed.raw),
            fmt_ms,
            "≤ 0.8",
            Some(0.8),
        ));
        samples.push(deployed);
        let size = |p: &Path| {
            std::fs::metadata(p)
                .map(|m| m.len() as f64)
                .unwrap_or(f64::NAN)
        };
        rows.push(ratio_row(
            "stripped size: deployed artifact (static OpenSSL) vs raw binary (dynamic)",
            size(&bootstrap),
            size(&raw_bin),
            |b| format!("{:.2} MB", b / 1e6),
            "—",
            None,
        ));
    }
    let rss_ours = peak_rss_kib(&mut lambda(&lambda_bin, &ws_event))?;
    let rss_raw = peak_rss_kib(&mut raw(&echo.url()))?;
    rows.push(ratio_row(
        "peak RSS, cold process + one ws:// request",
        rss_ours,
        rss_raw,
        |k| format!("{:.1} MB", k / 1024.0),
        "≤ 1.3",
        Some(1.3),
    ));

    let pairs: [CriterionPair; 6] = [
        (
            "gateway request cycle (connect, send, receive, close)",
            "request",
            "gateway",
            "request",
            "raw_tungstenite",
            "≤ 1.05",
            Some(1.05),
        ),
        (
            "held round trip on an open connection",
            "round_trip_open_connection",
            "gateway",
            "round_trip_open_connection",
            "raw_tungstenite",
            "≤ 1.05",
            Some(1.05),
        ),
        (
            "15 debug lines, switches off, vs none",
            "debug_off",
            "fifteen_calls",
            "debug_off",
            "no_calls",
            "< 1 % of a round trip",
            None,
        ),
        (
            "envelope of a reply vs serializing the reply alone",
            "envelope",
            "gateway_envelope",
            "envelope",
            "serde_json_alone",
            "—",
            None,
        ),
        (
            "Home Assistant command: warm vs cold (connect + TLS + auth + command), wss://",
            "home_assistant",
            "warm",
            "home_assistant",
            "cold",
            "≤ 0.2 (≥ 5× faster)",
            Some(0.2),
        ),
        (
            "Home Assistant command after a restart (session found gone, reconnect + TLS + auth + command) vs cold, wss://",
            "home_assistant",
            "after_restart",
            "home_assistant",
            "cold",
            "≤ 1.2",
            Some(1.2),
        ),
    ];
    for (what, g1, f1, g2, f2, target, limit) in pairs {
        match (criterion_ns(&root, g1, f1), criterion_ns(&root, g2, f2)) {
            (Some(a), Some(b)) => {
                let mut row = ratio_row(what, a, b, fmt_ns, target, limit);
                if g1 == "debug_off" {
                    let round_trip = criterion_ns(&root, "round_trip_open_connection", "gateway")
                        .unwrap_or(f64::NAN);
                    let share = (a - b).max(0.0) / round_trip * 100.0;
                    row.target = "< 1 % of a round trip";
                    row.met = Some(share < 1.0);
                    row.raw = format!("{} (none); {share:.3} % of a round trip", fmt_ns(b));
                }
                rows.push(row);
            }
            _ => eprintln!("bench_report: no criterion estimate for {g1}/{f1} or {g2}/{f2}"),
        }
    }

    match server_cold_rows(&root, &lambda_bin, &bootstrap, &ws_event, args.runs) {
        Ok((mut more, mut more_samples)) => {
            rows.append(&mut more);
            samples.append(&mut more_samples);
        }
        Err(e) => eprintln!("bench_report: server cold-start rows left out: {e}"),
    }

    match broadcast_rows(&root) {
        Ok(mut more) => rows.append(&mut more),
        Err(e) => eprintln!("bench_report: broadcast rows left out: {e}"),
    }

    match emulator_rows(&root) {
        Ok(mut more) => rows.append(&mut more),
        Err(e) => eprintln!("bench_report: emulator rows left out: {e}"),
    }

    let mut table = String::from(
        "| measurement | this project | raw | ratio | target | met |\n|---|---|---|---|---|---|\n",
    );
    for r in &rows {
        table.push_str(&format!(
            "| {} | {} | {} | {:.2} | {} | {} |\n",
            r.what,
            r.ours,
            r.raw,
            r.ratio,
            r.target,
            match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            }
        ));
    }
    println!("{table}");

    let svg = root.join("docs/performance.svg");
    draw(&samples, &svg)?;
    let doc_path = root.join("docs/performance.md");
    let doc = std::fs::read_to_string(&doc_path).map_err(|e| e.to_string())?;
    let (start, end) = ("<!-- report:start -->", "<!-- report:end -->");
    if let (Some(a), Some(b)) = (doc.find(start), doc.find(end)) {
        let stamp = format!(
            "{} runs of each process, alternating; medians. Machine: {} cores, {}.\n\n",
            args.runs,
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(0),
            std::fs::read_to_string("/proc/cpuinfo")
                .ok()
                .and_then(
                    |c| c.lines().find(|l| l.starts_with("model name")).map(|l| l
                        .split(':')
                        .nth(1)
                        .unwrap_or("")
                        .trim()
                        .to_owned())
                )
                .unwrap_or_default()
        );
        let new = format!(
            "{}{start}\n{stamp}{table}\n![distributions](performance.svg)\n{}",
            &doc[..a],
            &doc[b..]
        );
        std::fs::write(&doc_path, new).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The broadcast benchmark's other process: the embedded DynamoDB with `n` stored
/// connections and the local Management API; its URLs and table.
struct World {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    urls: [String; 3],
}

impl World {
    fn start(root: &Path, n: usize, delay_ms: u64) -> Result<World, String> {
        use std::io::BufRead;
        let bin = root.join("target/release/examples/broadcast_world");
        let mut child = Command::new(&bin)
            .arg(n.to_string())
            .arg(delay_ms.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let mut stdout = std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line).map_err(|e| e.to_string())?;
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("{e}: {line}"))?;
        let get = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        Ok(World {
            child,
            stdin,
            stdout,
            urls: [get("dynamodb"), get("management"), get("table")],
        })
    }

    fn set_delay(&mut self, ms: u64) -> Result<(), String> {
        use std::io::{BufRead, Write};
        writeln!(self.stdin, "delay {ms}").map_err(|e| e.to_string())?;
        let mut ok = String::new();
        self.stdout.read_line(&mut ok).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// One broadcast from its own process: (seconds, delivered, peak RSS in KiB).
    fn broadcast(
        &self,
        root: &Path,
        concurrency: usize,
        sample: Option<usize>,
    ) -> Result<(f64, u64, f64), String> {
        let bin = root.join("target/release/examples/broadcast_run");
        let mut cmd = Command::new("/usr/bin/time");
        cmd.arg("-f")
            .arg("%M")
            .arg(&bin)
            .args(&self.urls)
            .arg(concurrency.to_string());
        if let Some(n) = sample {
            cmd.arg(n.to_string());
        }
        let out = cmd.output().map_err(|e| e.to_string())?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&out.stderr)))?;
        let rss = String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .and_then(|l| l.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        Ok((
            v["seconds"].as_f64().unwrap_or(f64::NAN),
            v["delivered"].as_u64().unwrap_or(0),
            rss,
        ))
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Milliseconds of a `[APIGW-TIMING] label: 12.34ms` line in `text`.
fn timing_ms(text: &str, label: &str) -> f64 {
    let needle = format!("[APIGW-TIMING] {label}: ");
    text.lines()
        .find_map(|l| l.split_once(&needle).map(|(_, rest)| rest))
        .and_then(|rest| rest.trim().strip_suffix("ms"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The server function's cold start: a `$connect` (HS256 JWT verified, the user's
/// connections counted, the store write) handled from process start by `lambda-apigw
/// invoke`, against the embedded DynamoDB of the broadcast world process, alternating with
/// the client function's cold ws:// request; then where its time goes.
fn server_cold_rows(
    root: &Path,
    client_bin: &Path,
    client_bootstrap: &Path,
    ws_event: &str,
    runs: usize,
) -> Result<(Vec<Row>, Vec<Samples>), String> {
    let server_bin = root.join("target/release/lambda-apigw");
    let server_bootstrap = root.join("target/lambda/lambda-apigw/bootstrap");
    if !server_bin.exists() {
        return Err(format!(
            "{} is missing: run scripts/bench",
            server_bin.display()
        ));
    }
    let world = World::start(root, 0, 0)?;
    let secret = "bench-secret-of-at-least-thirty-two-bytes";
    let env = |c: &mut Command| {
        c.env("AWS_ENDPOINT_URL_DYNAMODB", &world.urls[0])
            .env("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", &world.urls[1])
            .env("APIGW_TABLE", &world.urls[2])
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "bench")
            .env("AWS_SECRET_ACCESS_KEY", "bench")
            .env("APIGW_JWT_SECRET", secret)
            .env_remove("DEBUG_MODE");
    };
    // One token and one connection id per run: no user reaches the per-user limit.
    let total = 4 * runs + 16;
    let mut tokens = Vec::with_capacity(total);
    for i in 0..total {
        let mut c = Command::new(&server_bin);
        c.args(["token", "--sub", &format!("bench{i}")]);
        env(&mut c);
        let out = c.output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("token: {}", String::from_utf8_lossy(&out.stderr)));
        }
        tokens.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    }
    let next = std::cell::Cell::new(0usize);
    let connect = |bin: &Path| {
        let i = next.get() % total;
        next.set(i + 1);
        let event = serde_json::json!({
            "headers": {"Host": "abc123xyz0.execute-api.eu-west-1.amazonaws.com", "Sec-WebSocket-Version": "13"},
            "queryStringParameters": {"token": tokens[i]},
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "stage": "prod",
                "connectedAt": 1_795_996_800_000i64, "requestTimeEpoch": 1_795_996_800_123i64,
                "requestId": format!("bench{i}"), "domainName": "abc123xyz0.execute-api.eu-west-1.amazonaws.com",
                "connectionId": format!("bench{i:06}="), "apiId": "abc123xyz0"},
            "isBase64Encoded": false
        });
        let mut c = Command::new(bin);
        c.arg("invoke").arg(event.to_string());
        env(&mut c);
        c
    };
    let client = |bin: &Path| {
        let mut c = Command::new(bin);
        c.arg("invoke").arg(ws_event);
        c
    };
    let mut rows = Vec::new();
    let mut samples = Vec::new();
    let s = alternate(
        "server $connect vs client request",
        runs,
        &|| connect(&server_bin),
        &|| client(client_bin),
    )?;
    rows.push(ratio_row(
        "server function: cold process + $connect (HS256 JWT, per-user count, store write; embedded DynamoDB) vs the client function's cold ws:// request",
        median(&s.ours),
        median(&s.raw),
        fmt_ms,
        "≤ 2.0",
        Some(2.0),
    ));
    samples.push(s);
    if server_bootstrap.exists() && client_bootstrap.exists() {
        let d = alternate(
            "server $connect, deployed artifacts",
            runs,
            &|| connect(&server_bootstrap),
            &|| client(client_bootstrap),
        )?;
        rows.push(ratio_row(
            "the same, deployed artifacts (`cargo lambda build --release`, each function on its own)",
            median(&d.ours),
            median(&d.raw),
            fmt_ms,
            "≤ 2.0",
            Some(2.0),
        ));
        samples.push(d);
    }
    // Where the time goes: the function's own timing lines, medians of a few runs.
    let (mut total_ms, mut config, mut route, mut store) = (vec![], vec![], vec![], vec![]);
    for _ in 0..runs.clamp(3, 15) {
        let mut c = connect(&server_bin);
        c.env("DEBUG_MODE", "true")
            .env("APIGW_DEBUG_TIMING", "true");
        let started = Instant::now();
        let out = c.output().map_err(|e| e.to_string())?;
        total_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let text = String::from_utf8_lossy(&out.stderr);
        config.push(timing_ms(&text, "cold_start_config"));
        route.push(timing_ms(&text, "route"));
        store.push(timing_ms(&text, "store_connection"));
    }
    let (t, c, r, w) = (
        median(&total_ms),
        median(&config),
        median(&route),
        median(&store),
    );
    rows.push(Row {
        what: "server $connect cold start, where the time goes (its own timing lines)".into(),
        ours: format!(
            "SDK config + router {c:.1} ms · $connect {r:.1} ms (store write {w:.1} ms; token, count: {:.1} ms) · process, runtime, exit {:.1} ms",
            r - w,
            t - c - r
        ),
        raw: format!("{t:.1} ms in all"),
        ratio: (c + r) / t,
        target: "—",
        met: None,
    });
    drop(world);
    Ok((rows, samples))
}

/// Broadcast through the local Management API: 64 in flight against the sequential loop,
/// the broadcasting process's peak RSS, 100,000 connections, and the rate with no delay.
fn broadcast_rows(root: &Path) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let secs = |s: f64| format!("{s:.2} s");
    let mut world = World::start(root, 10_000, 20)?;
    let (t64, delivered, rss) = world.broadcast(root, 64, None)?;
    if delivered != 10_000 {
        return Err(format!("10,000-connection broadcast delivered {delivered}"));
    }
    let (t1, _, _) = world.broadcast(root, 1, Some(1_000))?;
    let sequential = t1 * 10.0;
    let mut row = ratio_row(
        "broadcast to 10,000 connections, 20 ms per call: 64 in flight vs a sequential loop (1,000-connection sample × 10)",
        t64,
        sequential,
        secs,
        "≤ 0.025 (≥ 40× faster)",
        Some(0.025),
    );
    row.ours = format!("{} ({:.0}×)", secs(t64), sequential / t64);
    rows.push(row);
    let rss_mib = rss / 1024.0;
    rows.push(Row {
        what: "peak RSS of the broadcasting process, 10,000 connections (store and endpoint in another process)".into(),
        ours: format!("{rss_mib:.1} MiB"),
        raw: "64 MiB (the budget)".into(),
        ratio: rss_mib / 64.0,
        target: "≤ 1.0 (≤ 64 MiB)",
        met: Some(rss_mib <= 64.0),
    });
    world.set_delay(0)?;
    let (t0, delivered0, _) = world.broadcast(root, 64, None)?;
    rows.push(Row {
        what: "messages per second, no delay, 64 in flight (the CPU cost of signing and sending; endpoint on the same 2 cores)".into(),
        ours: format!("{:.0} /s", delivered0 as f64 / t0),
        raw: "—".into(),
        ratio: f64::NAN,
        target: "—",
        met: None,
    });
    drop(world);
    let big = World::start(root, 100_000, 20)?;
    let (t100k, delivered100k, _) = big.broadcast(root, 64, None)?;
    let (rate_small, rate_big) = (10_000.0 / t64, delivered100k as f64 / t100k);
    rows.push(Row {
        what:
            "broadcast to 100,000 connections, 20 ms per call, 64 in flight: throughput vs 10,000"
                .into(),
        ours: format!("{rate_big:.0} /s ({})", secs(t100k)),
        raw: format!("{rate_small:.0} /s"),
        ratio: rate_big / rate_small,
        target: "≥ 0.9 (holds)",
        met: Some(delivered100k == 100_000 && rate_big / rate_small >= 0.9),
    });
    Ok(rows)
}

/// The emulator's cost (`emulator_load` against the release `apigw-local`, the built-in
/// app in-process): connects per second against AWS's default quota, and the round trip
/// of a ping with 100 clients against a bare tungstenite echo server in the same run.
fn emulator_rows(root: &Path) -> Result<Vec<Row>, String> {
    let load = root.join("target/release/examples/emulator_load");
    let emulator = root.join("target/release/apigw-local");
    for bin in [&load, &emulator] {
        if !bin.exists() {
            return Err(format!("{} is missing: run scripts/bench", bin.display()));
        }
    }
    let out = Command::new(&load)
        .arg(&emulator)
        .args(["2000", "4000"])
        .output()
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&out.stderr)))?;
    let f = |path: &[&str]| {
        path.iter()
            .fold(&v, |v, k| &v[*k])
            .as_f64()
            .unwrap_or(f64::NAN)
    };
    let ms = |us: f64| format!("{:.2} ms", us / 1000.0);
    let pair = |p50: f64, p99: f64| format!("p50 {} · p99 {}", ms(p50), ms(p99));
    let per_second = f(&["connects_per_second"]);
    let (p50, p99) = (f(&["round_trip_us", "p50"]), f(&["round_trip_us", "p99"]));
    let (raw50, raw99) = (
        f(&["raw_round_trip_us", "p50"]),
        f(&["raw_round_trip_us", "p99"]),
    );
    let (all50, all99) = (
        f(&["round_trip_all_at_once_us", "p50"]),
        f(&["round_trip_all_at_once_us", "p99"]),
    );
    let (raw_all50, raw_all99) = (
        f(&["raw_round_trip_all_at_once_us", "p50"]),
        f(&["raw_round_trip_all_at_once_us", "p99"]),
    );
    Ok(vec![
        Row {
            what: "apigw-local: connects per second, each a full $connect of the built-in app (store write), 4 connecting threads, 2,000 held".into(),
            ours: format!("{per_second:.0} /s"),
            raw: "500 /s (AWS's default quota)".into(),
            ratio: per_second / 500.0,
            target: "≥ 1.0 (≥ 500 /s)",
            met: Some(per_second >= 500.0),
        },
        Row {
            what: "apigw-local: resident memory with the 2,000 connections held (peak over the whole run in brackets)".into(),
            ours: format!(
                "{:.1} MiB ({:.1} MiB)",
                f(&["rss_with_connections_held_kib"]) / 1024.0,
                f(&["peak_rss_kib"]) / 1024.0
            ),
            raw: "—".into(),
            ratio: f64::NAN,
            target: "—",
            met: None,
        },
        Row {
            what: "apigw-local: round trip of a ping through the emulator and the in-process function, 100 clients connected, one message at a time, vs a bare tungstenite echo".into(),
            ours: pair(p50, p99),
            raw: pair(raw50, raw99),
            ratio: p99 / raw99,
            target: "p99 ≤ 5 ms",
            met: Some(p99 <= 5000.0),
        },
        Row {
            what: "apigw-local: the same, all 100 clients sending at once (each ping: 6 operations on the embedded DynamoDB, which takes writes one at a time)".into(),
            ours: pair(all50, all99),
            raw: pair(raw_all50, raw_all99),
            ratio: all99 / raw_all99,
            target: "—",
            met: None,
        },
    ])
}
