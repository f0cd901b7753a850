//! The client's request builder (`client.get(url).header(..).query(..)...send()`), error
//! statuses as responses, `error_for_status`, typed JSON bodies both ways, and what errors
//! answer (`is_timeout`, `is_connect`, `status`, `url`): against raw loopback servers that
//! record what arrived, and against this project's server.

mod client_common;

use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use client_common::{RawServer, Seen};
use http_client::{Client, Error, Method};
use http_server::{HttpError, Response, Server, ServerHandle};
use serde::{Deserialize, Serialize};

/// A raw server that answers every request with `200 ok` and hands what it saw to the test.
fn recorder() -> (RawServer, mpsc::Receiver<Seen>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = RawServer::start(move |mut peer| {
        for _ in 0..100 {
            let Some(seen) = peer.read_request() else { break };
            let _ = tx.lock().unwrap().send(seen);
            if !peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") {
                break;
            }
        }
    });
    (server, rx)
}

fn seen(rx: &mpsc::Receiver<Seen>) -> Seen {
    rx.recv_timeout(Duration::from_secs(10)).expect("the server saw a request")
}

#[test]
fn every_method_goes_out_with_its_headers_query_and_credentials() {
    let (server, rx) = recorder();
    let client = Client::new();
    let url = server.url("/p?x=1");
    let builders = [
        (client.get(&url), "GET"),
        (client.post(&url), "POST"),
        (client.put(&url), "PUT"),
        (client.delete(&url), "DELETE"),
        (client.head(&url), "HEAD"),
        (client.patch(&url), "PATCH"),
        (client.request(Method::Options, url), "OPTIONS"),
    ];
    for (builder, method) in builders {
        let resp = builder
            .header("X-One", "1")
            .header("X-One", "2")
            .query(&[("q", "a b&c"), ("é", "=")])
            .bearer_auth("t0ken")
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        let got = seen(&rx);
        assert_eq!(got.method, method);
        assert_eq!(got.target, "/p?x=1&q=a+b%26c&%C3%A9=%3D");
        let ones: Vec<&str> = got
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("x-one"))
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(ones, ["1", "2"], "{method}");
        assert_eq!(got.header("authorization"), Some("Bearer t0ken"));
    }
    client.get(server.url("/")).basic_auth("Aladdin", "open sesame").send().unwrap();
    assert_eq!(seen(&rx).header("authorization"), Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
    // The free function builds on the default client.
    assert_eq!(http_client::get(server.url("/free")).send().unwrap().text().unwrap(), "ok");
    assert_eq!(seen(&rx).target, "/free");
}

