//! HTTPS against an in-process rustls server with certificates from an rcgen CA.

mod client_common;

use std::sync::Arc;

use client_common::tls::{server_config, TestCa, TlsServer};
use http_client::{Client, Error, Method, Request};

const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello, tls!\n";

fn url(server: &TlsServer, host: &str) -> String {
    format!("https://{host}:{}/", server.addr.port())
}

#[test]
fn https_with_an_extra_root_and_connection_reuse() {
    let ca = TestCa::new("client test CA");
    let server = TlsServer::start(server_config(&ca.issue(&["localhost"]), None), HELLO);
    let client = ca.client_builder().build().unwrap();
    for _ in 0..3 {
        assert_eq!(client.get_text(url(&server, "localhost")).unwrap(), "hello, tls!\n");
    }
    assert_eq!(server.accepted(), 1);
    // SNI carries the host name.
    assert_eq!(server.next_sni().as_deref(), Some("localhost"));
}

#[test]
fn untrusted_or_misnamed_certificates_are_refused() {
    let ca = TestCa::new("client test CA");
    let server = TlsServer::start(server_config(&ca.issue(&["localhost"]), None), HELLO);
    // Default roots do not know the test CA.
    let err = Client::new().send(url(&server, "localhost")).unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err}");
    // Trusted CA, wrong name (127.0.0.1 is not in the certificate).
    let client = ca.client_builder().build().unwrap();
    let err = client.send(url(&server, "127.0.0.1")).unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err}");
}

#[test]
fn verification_can_be_turned_off_explicitly() {
    let ca = TestCa::new("unknown CA");
    let server = TlsServer::start(server_config(&ca.issue(&["localhost"]), None), HELLO);
    let client = Client::builder().danger_accept_invalid_certs(true).build().unwrap();
    assert_eq!(client.get_text(url(&server, "127.0.0.1")).unwrap(), "hello, tls!\n");
}

#[test]
fn per_request_tls_config_wins() {
    let ca = TestCa::new("request CA");
    let server = TlsServer::start(server_config(&ca.issue(&["localhost"]), None), HELLO);
    let config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(ca.roots())
            .with_no_client_auth();
    let client = Client::new();
    let req = Request::new(Method::Get, url(&server, "localhost")).with_tls_config(Arc::new(config));
    assert_eq!(client.send(req).unwrap().text().unwrap(), "hello, tls!\n");
    // The client's own configuration still does not trust the server.
    assert!(matches!(client.send(url(&server, "localhost")).unwrap_err(), Error::Tls(_)));
}

#[test]
fn client_certificates_from_pem() {
    let server_ca = TestCa::new("server CA");
    let client_ca = TestCa::new("client CA");
    let server = TlsServer::start(server_config(&server_ca.issue(&["localhost"]), Some(&client_ca)), HELLO);
    let dir = std::env::temp_dir().join(format!("http-client-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, server_ca.pem()).unwrap();
    let me = client_ca.issue(&["client.test"]);
    let (cert_file, key_file) = (dir.join("client.pem"), dir.join("client.key"));
    std::fs::write(&cert_file, &me.cert_pem).unwrap();
    std::fs::write(&key_file, &me.key_pem).unwrap();

    let with_cert = Client::builder()
        .webpki_roots(false)
        .add_root_certificate_file(&ca_file)
        .client_certificate_files(&cert_file, &key_file)
        .build()
        .unwrap();
    assert_eq!(with_cert.get_text(url(&server, "localhost")).unwrap(), "hello, tls!\n");

    let without = Client::builder().webpki_roots(false).add_root_certificate_file(&ca_file).build().unwrap();
    assert!(without.get_text(url(&server, "localhost")).is_err());

    let missing = Client::builder().add_root_certificate_file(dir.join("nope.pem")).build().unwrap_err();
    assert!(matches!(missing, Error::TlsConfig(_)), "{missing}");
    std::fs::write(dir.join("empty.pem"), "not pem").unwrap();
    let empty = Client::builder().add_root_certificate_file(dir.join("empty.pem")).build().unwrap_err();
    assert!(matches!(empty, Error::TlsConfig(_)), "{empty}");
    let _ = std::fs::remove_dir_all(&dir);
}
