//! Captures everything the framework logs, rendered by its own formatting layer, for
//! assertions on debug lines.

use std::io::Write;
use std::sync::Arc;

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

static SINK: Lazy<Sink> = Lazy::new(|| {
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::registry()
        .with(debug::LogLayer::new(debug::LogFormat::Text, move || {
            writer.clone()
        }));
    let _ = tracing::subscriber::set_global_default(subscriber);
    sink
});

/// Installs the capturing subscriber (once per process).
pub fn install() {
    Lazy::force(&SINK);
}

/// Every captured line so far.
pub fn all_lines() -> Vec<String> {
    let bytes = SINK.0.lock().clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Captured lines tagged with `correlation_id`.
pub fn lines_with(correlation_id: &str) -> Vec<String> {
    let tag = format!("[{correlation_id}]");
    all_lines()
        .into_iter()
        .filter(|l| l.starts_with(&tag))
        .collect()
}
