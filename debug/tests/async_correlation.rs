//! The correlation id crosses `.await`: two tasks on a multi-thread runtime, each under its
//! own id's span (`tracing::Instrument`), interleave on the runtime's threads; every line
//! each logs carries its own id, and `debug::current()` answers its own id after every
//! await — which a thread-local stack could not (nothing is pushed when a task is polled).

use std::io::Write;
use std::sync::{Arc, Mutex};

use debug::{debug_line, CorrelationId, LogFormat, LogLayer, Scope};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

static TASKS: Scope = Scope::new("TASKS");

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::ErrorKind::Other)?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_tasks_keep_their_own_ids_across_awaits() {
    std::env::set_var("DEBUG_MODE", "true");
    std::env::set_var("TASKS_DEBUG_MODE", "true");
    debug::reload();
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber =
        tracing_subscriber::registry().with(LogLayer::new(LogFormat::Text, move || writer.clone()));
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let mut tasks = Vec::new();
    for name in ["task-a", "task-b"] {
        let id = CorrelationId::parse(name).expect("id");
        let span = id.span();
        tasks.push(tokio::spawn(
            async move {
                for step in 0..50 {
                    assert_eq!(
                        debug::current().map(|c| c.as_str().to_owned()).as_deref(),
                        Some(name)
                    );
                    debug_line!(TASKS, "step {step} of {name}");
                    tokio::task::yield_now().await;
                }
            }
            .instrument(span),
        ));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let text = String::from_utf8(sink.0.lock().expect("sink").clone()).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 100, "{text}");
    for line in lines {
        let owner = if line.ends_with("of task-a") {
            "task-a"
        } else {
            "task-b"
        };
        assert!(
            line.starts_with(&format!("[{owner}] [TASKS-DEBUG] step ")),
            "{line}"
        );
    }
}
