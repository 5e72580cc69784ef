//! Local DynamoDBs on 127.0.0.1, both reached through the real AWS SDK: `dynoxide`
//! embedded in the process (SQLite in memory; the default for local runs and most tests)
//! and Amazon's own DynamoDB Local (Java), started as a child process when its directory is
//! known (`DYNAMODB_LOCAL_DIR`, which `.ci/run` sets).
//!
//! ```no_run
//! let db = local_dynamo::LocalDynamo::embedded().unwrap();
//! let client = db.client();
//! ```
#![deny(missing_docs, missing_debug_implementations)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

/// Longest Amazon DynamoDB Local may take to listen.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How often an embedded dynoxide deletes expired items when not told otherwise (DynamoDB
/// itself takes up to a few days; reads filter on the expiry anyway).
pub const DEFAULT_TTL_SWEEP: Duration = Duration::from_secs(60);

/// How to run an embedded dynoxide.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// Its port on 127.0.0.1 (0: an ephemeral one).
    pub port: u16,
    /// The SQLite file that keeps its data (its folder made when missing); `None`: memory.
    pub file: Option<PathBuf>,
    /// How often expired items (the tables' TTL attribute) are deleted.
    pub ttl_sweep: Duration,
}

impl Default for Embedded {
    fn default() -> Embedded {
        Embedded {
            port: 0,
            file: None,
            ttl_sweep: DEFAULT_TTL_SWEEP,
        }
    }
}

/// Deletes expired items every `every`, for as long as the task runs (the sweep is
/// dynoxide's own, blocking: it runs on the blocking pool, a page at a time).
async fn sweep_ttl(db: dynoxide::Database, every: Duration) {
    let mut ticks = tokio::time::interval(every.max(Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let db = db.clone();
        let _ = tokio::task::spawn_blocking(move || db.sweep_ttl()).await;
    }
}

/// Which DynamoDB it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// dynoxide, in this process.
    Dynoxide,
    /// Amazon DynamoDB Local, a Java child process.
    AmazonLocal,
}

/// A running local DynamoDB; stopped when dropped.
#[derive(Debug)]
pub struct LocalDynamo {
    kind: Kind,
    addr: SocketAddr,
    stop: Stop,
}

#[derive(Debug)]
enum Stop {
    Embedded(Option<tokio::sync::oneshot::Sender<()>>),
    Child(Child),
}

impl LocalDynamo {
    /// dynoxide on 127.0.0.1 with an ephemeral port, in memory, served by a thread of
    /// its own.
    pub fn embedded() -> std::io::Result<LocalDynamo> {
        LocalDynamo::embedded_at(0)
    }

    /// dynoxide on 127.0.0.1:`port` (0: an ephemeral one), in memory, served by a thread
    /// of its own.
    pub fn embedded_at(port: u16) -> std::io::Result<LocalDynamo> {
        LocalDynamo::embedded_with(&Embedded {
            port,
            ..Embedded::default()
        })
    }

    /// dynoxide as `options` say: in memory or in a file (created when missing, its data
    /// kept across runs), expired items swept on a period, served by a thread of its own.
    ///
    /// ```no_run
    /// use local_dynamo::{Embedded, LocalDynamo};
    /// let db = LocalDynamo::embedded_with(&Embedded {
    ///     file: Some(".apigw-local/dynamodb.sqlite".into()),
    ///     ..Embedded::default()
    /// }).unwrap();
    /// ```
    pub fn embedded_with(options: &Embedded) -> std::io::Result<LocalDynamo> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.port)))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let db = match &options.file {
            None => dynoxide::Database::memory(),
            Some(file) => {
                if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let path = file.to_str().ok_or_else(|| {
                    std::io::Error::other("the DynamoDB state file's path is not UTF-8")
                })?;
                dynoxide::Database::new(path)
            }
        }
        .map_err(|e| std::io::Error::other(format!("dynoxide: {e}")))?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let sweep_every = options.ttl_sweep;
        std::thread::spawn(move || {
            runtime.block_on(async move {
                let sweeper = tokio::spawn(sweep_ttl(db.clone(), sweep_every));
                if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                    let _ = dynoxide::server::serve_with_shutdown(listener, db, async {
                        let _ = rx.await;
                    })
                    .await;
                }
                sweeper.abort();
            });
        });
        Ok(LocalDynamo {
            kind: Kind::Dynoxide,
            addr,
            stop: Stop::Embedded(Some(tx)),
        })
    }

    /// Amazon DynamoDB Local from `dir` (holding `DynamoDBLocal.jar` and
    /// `DynamoDBLocal_lib`), in memory, one database for every key and region, on an
    /// ephemeral port of 127.0.0.1; waits until it listens (at most [`START_TIMEOUT`]).
    pub fn amazon(dir: &Path) -> std::io::Result<LocalDynamo> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new("java")
            .arg(format!(
                "-Djava.library.path={}",
                dir.join("DynamoDBLocal_lib").display()
            ))
            .arg("-jar")
            .arg(dir.join("DynamoDBLocal.jar"))
            .args(["-inMemory", "-sharedDb", "-disableTelemetry", "-port"])
            .arg(port.to_string())
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let db = LocalDynamo {
            kind: Kind::AmazonLocal,
            addr,
            stop: Stop::Child(child),
        };
        let started = Instant::now();
        // Bounded: START_TIMEOUT.
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if started.elapsed() > START_TIMEOUT {
                return Err(std::io::Error::other(
                    "DynamoDB Local did not listen in time",
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(db)
    }

    /// Every local DynamoDB this machine has: dynoxide always, Amazon DynamoDB Local when
    /// `DYNAMODB_LOCAL_DIR` names its directory (then failing to start it is an error, not
    /// a skip).
    pub fn all() -> std::io::Result<Vec<LocalDynamo>> {
        let mut out = vec![LocalDynamo::embedded()?];
        if let Some(dir) = std::env::var_os("DYNAMODB_LOCAL_DIR") {
            out.push(LocalDynamo::amazon(&PathBuf::from(dir))?);
        }
        Ok(out)
    }

    /// Which one it is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_DYNAMODB`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An SDK configuration builder aimed at it: dummy credentials, `us-east-1`, its
    /// endpoint (nothing can reach AWS or the instance metadata service).
    pub fn config(&self) -> aws_sdk_dynamodb::config::Builder {
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "local",
                "local",
                None,
                None,
                "local_dynamo",
            ))
            .endpoint_url(self.endpoint())
    }

    /// An SDK client aimed at it.
    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(self.config().build())
    }
}

impl Drop for LocalDynamo {
    fn drop(&mut self) {
        match &mut self.stop {
            Stop::Embedded(tx) => {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
            }
            Stop::Child(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}
