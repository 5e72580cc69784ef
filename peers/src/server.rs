//! A loopback TCP server that runs a behaviour per connection and stops when dropped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Longest any server-side connection lives, so every test peer stops by itself.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(30);

/// What a server does with each accepted connection.
pub type Behaviour = Arc<dyn Fn(TcpStream) + Send + Sync>;

/// A server on 127.0.0.1 with an ephemeral port.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    scheme: &'static str,
    host: String,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Starts a server on 127.0.0.1 that runs `behaviour` on a thread per connection.
    ///
    /// ```
    /// let server = peers::Server::start("ws", std::sync::Arc::new(|_stream| {})).unwrap();
    /// assert!(server.url().starts_with("ws://127.0.0.1:"));
    /// ```
    pub fn start(scheme: &'static str, behaviour: Behaviour) -> std::io::Result<Server> {
        Server::start_on("127.0.0.1", scheme, behaviour)
    }

    /// Like [`Server::start`], bound to another loopback address (127.0.0.0/8 or ::1).
    pub fn start_on(
        ip: &str,
        scheme: &'static str,
        behaviour: Behaviour,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::bind((ip, 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                // As real servers do (Home Assistant's aiohttp among them): small frames are
                // not held back by Nagle's algorithm.
                let _ = stream.set_nodelay(true);
                let _ = stream.set_read_timeout(Some(CONNECTION_LIFETIME));
                let _ = stream.set_write_timeout(Some(CONNECTION_LIFETIME));
                let behaviour = Arc::clone(&behaviour);
                std::thread::spawn(move || behaviour(stream));
            }
        });
        Ok(Server {
            addr,
            scheme,
            host: ip.to_owned(),
            stop,
        })
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT/` (or `wss://`; IPv6 addresses in brackets).
    pub fn url(&self) -> String {
        self.url_with_host(&self.host)
    }

    /// The URL with another host name (such as `localhost`), for name resolution and
    /// certificate name checks.
    pub fn url_with_host(&self, host: &str) -> String {
        if host.contains(':') {
            format!("{}://[{}]:{}/", self.scheme, host, self.addr.port())
        } else {
            format!("{}://{}:{}/", self.scheme, host, self.addr.port())
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}
