//! Certificates made at test time: a CA to trust, server certificates it signs.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority made for one test; trust it through `ca_pem`.
pub struct TestCa {
    pub ca_pem: String,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new() -> Self {
        Self::named("notifier test CA")
    }

    fn named(common_name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("CA certificate");
        Self {
            ca_pem: issuer.pem(),
            issuer,
        }
    }

    /// A server certificate for `names` (DNS names or IP literals), signed by this CA.
    pub fn server_config(&self, names: &[&str]) -> Arc<ServerConfig> {
        self.signed_server_config(names, |_| {})
    }

    /// A server certificate for `names`, signed by this CA, that expired on 2020-01-31.
    pub fn expired_server_config(&self, names: &[&str]) -> Arc<ServerConfig> {
        self.signed_server_config(names, |params| {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 31);
        })
    }

    fn signed_server_config(
        &self,
        names: &[&str],
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> Arc<ServerConfig> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("server params");
        adjust(&mut params);
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().map_or("localhost", String::as_str),
        );
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &self.issuer).expect("server cert");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        // The provider is explicit so that tests need not install a process default.
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("TLS versions")
                .with_no_client_auth()
                .with_single_cert(vec![cert.der().clone()], key)
                .expect("server TLS config");
        Arc::new(config)
    }

    /// A server certificate for `names` from a CA nobody trusts: the client must refuse it.
    /// That CA has its own name, so a client sees an unknown issuer, not a bad signature.
    pub fn untrusted_server_config(names: &[&str]) -> Arc<ServerConfig> {
        TestCa::named("untrusted test CA").server_config(names)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}
