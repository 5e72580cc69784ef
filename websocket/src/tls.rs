//! Trust: the system's roots, found without parsing the whole bundle, plus any extra
//! certificate authorities; and the connector built from them once.
//!
//! native-tls's connector (and the `openssl` crate's `SslConnector::builder`) load OpenSSL's
//! default paths — the whole system bundle — so the first `wss://` connection of every
//! process parses a few hundred certificates (40-80 ms). Here the context is built with the
//! `openssl` crate (native-tls's backend on Linux) on an `X509_LOOKUP_hash_dir` store:
//! OpenSSL reads only the issuer a chain needs, from a directory of hashed names. Without
//! such a directory it falls back to the bundle. The context carries the same hardening as
//! `SslConnector` (options, modes, cipher list), TLS 1.2 at least, and peer verification;
//! every connection verifies the host name (or IP address) and sends SNI.

use std::path::{Path, PathBuf};

use std::net::IpAddr;

use openssl::ssl::{
    Ssl, SslContext, SslContextBuilder, SslFiletype, SslMethod, SslMode, SslOptions, SslVerifyMode,
    SslVersion,
};
use openssl::x509::store::X509Lookup;
use openssl::x509::verify::X509CheckFlags;
use openssl::x509::X509;
use parking_lot::Mutex;

use crate::error::{Error, Result};

/// Hashed certificate directories of the systems Lambda and developers run, after
/// `SSL_CERT_DIR`: Amazon Linux 2023 and Fedora/RHEL (`provided.al2023`), Debian/Ubuntu.
const HASHED_DIRS: [&str; 3] = [
    "/etc/pki/ca-trust/extracted/pem/directory-hash",
    "/etc/ssl/certs",
    "/etc/pki/tls/certs",
];

/// Where the system's trusted roots are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemRoots {
    /// A directory of certificates named by subject hash: read lazily, one issuer at a time.
    HashedDir(PathBuf),
    /// One bundle file: read whole when the connector is built.
    Bundle(PathBuf),
    /// Nothing found: only extra roots are trusted.
    Nowhere,
}

impl SystemRoots {
    /// Finds the roots: `SSL_CERT_DIR` when hashed, else `SSL_CERT_FILE`, else the first
    /// hashed system directory, else the system bundle openssl-probe knows.
    ///
    /// ```
    /// let roots = websocket::SystemRoots::locate();
    /// println!("{roots:?}");
    /// ```
    pub fn locate() -> SystemRoots {
        let env = |name| std::env::var_os(name).map(PathBuf::from);
        if let Some(dir) = env("SSL_CERT_DIR").filter(|d| is_hashed(d)) {
            return SystemRoots::HashedDir(dir);
        }
        if let Some(file) = env("SSL_CERT_FILE").filter(|f| f.is_file()) {
            return SystemRoots::Bundle(file);
        }
        if let Some(dir) = HASHED_DIRS.iter().map(PathBuf::from).find(|d| is_hashed(d)) {
            return SystemRoots::HashedDir(dir);
        }
        match openssl_probe::probe().cert_file {
            Some(file) => SystemRoots::Bundle(file),
            None => SystemRoots::Nowhere,
        }
    }
}

/// Whether `dir` holds certificates under subject-hash names (`1a2b3c4d.0`).
fn is_hashed(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        match name.split_once('.') {
            Some((hash, n)) => {
                hash.len() == 8
                    && hash.bytes().all(|b| b.is_ascii_hexdigit())
                    && !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit())
            }
            None => false,
        }
    })
}

#[derive(Default)]
struct Roots {
    extra: Vec<X509>,
    context: Option<SslContext>,
}

/// Extra roots and the cached connector built from them.
#[derive(Default)]
pub(crate) struct Trust {
    roots: Mutex<Roots>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let roots = self.roots.lock();
        f.debug_struct("Trust")
            .field("extra_roots", &roots.extra.len())
            .field("context_cached", &roots.context.is_some())
            .finish()
    }
}

impl Trust {
    /// Trusts one more certificate authority (PEM); the next connection rebuilds the
    /// connector.
    pub(crate) fn add_root(&self, pem: &[u8]) -> Result<()> {
        let cert = X509::from_pem(pem).map_err(|e| Error::InvalidCertificate {
            source: Box::new(e),
        })?;
        let mut roots = self.roots.lock();
        roots.extra.push(cert);
        roots.context = None;
        Ok(())
    }

    /// The TLS context (roots, hardening, peer verification), built once and cached.
    pub(crate) fn context(&self) -> Result<SslContext> {
        let mut roots = self.roots.lock();
        if let Some(context) = &roots.context {
            return Ok(context.clone());
        }
        let setup = |e| Error::TlsSetup {
            source: Box::new(e),
        };
        let mut builder = hardened().map_err(setup)?;
        match SystemRoots::locate() {
            SystemRoots::HashedDir(dir) => {
                let lookup = builder
                    .cert_store_mut()
                    .add_lookup(X509Lookup::hash_dir())
                    .map_err(setup)?;
                lookup
                    .add_dir(&dir.to_string_lossy(), SslFiletype::PEM)
                    .map_err(setup)?;
            }
            SystemRoots::Bundle(file) => builder.set_ca_file(file).map_err(setup)?,
            SystemRoots::Nowhere => {}
        }
        for cert in &roots.extra {
            builder
                .cert_store_mut()
                .add_cert(cert.clone())
                .map_err(setup)?;
        }
        let context = builder.build();
        roots.context = Some(context.clone());
        Ok(context)
    }
}

/// A client context with `SslConnector`'s hardening, at least TLS 1.2, peers verified,
/// and no roots loaded yet.
fn hardened() -> std::result::Result<SslContextBuilder, openssl::error::ErrorStack> {
    let mut ctx = SslContextBuilder::new(SslMethod::tls_client())?;
    let mut options = SslOptions::ALL
        | SslOptions::NO_COMPRESSION
        | SslOptions::NO_SSLV2
        | SslOptions::NO_SSLV3
        | SslOptions::SINGLE_DH_USE
        | SslOptions::SINGLE_ECDH_USE;
    options &= !SslOptions::DONT_INSERT_EMPTY_FRAGMENTS;
    ctx.set_options(options);
    ctx.set_mode(
        SslMode::AUTO_RETRY
            | SslMode::ACCEPT_MOVING_WRITE_BUFFER
            | SslMode::ENABLE_PARTIAL_WRITE
            | SslMode::RELEASE_BUFFERS,
    );
    ctx.set_min_proto_version(Some(SslVersion::TLS1_2))?;
    ctx.set_cipher_list("DEFAULT:!aNULL:!eNULL:!MD5:!3DES:!DES:!RC4:!IDEA:!SEED:!aDSS:!SRP:!PSK")?;
    ctx.set_verify(SslVerifyMode::PEER);
    Ok(ctx)
}

/// A TLS session for `host`: SNI for a name, and the certificate checked against the name
/// or the IP address — unless `verify` is false (`WS_TLS_INSECURE`), when nothing of the
/// certificate is checked.
pub(crate) fn session(
    context: &SslContext,
    host: &str,
    verify: bool,
) -> std::result::Result<Ssl, openssl::error::ErrorStack> {
    let mut ssl = Ssl::new(context)?;
    if !verify {
        ssl.set_verify(SslVerifyMode::NONE);
    }
    let param = ssl.param_mut();
    param.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
    match host.parse::<IpAddr>() {
        Ok(ip) => param.set_ip(ip)?,
        Err(_) => {
            param.set_host(host)?;
            ssl.set_hostname(host)?;
        }
    }
    Ok(ssl)
}
