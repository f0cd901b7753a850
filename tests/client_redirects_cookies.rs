//! Redirects (methods, bodies, credentials, limits) and the cookie jar.

mod client_common;

use std::sync::mpsc;

use client_common::{RawServer, Seen};
use http_client::{Client, Error, Method, Request};

/// A server that records every request and answers with `answer(seen)`.
fn recording(answer: impl Fn(&Seen) -> String + Send + Sync + 'static) -> (RawServer, mpsc::Receiver<Seen>) {
    RawServer::recording(answer)
}

fn redirect(status: u16, location: &str) -> String {
    format!("HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 5\r\n\r\nmoved")
}

fn ok(body: &str) -> String {
    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len())
}

#[test]
fn redirects_are_followed_on_one_connection() {
    let (server, seen) = recording(|s| match s.target.as_str() {
        "/a" => redirect(301, "/b"),
        "/b" => redirect(302, "c"),
        "/c" => redirect(307, "/final?x=1"),
        _ => ok(&format!("at {}", s.target)),
    });
    let client = Client::new();
    let resp = client.send(server.url("/a")).unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url(), server.url("/final?x=1"));
    assert_eq!(resp.text().unwrap(), "at /final?x=1");
    let targets: Vec<_> = seen.try_iter().map(|s| s.target).collect();
    assert_eq!(targets, ["/a", "/b", "/c", "/final?x=1"]);
    assert_eq!(server.accepted(), 1);
}

#[test]
fn method_rewrites_follow_browsers() {
    let (server, seen) = recording(|s| match s.target.as_str() {
        "/303" => redirect(303, "/dest"),
        "/301" => redirect(301, "/dest"),
        "/302" => redirect(302, "/dest"),
        "/307" => redirect(307, "/dest"),
        "/308" => redirect(308, "/dest"),
        _ => ok(&s.method),
    });
    let client = Client::new();
    let cases = [
        ("/303", Method::Post, "GET", false),
        ("/303", Method::Put, "GET", false),
        ("/301", Method::Post, "GET", false),
        ("/302", Method::Post, "GET", false),
        ("/302", Method::Put, "PUT", true),
        ("/307", Method::Post, "POST", true),
        ("/308", Method::Post, "POST", true),
    ];
    for (path, method, expect, keeps_body) in cases {
        let req = Request::new(method.clone(), server.url(path))
            .with_header("Content-Type", "text/plain")
            .unwrap()
            .with_body("payload");
        assert_eq!(client.send(req).unwrap().text().unwrap(), expect, "{path} {method}");
        let first = seen.recv().unwrap();
        assert_eq!(first.body, b"payload");
        let second = seen.recv().unwrap();
        assert_eq!(second.method, expect);
        if keeps_body {
            assert_eq!(second.body, b"payload", "{path} {method}");
            assert_eq!(second.header("content-type"), Some("text/plain"));
        } else {
            assert!(second.body.is_empty(), "{path} {method}");
            assert_eq!(second.header("content-type"), None);
            assert_eq!(second.header("content-length"), None);
        }
    }
}

#[test]
fn too_many_redirects_and_no_follow() {
    let (server, _seen) = recording(|_| redirect(302, "/loop"));
    let err = Client::new().send(server.url("/loop")).unwrap_err();
    assert!(matches!(err, Error::TooManyRedirects { max: 10 }), "{err}");
    let client = Client::builder().max_redirects(2).build().unwrap();
    assert!(matches!(client.send(server.url("/")).unwrap_err(), Error::TooManyRedirects { max: 2 }));
    let client = Client::builder().max_redirects(0).build().unwrap();
    let resp = client.send(server.url("/")).unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.header("location"), Some("/loop"));
}

