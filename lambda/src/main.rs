//! The Lambda function binary.
//!
//! * no arguments: the Lambda runtime loop (`lambda_runtime::run`);
//! * `invoke '<event-json>'` (or `-` for stdin): one event, envelope on stdout,
//!   exit 0 on success, 1 on failure, 2 on a usage error;
//! * `demo`: embedded peers and a handful of events with every debug line on.

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
    let cli = Cli::parse();
    match cli.command {
        None => run_runtime(),
        Some(Command::Invoke { event }) => invoke(&event),
        Some(Command::Demo) => demo(),
    }
}

fn run_runtime() -> ExitCode {
    lambda_runtime::tracing::init_default_subscriber();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lambda: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(lambda_runtime::run(lambda_runtime::service_fn(
        lambda::function_handler,
    ))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lambda: runtime stopped: {e}");
            ExitCode::FAILURE
        }
    }
}

fn invoke(event: &str) -> ExitCode {
    lambda_runtime::tracing::init_default_subscriber_with_writer(std::io::stderr);
    let text = if event == "-" {
        let mut buf = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut buf) {
            eprintln!("lambda invoke: cannot read the event from stdin: {e}");
            return ExitCode::from(2);
        }
        buf
    } else {
        event.to_owned()
    };
    let envelope = lambda::handle_text(&text, &lambda::Invocation::local());
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{envelope}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    if envelope["success"] == true {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn demo() -> ExitCode {
    lambda::demo::enable_all_debug();
    lambda_runtime::tracing::init_default_subscriber_with_writer(std::io::stderr);
    let mut stdout = std::io::stdout().lock();
    match lambda::demo::run(&mut stdout) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(n) => {
            eprintln!("lambda demo: {n} event(s) did not answer as expected");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("lambda demo: {e}");
            ExitCode::FAILURE
        }
    }
}
