//! AutoMTLS: the per-process self-signed server certificate and the client-certificate verifier
//! that accepts exactly the certificate Terraform passed in `PLUGIN_CLIENT_CERT`.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::DistinguishedName as HintName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};

use crate::{Error, Result};

/// The server's certificate and key, generated fresh per process and kept in memory only.
pub(crate) struct ServerIdentity {
    pub(crate) cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

/// Generates a self-signed P-256 certificate with the properties go-plugin uses.
pub(crate) fn generate_server_identity() -> Result<ServerIdentity> {
    let tls = |e: rcgen::Error| Error::Tls(e.to_string());
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(tls)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).map_err(tls)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "localhost");
    dn.push(DnType::OrganizationName, "HashiCorp");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::seconds(30);
    params.not_after = now + time::Duration::days(365 * 30);
    let mut serial: [u8; 16] = rand::random();
    serial[0] = (serial[0] & 0x7f) | 0x01; // positive and non-zero
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let cert = params.self_signed(&key).map_err(tls)?;
    Ok(ServerIdentity {
        cert: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    })
}

/// Parses the first certificate of the PEM text in `PLUGIN_CLIENT_CERT`.
pub(crate) fn parse_client_cert(pem: &str) -> Result<CertificateDer<'static>> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| Error::ClientCert(format!("{e:?}")))
}

fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The rustls server configuration: mandatory client certificate pinned to `client_cert`, ALPN `h2`.
pub(crate) fn server_config(
    identity: &ServerIdentity,
    client_cert: CertificateDer<'static>,
) -> Result<rustls::ServerConfig> {
    let provider = crypto_provider();
    let verifier = PinnedClientCert {
        expected: client_cert,
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![identity.cert.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )
        .map_err(|e| Error::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Requires a client certificate, accepts only the exact DER Terraform passed, and verifies the
/// handshake signature with aws-lc-rs (which covers ECDSA P-521, Terraform's key type).
#[derive(Debug)]
struct PinnedClientCert {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[HintName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!("refused a client certificate that is not the one terraform passed");
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_certificate_is_fresh_per_call() {
        let a = generate_server_identity().unwrap();
        let b = generate_server_identity().unwrap();
        assert_ne!(a.cert.as_ref(), b.cert.as_ref());
        let der = a.cert.as_ref();
        // SAN and CN "localhost" are in the DER; the CA flag is a BasicConstraints extension (2.5.29.19).
        assert!(der.windows(9).any(|w| w == b"localhost"));
        assert!(der.windows(3).any(|w| w == [0x55, 0x1d, 0x13]));
    }

    #[test]
    fn verifier_supports_ecdsa_p521() {
        let algs = crypto_provider().signature_verification_algorithms;
        assert!(
            algs.supported_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
        );
    }

    #[test]
    fn verifier_requires_and_pins_the_client_certificate() {
        let expected = generate_server_identity().unwrap().cert;
        let other = generate_server_identity().unwrap().cert;
        let v = PinnedClientCert {
            expected: expected.clone(),
            algorithms: crypto_provider().signature_verification_algorithms,
        };
        assert!(v.client_auth_mandatory() && v.offer_client_auth());
        assert!(
            v.verify_client_cert(&expected, &[], UnixTime::now())
                .is_ok()
        );
        assert!(v.verify_client_cert(&other, &[], UnixTime::now()).is_err());
    }

    #[test]
    fn garbage_client_cert_is_rejected() {
        assert!(parse_client_cert("not a pem").is_err());
    }
}