#[test]
fn bodies_from_bytes_forms_and_json() {
    #[derive(Serialize)]
    struct Note<'a> {
        title: &'a str,
        stars: u8,
    }
    let (server, rx) = recorder();
    let client = Client::new();
    client.put(server.url("/b")).body(vec![1u8, 2, 3]).send().unwrap();
    let got = seen(&rx);
    assert_eq!((got.body.as_slice(), got.header("content-length")), (&[1u8, 2, 3][..], Some("3")));

    client.post(server.url("/f")).form(&[("name", "a b"), ("x", "&")]).send().unwrap();
    let got = seen(&rx);
    assert_eq!(got.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(got.body, b"name=a+b&x=%26");

    client.post(server.url("/j")).json(&Note { title: "egg \"1\"", stars: 5 }).send().unwrap();
    let got = seen(&rx);
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.body, br#"{"title":"egg \"1\"","stars":5}"#);

    // A type of the program's own is kept.
    client
        .post(server.url("/ld"))
        .header("Content-Type", "application/ld+json")
        .json(&[1, 2])
        .send()
        .unwrap();
    let got = seen(&rx);
    assert_eq!(
        (got.header("content-type"), got.body.as_slice()),
        (Some("application/ld+json"), &b"[1,2]"[..])
    );

    // A value serde cannot write as JSON fails at `send`, and nothing goes out.
    let mut bad = std::collections::BTreeMap::new();
    bad.insert((1, 2), "a key that is not a string");
    let err = client.post(server.url("/never")).json(&bad).send().unwrap_err();
    assert!(matches!(err, Error::Json(_)), "{err:?}");
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Note {
    title: String,
    stars: u8,
}

fn our_server() -> (ServerHandle, String) {
    let server = Server::builder().port(0).bind("127.0.0.1").build().unwrap();
    server
        .route(Method::Post, "/notes", |cx| -> Result<Response, HttpError> {
            let mut note: Note = cx.json()?;
            note.stars += 1;
            Ok(Response::json(&note).with_status(201))
        })
        .unwrap();
    server.add_resource("/actor", |_req, _args| {
        Response::text(r#"{"title":"actor","stars":3}"#)
            .with_header("Content-Type", "application/activity+json")
    });
    server.add_resource("/page", |_req, _args| Response::html("<h1>not JSON</h1>"));
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr().socket_addr().unwrap();
    (handle, format!("http://{addr}"))
}

#[test]
fn typed_json_round_trip_with_our_server() {
    let (handle, base) = our_server();
    let client = Client::new();
    let sent = Note { title: "egg".into(), stars: 4 };
    let resp = client.post(format!("{base}/notes")).json(&sent).send().unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.json::<Note>().unwrap(), Note { title: "egg".into(), stars: 5 });

    // `+json` types are JSON too.
    let actor: Note = client.get(format!("{base}/actor")).send().unwrap().json().unwrap();
    assert_eq!(actor, Note { title: "actor".into(), stars: 3 });

    // An HTML page is refused by its type, not reported as a syntax error.
    let err = client.get(format!("{base}/page")).send().unwrap().json::<Note>().unwrap_err();
    assert!(
        matches!(&err, Error::NotJson { content_type } if content_type.starts_with("text/html")),
        "{err:?}"
    );

    // A JSON body of the wrong shape is a JSON error.
    let err = client.post(format!("{base}/notes")).json(&sent).send().unwrap().json::<Vec<u8>>().unwrap_err();
    assert!(matches!(err, Error::Json(_)), "{err:?}");

    // The server's 400 for a body that is not a Note is a response, as every status is.
    let resp = client.post(format!("{base}/notes")).json(&[1, 2]).send().unwrap();
    assert_eq!(resp.status(), 400);
    handle.shutdown();
}

#[test]
fn error_statuses_are_responses_until_asked_otherwise() {
    let server = RawServer::fixed(b"HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\nmissing");
    let client = Client::new();
    let resp = client.get(server.url("/gone")).send().unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.text().unwrap(), "missing");

    let url = server.url("/gone").replace("http://", "http://user:secret@");
    let err = client.get(&url).send().unwrap().error_for_status().unwrap_err();
    assert!(matches!(err, Error::Status { status: 404, .. }), "{err:?}");
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.url(), Some(server.url("/gone").as_str()), "credentials are not shown");
    assert!(!err.to_string().contains("secret"), "{err}");
    assert!(!err.is_timeout() && !err.is_connect());

    // The body helper keeps the egg's `http:GET` shape: the body, an error for 4xx.
    let err = client.get_text(server.url("/gone")).unwrap_err();
    assert_eq!(err.status(), Some(404));

    let ok = RawServer::fixed(b"HTTP/1.1 204 No Content\r\n\r\n");
    assert_eq!(client.get(ok.url("/")).send().unwrap().error_for_status().unwrap().status(), 204);
}

#[test]
fn a_per_request_timeout_and_errors_that_say_what_they_are() {
    // A server that reads the request and never answers (until the test ends).
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    let server = RawServer::start(move |mut peer| {
        let _ = peer.read_request();
        let _ = release_rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
    });
    let client = Client::new();
    let started = Instant::now();
    let err = client.get(server.url("/slow")).timeout(Duration::from_millis(200)).send().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(!err.is_connect());
    assert_eq!(err.status(), None);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    drop(release_tx);

    // Nothing listens on a port that was just freed: a connect error.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = client.get(format!("http://127.0.0.1:{port}/")).send().unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(!err.is_timeout());

    let err = client.get("ftp://example.com/").send().unwrap_err();
    assert!(matches!(err, Error::UnsupportedScheme(_)), "{err:?}");
    let err = client.get("http://exa mple.com/").send().unwrap_err();
    assert!(err.url().is_some(), "{err:?}");
}

#[test]
fn a_json_body_is_read_within_the_body_cap() {
    let server = RawServer::fixed(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n[1,2,3,4,5,6,7,8,9 ]",
    );
    let limits = http_client::Limits { max_body: 19, ..Default::default() };
    let small = Client::builder().limits(limits).build().unwrap();
    let err = small.get(server.url("/")).send().unwrap().json::<Vec<u8>>().unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 19 }), "{err:?}");
    let all: Vec<u8> = Client::new().get(server.url("/")).send().unwrap().json().unwrap();
    assert_eq!(all, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
}
