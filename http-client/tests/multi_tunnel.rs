//! The one-thread interface (`Multi`) through an HTTP proxy that refuses the `CONNECT` tunnel:
//! the refusal page comes with the error with its framing undone, as from `Client::send`.
#![cfg(feature = "tls")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use http_client::{Client, Error, Proxy, ProxyPattern};

#[test]
fn a_chunked_refusal_page_comes_decoded() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let proxy = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        // Bounded by the read timeout and the head's size.
        while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
            let n = conn.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        conn.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\n\
              Transfer-Encoding: chunked\r\n\r\n5\r\nwho a\r\n7\r\nre you?\r\n0\r\n\r\n",
        )
        .unwrap();
        String::from_utf8(head).unwrap()
    });
    let client = Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&format!("127.0.0.1:{port}")).unwrap());
    let mut multi = client.multi().unwrap();
    multi.submit("https://example.com/");
    let (_, result) = multi.wait().expect("one request submitted");
    let err = result.unwrap_err();
    let Error::ProxyAuthRequired { ref headers, ref body, .. } = err else { panic!("{err:?}") };
    assert_eq!(headers.get("proxy-authenticate"), Some("Basic realm=\"corp\""));
    assert_eq!(body, b"who are you?");
    assert!(proxy.join().unwrap().starts_with("CONNECT example.com:443 HTTP/1.1\r\n"));
}
