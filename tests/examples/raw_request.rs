//! The baseline of the cold-start benchmark: the smallest program that does what one
//! `lambda invoke` request does, with raw tungstenite and native-tls (`tungstenite::connect`
//! builds native-tls's connector for `wss://`): connect, send one text message, print the
//! reply, complete the closing handshake.
//!
//! `raw_request <url> <message>`

use std::process::ExitCode;

use tungstenite::Message;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(message)) = (args.next(), args.next()) else {
        eprintln!("usage: raw_request <url> <message>");
        return ExitCode::from(2);
    };
    let Ok((mut ws, _)) = tungstenite::connect(url.as_str()) else {
        return ExitCode::FAILURE;
    };
    if ws.send(Message::text(message)).is_err() {
        return ExitCode::FAILURE;
    }
    let reply = loop {
        match ws.read() {
            Ok(Message::Text(text)) => break text.to_string(),
            Ok(_) => continue,
            Err(_) => return ExitCode::FAILURE,
        }
    };
    println!("{reply}");
    // The closing handshake, as `lambda invoke` does it: send Close, wait for the server's.
    let _ = ws.close(None);
    while ws.read().is_ok() {}
    ExitCode::SUCCESS
}
