//! The client trusting the system's certificate store (feature `native-roots` of
//! http-client, on for these tests): a client builds from the machine's store, and a CA put
//! into the store (here through `SSL_CERT_FILE`, which the store's reader honours on Unix)
//! makes a server it signed trusted, with the webpki roots and extra roots off.
//!
//! One test in this binary: it sets an environment variable for the whole process.

mod client_common;

use client_common::tls::{server_config, TestCa, TlsServer};
use http_client::{Client, Error};

const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello, tls!\n";

#[test]
fn the_system_store_is_trusted_when_asked() {
    let ca = TestCa::new("system store test CA");
    let server = TlsServer::start(server_config(&ca.issue(&["localhost"]), None), HELLO);
    let url = format!("https://localhost:{}/", server.addr.port());

    // The machine's own store (/etc/ssl/certs, from Debian's ca-certificates, which .ci/run
    // installs) builds, beside the webpki roots and alone; it does not know the test CA.
    let system = Client::builder().native_roots(true).build().unwrap();
    Client::builder().webpki_roots(false).native_roots(true).build().unwrap();
    assert!(matches!(system.send(url.as_str()).unwrap_err(), Error::Tls(_)));

    // A store that holds the test CA: the server it signed is trusted.
    let dir = std::env::temp_dir().join(format!("http-toolkit-native-roots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ca.pem");
    std::fs::write(&file, ca.pem()).unwrap();
    std::env::set_var("SSL_CERT_FILE", &file);
    std::env::set_var("SSL_CERT_DIR", &dir);
    let native = Client::builder().webpki_roots(false).native_roots(true).build();
    std::env::remove_var("SSL_CERT_FILE");
    std::env::remove_var("SSL_CERT_DIR");
    let _ = std::fs::remove_dir_all(&dir);
    let native = native.unwrap();
    assert_eq!(native.get_text(url.as_str()).unwrap(), "hello, tls!\n");

    // An empty store is an error when the client is built, not a client that trusts nothing.
    let empty = std::env::temp_dir().join(format!("http-toolkit-native-roots-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("none.pem"), "").unwrap();
    std::env::set_var("SSL_CERT_FILE", empty.join("none.pem"));
    std::env::set_var("SSL_CERT_DIR", &empty);
    let err = Client::builder().webpki_roots(false).native_roots(true).build().unwrap_err();
    std::env::remove_var("SSL_CERT_FILE");
    std::env::remove_var("SSL_CERT_DIR");
    let _ = std::fs::remove_dir_all(&empty);
    assert!(matches!(&err, Error::TlsConfig(m) if m.contains("system")), "{err}");
}
