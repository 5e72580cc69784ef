//! A real HTTP CONNECT proxy on loopback: Debian's `tinyproxy`, started on an ephemeral port
//! with a configuration written for the test (basic auth, allowed CONNECT ports), stopped
//! when dropped. Its log says which tunnels it opened.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How a [`TinyProxy`] is set up.
#[derive(Debug, Clone, Default)]
pub struct ProxySetup {
    /// `BasicAuth user password`: the proxy answers 407 without these credentials.
    pub basic_auth: Option<(String, String)>,
    /// `ConnectPort`s: CONNECT to any other port is refused with 403. Default: every port.
    pub connect_ports: Vec<u16>,
}

/// A running tinyproxy.
#[derive(Debug)]
pub struct TinyProxy {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl TinyProxy {
    /// Starts tinyproxy on 127.0.0.1 with `setup`; waits (at most 5 s) until it accepts.
    pub fn start(setup: &ProxySetup) -> std::io::Result<TinyProxy> {
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0")?;
            probe.local_addr()?.port()
        };
        let dir = std::env::temp_dir().join(format!("tinyproxy-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nAllow 127.0.0.1\n\
             LogLevel Connect\nLogFile \"{log}\"\nPidFile \"{pid}\"\nDisableViaHeader Yes\n",
            log = dir.join("tinyproxy.log").display(),
            pid = dir.join("tinyproxy.pid").display(),
        );
        if let Some((user, password)) = &setup.basic_auth {
            conf.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        for p in &setup.connect_ports {
            conf.push_str(&format!("ConnectPort {p}\n"));
        }
        let conf_path = dir.join("tinyproxy.conf");
        std::fs::write(&conf_path, conf)?;
        let child = Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let proxy = TinyProxy { child, port, dir };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if start.elapsed() > Duration::from_secs(5) {
                return Err(std::io::Error::other("tinyproxy did not start in 5 s"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(proxy)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://user:password@127.0.0.1:PORT`.
    pub fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(self.dir.join("tinyproxy.log")) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// Whether its log shows a CONNECT request for `127.0.0.1:port` (granted or not).
    pub fn tunneled_to(&self, port: u16) -> bool {
        self.log()
            .lines()
            .any(|l| l.contains("CONNECT") && l.contains(&format!("127.0.0.1:{port}")))
    }
}

impl Drop for TinyProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sends a raw CONNECT through a proxy and answers its status line (a check that the
/// proxy itself works, independent of the client under test).
pub fn raw_connect_status(proxy_port: u16, target: &str) -> std::io::Result<String> {
    let mut tcp = TcpStream::connect(("127.0.0.1", proxy_port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(tcp, "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n")?;
    let mut buf = [0u8; 256];
    let n = tcp.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned())
}
