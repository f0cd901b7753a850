//! TLS the short way: a certificate and key from PEM files (`tls_pem`), what a handler learns
//! of the connection (`is_tls`, the client's certificates), and `url()` naming the scheme.

mod client_common;

use std::sync::Arc;

use client_common::tls::{server_config, TestCa};
use http_toolkit::client::Client;
use http_toolkit::server::{Response, Server};

fn files(name: &str) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("tls-pem-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (cert, key, ck.cert.pem())
}

#[test]
fn pem_files_serve_https_and_handlers_know_it() {
    let (cert, key, pem) = files("ok");
    let server = Server::builder().port(0).bind("127.0.0.1").tls_pem(&cert, &key).unwrap().build().unwrap();
    server.add_context_resource("/", |cx| {
        Response::text(format!("tls={} certs={}", cx.is_tls(), cx.peer_certificates().map_or(0, |c| c.len())))
    });
    let handle = server.spawn().unwrap();
    let port = handle.local_addr().port().unwrap();
    assert_eq!(handle.url(), format!("https://127.0.0.1:{port}"));
    let client =
        Client::builder().webpki_roots(false).add_root_certificate_pem(pem.as_bytes()).build().unwrap();
    let resp = client.send(format!("https://localhost:{port}/")).unwrap();
    assert_eq!(resp.text().unwrap(), "tls=true certs=0");
    handle.shutdown();
    let plain = Server::builder().port(0).bind("127.0.0.1").build().unwrap();
    plain.add_context_resource("/", |cx| Response::text(format!("tls={}", cx.is_tls())));
    let plain = plain.spawn().unwrap();
    assert!(plain.url().starts_with("http://127.0.0.1:"));
    assert_eq!(client.send(plain.url() + "/").unwrap().text().unwrap(), "tls=false");
}

#[test]
fn a_handler_sees_the_client_certificate() {
    let ca = TestCa::new("server CA");
    let client_ca = TestCa::new("client CA");
    let config: Arc<rustls::ServerConfig> = server_config(&ca.issue(&["localhost"]), Some(&client_ca));
    let server = Server::builder().port(0).bind("127.0.0.1").tls(config).build().unwrap();
    server.add_context_resource("/", |cx| {
        let chain = cx.peer_certificates().unwrap_or_default();
        Response::text(format!("{} {}", chain.len(), chain.first().map_or(0, |c| c.len())))
    });
    let handle = server.spawn().unwrap();
    let me = client_ca.issue(&["client.example"]);
    let client = ca
        .client_builder()
        .client_certificate_pem(me.cert_pem.as_bytes(), me.key_pem.as_bytes())
        .build()
        .unwrap();
    let port = handle.local_addr().port().unwrap();
    let text = client.send(format!("https://localhost:{port}/")).unwrap().text().unwrap();
    assert_eq!(text, format!("1 {}", me.cert_der.len()));
}

#[test]
fn bad_pem_files_are_named_in_the_error() {
    let (cert, key, _) = files("bad");
    let missing = cert.with_file_name("missing.pem");
    let e = Server::builder().port(0).tls_pem(&missing, &key).err().unwrap();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    assert!(e.to_string().contains("missing.pem"), "{e}");
    // A key where the certificate should be.
    let e = Server::builder().port(0).tls_pem(&key, &key).err().unwrap();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    assert!(e.to_string().contains("key.pem") && e.to_string().contains("no certificate"), "{e}");
    // A certificate where the key should be.
    let e = Server::builder().port(0).tls_pem(&cert, &cert).err().unwrap();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}");
}
