//! The TLS connector: system roots plus any extra certificate authorities, built once.

use parking_lot::Mutex;

use crate::error::{Error, Result};

#[derive(Default)]
struct Roots {
    extra: Vec<native_tls::Certificate>,
    connector: Option<native_tls::TlsConnector>,
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
            .field("connector_cached", &roots.connector.is_some())
            .finish()
    }
}

impl Trust {
    /// Trusts one more certificate authority (PEM); the next connection rebuilds the
    /// connector.
    pub(crate) fn add_root(&self, pem: &[u8]) -> Result<()> {
        let cert =
            native_tls::Certificate::from_pem(pem).map_err(|e| Error::InvalidCertificate {
                source: Box::new(e),
            })?;
        let mut roots = self.roots.lock();
        roots.extra.push(cert);
        roots.connector = None;
        Ok(())
    }

    /// The connector, built once (loading the system roots is costly) and cached.
    pub(crate) fn connector(&self) -> Result<native_tls::TlsConnector> {
        let mut roots = self.roots.lock();
        if let Some(connector) = &roots.connector {
            return Ok(connector.clone());
        }
        let mut builder = native_tls::TlsConnector::builder();
        for root in &roots.extra {
            builder.add_root_certificate(root.clone());
        }
        let connector = builder.build().map_err(|e| Error::TlsSetup {
            source: Box::new(e),
        })?;
        roots.connector = Some(connector.clone());
        Ok(connector)
    }
}
