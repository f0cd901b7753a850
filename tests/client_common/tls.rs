//! A test CA made with rcgen and an in-process rustls server.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate authority for tests.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate with its key, as PEM.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: CertificateDer<'static>,
    pub key_der: Vec<u8>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestCa { issuer }
    }

    /// A client builder that trusts this CA, and no other.
    pub fn client_builder(&self) -> http_client::ClientBuilder {
        http_client::Client::builder().webpki_roots(false).add_root_certificate_pem(self.pem().as_bytes())
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// A leaf certificate for `names` (DNS names or IP addresses).
    pub fn issue(&self, names: &[&str]) -> Issued {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        }
    }

    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.der()).unwrap();
        roots
    }
}

/// A rustls server config presenting `leaf`; when `client_ca` is given, client certificates
/// signed by it are required.
pub fn server_config(leaf: &Issued, client_ca: Option<&TestCa>) -> Arc<ServerConfig> {
    let builder =
        ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions().unwrap();
    let builder = match client_ca {
        Some(ca) => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(Arc::new(ca.roots()), provider()).build().unwrap(),
        ),
        None => builder.with_no_client_auth(),
    };
    let key = PrivateKeyDer::Pkcs8(leaf.key_der.clone().into());
    Arc::new(builder.with_single_cert(vec![leaf.cert_der.clone()], key).unwrap())
}

/// An HTTPS server on 127.0.0.1:0 answering every request with `response`, keeping connections
/// open; it reports the SNI name of each connection.
pub struct TlsServer {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    pub sni: Mutex<mpsc::Receiver<Option<String>>>,
}

impl TlsServer {
    pub fn start(config: Arc<ServerConfig>, response: &'static [u8]) -> TlsServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (acc, st) = (accepted.clone(), stop.clone());
        let (sni_tx, sni_rx) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            for _ in 0..200 {
                let Ok((tcp, _)) = listener.accept() else { break };
                if st.load(Ordering::SeqCst) {
                    break;
                }
                acc.fetch_add(1, Ordering::SeqCst);
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let config = config.clone();
                let sni_tx = sni_tx.clone();
                std::thread::spawn(move || serve(tcp, config, response, sni_tx));
            }
        });
        TlsServer { addr, accepted, stop, handle: Some(handle), sni: Mutex::new(sni_rx) }
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn next_sni(&self) -> Option<String> {
        self.sni.lock().unwrap().recv_timeout(Duration::from_secs(5)).unwrap()
    }
}

fn serve(
    mut tcp: TcpStream,
    config: Arc<ServerConfig>,
    response: &'static [u8],
    sni: mpsc::Sender<Option<String>>,
) {
    let Ok(mut conn) = ServerConnection::new(config) else { return };
    while conn.is_handshaking() {
        if conn.complete_io(&mut tcp).is_err() {
            return;
        }
    }
    let _ = sni.send(conn.server_name().map(str::to_string));
    let mut reader = BufReader::new(StreamOwned::new(conn, tcp));
    // Bounded: at most this many requests per connection.
    for _ in 0..10_000 {
        let mut saw_any = false;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" && saw_any {
                break;
            }
            saw_any = true;
        }
        let s = reader.get_mut();
        if s.write_all(response).and_then(|()| s.flush()).is_err() {
            return;
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// An HTTPS server on 127.0.0.1:0 for one connection per entry of `closes`: each reads a
/// request head and 4 KiB of its body, answers `answer` with the rest of the body unread, then
/// closes (`true`, which resets) or holds the connection open without reading for 15 s.
pub fn early_answer_server(
    config: Arc<ServerConfig>,
    answer: &'static [u8],
    closes: Vec<bool>,
) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        for close in closes {
            let (mut tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            // Like nginx (`tcp_nodelay on`): without it, the answer could wait behind the
            // unacknowledged session tickets and be lost in the reset of the close.
            tcp.set_nodelay(true).unwrap();
            let mut conn = ServerConnection::new(config.clone()).unwrap();
            while conn.is_handshaking() {
                conn.complete_io(&mut tcp).unwrap();
            }
            let mut tls = BufReader::new(StreamOwned::new(conn, tcp));
            // Bounded: a head of at most 200 lines.
            for _ in 0..200 {
                let mut line = String::new();
                if tls.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let _ = std::io::copy(&mut std::io::Read::take(&mut tls, 4096), &mut std::io::sink());
            let s = tls.get_mut();
            s.write_all(answer).unwrap();
            s.flush().unwrap();
            if close {
                s.conn.send_close_notify();
                let _ = s.flush();
            } else {
                let keep = s.sock.try_clone().unwrap();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(15));
                    drop(keep);
                });
            }
        }
    });
    (port, handle)
}
