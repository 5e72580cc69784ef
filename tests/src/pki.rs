//! A certificate authority and server certificates made at test time with rcgen.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// OpenSSL picks an issuer by subject name: every CA trusted in one process needs its own.
fn unique_ca_name() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("suga test CA {} #{n}", std::process::id())
}

/// A CA and one server identity it signed for `localhost` and `127.0.0.1`.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The CA certificate, PEM: what a client trusts.
    pub ca_pem: String,
    /// The server certificate, PEM.
    pub server_cert_pem: String,
    /// The server key, PKCS#8 PEM.
    pub server_key_pem: String,
}

impl TestPki {
    /// Generates a fresh CA and server certificate.
    pub fn generate() -> TestPki {
        TestPki::generate_with(|_| {})
    }

    /// A CA and a server certificate that expired in 2020.
    pub fn generate_expired() -> TestPki {
        TestPki::generate_with(|params| {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        })
    }

    /// A CA and a server certificate whose parameters `adjust` changes.
    fn generate_with(adjust: impl FnOnce(&mut CertificateParams)) -> TestPki {
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, unique_ca_name());
        let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("server key");
        let mut server_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        adjust(&mut server_params);
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .expect("server cert");
        TestPki {
            ca_pem: ca_cert.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
        }
    }

    /// The server side's TLS acceptor.
    pub fn acceptor(&self) -> native_tls::TlsAcceptor {
        let identity = native_tls::Identity::from_pkcs8(
            self.server_cert_pem.as_bytes(),
            self.server_key_pem.as_bytes(),
        )
        .expect("identity");
        native_tls::TlsAcceptor::new(identity).expect("acceptor")
    }
}
