//! Hello world over HTTPS on hyper 1.x (HTTP/1.1 only, keep-alive on) and tokio-rustls, with
//! tokio's multi-threaded runtime as `hyper_hello` (one worker per allowed CPU): the same body
//! and `Content-Type` as the `tls` example, which `bench/tls.py` measures it beside.
//!
//! `hyper_tls_hello [--port N] CERT.pem KEY.pem` (port 4443 by default, `PORT` also sets it):
//! the certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or SEC1) from PEM
//! files, the arguments the `tls` example takes.
//!
//! rustls is set up as the `tls` example's server sets it up: the `ring` provider, TLS 1.2
//! and 1.3, ALPN `http/1.1`, and session resumption as rustls users enable it: TLS 1.2 session
//! IDs in a `ServerSessionMemoryCache` of 256 (rustls's default size) and tickets (TLS 1.2
//! tickets and TLS 1.3 PSKs, two sent after each full TLS 1.3 handshake) from ring's
//! `Ticketer`. A handshake that fails, a client gone mid-handshake included, drops the
//! connection silently.
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut r = Response::new(Full::new(Bytes::from_static(b"<h1>Hello, world!</h1>")));
    r.headers_mut().insert("content-type", "text/html; charset=utf-8".parse().unwrap());
    Ok(r)
}

fn fail(what: &str) -> ! {
    eprintln!("hyper_tls_hello: {what}");
    std::process::exit(1);
}

/// The port and the certificate and key files from the command line.
fn options() -> (u16, PathBuf, PathBuf) {
    const USAGE: &str = "usage: hyper_tls_hello [--port N] CERT.pem KEY.pem";
    let mut port = std::env::var("PORT").ok();
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = Some(args.next().unwrap_or_else(|| fail(USAGE))),
            other if other.starts_with('-') => fail(USAGE),
            file => files.push(PathBuf::from(file)),
        }
    }
    let port = port.map_or(4443, |p| p.parse().unwrap_or_else(|_| fail(&format!("not a port: {p:?}"))));
    match <[PathBuf; 2]>::try_from(files) {
        Ok([cert, key]) => (port, cert, key),
        Err(_) => fail(USAGE),
    }
}

fn tls_config(cert: &PathBuf, key: &PathBuf) -> rustls::ServerConfig {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .unwrap_or_else(|e| fail(&format!("{}: {e:?}", cert.display())));
    let key =
        PrivateKeyDer::from_pem_file(key).unwrap_or_else(|e| fail(&format!("{}: {e:?}", key.display())));
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
            .unwrap_or_else(|e| fail(&format!("the certificate and key: {e}")));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(256);
    config.ticketer =
        rustls::crypto::ring::Ticketer::new().unwrap_or_else(|e| fail(&format!("ticketer: {e}")));
    config
}

#[tokio::main]
async fn main() {
    let (port, cert, key) = options();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(&cert, &key)));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| fail(&format!("port {port}: {e}")));
    println!("hyper (tokio-rustls) listening on https://127.0.0.1:{port}/");
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else { return };
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .pipeline_flush(true)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), hyper::service::service_fn(hello))
                .await;
        });
    }
}
