//! Building the client's rustls configuration: roots, client certificates, and the explicit,
//! logged switch that turns certificate verification off.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::error::{Error, Result};

/// PEM input: bytes in memory or a file to read when the client is built.
#[derive(Debug, Clone)]
pub(crate) enum Pem {
    Bytes(Vec<u8>),
    File(PathBuf),
}

impl Pem {
    fn certs(&self) -> Result<Vec<CertificateDer<'static>>> {
        let res: std::result::Result<Vec<_>, _> = match self {
            Pem::Bytes(b) => CertificateDer::pem_slice_iter(b).collect(),
            Pem::File(p) => CertificateDer::pem_file_iter(p)
                .map_err(|e| Error::TlsConfig(format!("{}: {e}", p.display())))?
                .collect(),
        };
        let certs = res.map_err(|e| Error::TlsConfig(format!("{}: {e}", self.name())))?;
        if certs.is_empty() {
            return Err(Error::TlsConfig(format!("{}: no certificate found", self.name())));
        }
        Ok(certs)
    }

    fn key(&self) -> Result<PrivateKeyDer<'static>> {
        match self {
            Pem::Bytes(b) => PrivateKeyDer::from_pem_slice(b),
            Pem::File(p) => PrivateKeyDer::from_pem_file(p),
        }
        .map_err(|e| Error::TlsConfig(format!("{}: {e}", self.name())))
    }

    fn name(&self) -> String {
        match self {
            Pem::Bytes(_) => "PEM data".to_owned(),
            Pem::File(p) => p.display().to_string(),
        }
    }
}

/// The TLS settings of a client builder.
#[derive(Debug, Clone)]
pub(crate) struct TlsSettings {
    pub(crate) webpki_roots: bool,
    #[cfg(feature = "native-roots")]
    pub(crate) native_roots: bool,
    pub(crate) extra_roots: Vec<Pem>,
    pub(crate) client_cert: Option<(Pem, Pem)>,
    pub(crate) accept_invalid_certs: bool,
    pub(crate) config: Option<Arc<ClientConfig>>,
}

impl Default for TlsSettings {
    fn default() -> TlsSettings {
        TlsSettings {
            webpki_roots: true,
            #[cfg(feature = "native-roots")]
            native_roots: false,
            extra_roots: Vec::new(),
            client_cert: None,
            accept_invalid_certs: false,
            config: None,
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TlsSettings {
    /// Builds the configuration.
    pub(crate) fn build(&self) -> Result<Arc<ClientConfig>> {
        if let Some(c) = &self.config {
            return Ok(c.clone());
        }
        let mut roots = RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        #[cfg(feature = "native-roots")]
        if self.native_roots {
            add_native_roots(&mut roots)?;
        }
        for pem in &self.extra_roots {
            for cert in pem.certs()? {
                roots.add(cert).map_err(|e| Error::TlsConfig(format!("{}: {e}", pem.name())))?;
            }
        }
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(Error::Tls)?
            .with_root_certificates(roots);
        let mut config = match &self.client_cert {
            Some((cert, key)) => {
                builder.with_client_auth_cert(cert.certs()?, key.key()?).map_err(Error::Tls)?
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        if self.accept_invalid_certs {
            log::warn!(
                "TLS certificate verification is OFF for this client: any server can pose as any host"
            );
            config.dangerous().set_certificate_verifier(Arc::new(AcceptAnyCert(provider())));
        }
        Ok(Arc::new(config))
    }
}

/// Adds the certificates of the system's store. Certificates that cannot be read or used are
/// skipped (and logged); a store that gives none at all is an error.
#[cfg(feature = "native-roots")]
fn add_native_roots(roots: &mut RootCertStore) -> Result<()> {
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        log::warn!("the system's certificate store: {e}");
    }
    let (added, skipped) = roots.add_parsable_certificates(found.certs);
    if skipped > 0 {
        log::warn!("the system's certificate store: {skipped} certificates skipped, unusable as roots");
    }
    if added == 0 {
        let why = found.errors.first().map_or_else(|| "it is empty".to_owned(), |e| e.to_string());
        return Err(Error::TlsConfig(format!("no root certificate in the system's store: {why}")));
    }
    Ok(())
}

/// A verifier that accepts every certificate but still checks handshake signatures.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