#[test]
fn credentials_are_dropped_when_the_host_changes() {
    let (other, other_seen) = recording(|_| ok("other"));
    // The same machine under another name: `localhost` instead of 127.0.0.1.
    let other_url = format!("http://localhost:{}/landing", other.addr.port());
    let (server, seen) = recording(move |s| match s.target.as_str() {
        "/same" => redirect(302, "/here"),
        "/away" => redirect(302, &other_url),
        _ => ok("here"),
    });
    let client = Client::new();
    let with_creds = |path: &str| {
        Request::new(Method::Get, server.url(path))
            .with_header("Authorization", "Bearer secret")
            .unwrap()
            .with_header("Cookie", "session=1")
            .unwrap()
    };
    assert_eq!(client.send(with_creds("/same")).unwrap().text().unwrap(), "here");
    let _ = seen.recv().unwrap();
    let kept = seen.recv().unwrap();
    assert_eq!(kept.header("authorization"), Some("Bearer secret"));
    assert_eq!(kept.header("cookie"), Some("session=1"));

    assert_eq!(client.send(with_creds("/away")).unwrap().text().unwrap(), "other");
    let landed = other_seen.recv().unwrap();
    assert_eq!(landed.target, "/landing");
    assert_eq!(landed.header("authorization"), None);
    assert_eq!(landed.header("cookie"), None);
}

fn sorted(cookie_header: &str) -> Vec<String> {
    let mut v: Vec<String> = cookie_header.split("; ").map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn cookie_jar_keeps_and_sends_matching_cookies() {
    let (server, seen) = recording(|s| match s.target.as_str() {
        "/login" => "HTTP/1.1 302 Found\r\nLocation: /app/home\r\n\
                     Set-Cookie: session=abc; Path=/app; HttpOnly\r\n\
                     Set-Cookie: theme=dark\r\n\
                     Set-Cookie: token=s3cret; Secure\r\n\
                     Set-Cookie: old=1; Max-Age=0\r\n\
                     Content-Length: 0\r\n\r\n"
            .to_string(),
        _ => ok("page"),
    });
    let client = Client::new();
    assert_eq!(client.get_text(server.url("/login")).unwrap(), "page");
    let _login = seen.recv().unwrap();
    // The redirect target already gets the cookies set by the redirect.
    let home = seen.recv().unwrap();
    let cookie = home.header("cookie").unwrap().to_string();
    assert!(cookie.contains("session=abc") && cookie.contains("theme=dark"), "{cookie}");
    // Loopback is a secure context (as in browsers), so the Secure cookie goes too.
    assert!(cookie.contains("token=s3cret"), "{cookie}");
    assert!(!cookie.contains("old"), "expired cookie sent: {cookie}");
    // Path matching: /other gets theme but not session.
    client.get_text(server.url("/other")).unwrap();
    let other = seen.recv().unwrap();
    assert_eq!(sorted(other.header("cookie").unwrap()), ["theme=dark", "token=s3cret"]);
    // A request's own Cookie header is kept alongside the jar's.
    let req = Request::new(Method::Get, server.url("/x")).with_header("Cookie", "mine=1").unwrap();
    client.send(req).unwrap().text().unwrap();
    let mixed = seen.recv().unwrap().header("cookie").unwrap().to_string();
    assert!(mixed.starts_with("mine=1; "), "{mixed}");
    assert_eq!(sorted(&mixed), ["mine=1", "theme=dark", "token=s3cret"]);
    assert_eq!(
        sorted(&client.cookies_for(&server.url("/app/"))),
        ["session=abc", "theme=dark", "token=s3cret"]
    );
    // Not for another host.
    assert_eq!(client.cookies_for("http://example.com/app/"), "");
    client.clear_cookies();
    client.get_text(server.url("/other")).unwrap();
    assert_eq!(seen.recv().unwrap().header("cookie"), None);
}

#[test]
fn cookie_jar_can_be_switched_off() {
    let (server, seen) = recording(|s| match s.target.as_str() {
        "/set" => "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 0\r\n\r\n".to_string(),
        _ => ok("x"),
    });
    let client = Client::builder().cookies(false).build().unwrap();
    client.get_text(server.url("/set")).unwrap();
    client.get_text(server.url("/next")).unwrap();
    let _ = seen.recv().unwrap();
    assert_eq!(seen.recv().unwrap().header("cookie"), None);
}
