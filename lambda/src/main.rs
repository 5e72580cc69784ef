//! The Lambda function binary.
//!
//! * no arguments: the Lambda runtime loop (`lambda_runtime::run`);
//! * `invoke '<event-json>'` (or `-` for stdin): one event, envelope on stdout,
//!   exit 0 on success, 1 on failure, 2 on a usage error;
//! * `demo`: the demo example (embedded loopback peers, a handful of events, every debug
//!   line on). The peers are test servers, so they are not linked into this binary: the
//!   subcommand runs `cargo run --example demo` from the source tree.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "lambda",
    about = "WebSocket and Home Assistant client as an AWS Lambda function"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one event outside Lambda and print its envelope as one JSON line.
    Invoke {
        /// The event as JSON, or `-` to read it from standard input.
        event: String,
    },
    /// Start loopback peers (echo, Home Assistant stand-in) and run sample events.
    Demo,
}

fn main() -> ExitCode {
    // The Lambda runtime loop takes no arguments, and `invoke <event>` one: a cold start
    // does not pay for clap on either; anything else (help, usage errors) goes through it.
    let mut args = std::env::args_os().skip(1);
    match (args.next(), args.next(), args.next()) {
        (None, _, _) => return run_runtime(),
        (Some(command), Some(event), None) if command == "invoke" => {
            if let Some(event) = event.to_str() {
                return invoke(event);
            }
        }
        _ => {}
    }
    let cli = Cli::parse();
    match cli.command {
        None => run_runtime(),
        Some(Command::Invoke { event }) => invoke(&event),
        Some(Command::Demo) => demo(),
    }
}

fn run_runtime() -> ExitCode {
    debug::install(std::io::stdout);
    // One invocation at a time, its blocking work on the blocking pool: one thread runs
    // the loop (a multi-thread runtime costs 0.2-0.4 ms more to start).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lambda: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let function = lambda::Function::from_env();
    match runtime.block_on(lambda_runtime::run(lambda_runtime::service_fn(
        move |event| lambda::invoke(function.clone(), event),
    ))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lambda: runtime stopped: {e}");
            ExitCode::FAILURE
        }
    }
}

fn invoke(event: &str) -> ExitCode {
    // Only debug lines are logged on this path: without DEBUG_MODE there is nothing to
    // write, so a cold start does not pay for a subscriber (nor spans for its lines).
    if debug::env_flag("DEBUG_MODE") {
        debug::install(std::io::stderr);
    }
    let text = if event == "-" {
        let mut bytes = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
            eprintln!("lambda invoke: cannot read the event from stdin: {e}");
            return ExitCode::from(2);
        }
        match String::from_utf8(bytes) {
            Ok(text) => text,
            // Bytes that are not UTF-8 still get an envelope.
            Err(e) => {
                let failure = gateway::Failure::from(gateway::Error::invalid_parameter(
                    "event",
                    &format!("is not valid UTF-8 ({})", e.utf8_error()),
                ));
                return print_envelope(&gateway::Envelope::failure(&failure));
            }
        }
    } else {
        event.to_owned()
    };
    let envelope = lambda::Function::from_env().answer(&text, &lambda::Invocation::local());
    print_envelope(&envelope)
}

/// Prints the envelope as one line; the exit status says whether it was a success.
fn print_envelope(envelope: &gateway::Envelope) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{envelope}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    if envelope.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Runs the demo example through cargo, which `cargo run -p lambda -- demo` provides.
fn demo() -> ExitCode {
    let (Some(cargo), Some(manifest_dir)) = (
        std::env::var_os("CARGO"),
        std::env::var_os("CARGO_MANIFEST_DIR"),
    ) else {
        eprintln!(
            "lambda demo: the demo runs from the source tree; use `cargo run -p lambda -- demo` \
             or `cargo run -p lambda --example demo`"
        );
        return ExitCode::from(2);
    };
    let manifest = std::path::Path::new(&manifest_dir).join("Cargo.toml");
    let status = std::process::Command::new(cargo)
        .args(["run", "--quiet", "--example", "demo", "--manifest-path"])
        .arg(manifest)
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => ExitCode::from(s.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)),
        Err(e) => {
            eprintln!("lambda demo: cannot run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}
