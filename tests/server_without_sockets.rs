//! `http_server::test`: requests through a server's real table and engine without the
//! network: routes and their captures, content parsers, typed bodies, status handlers,
//! the fallback, responders, streams and framing.

use std::time::Duration;

use http_toolkit::server::{test, Event, HttpError, Response, Server, StreamOptions};
use http_toolkit::utils::{Method, Version};
use serde_json::{json, Value};

fn app() -> Server {
    let server = Server::builder().port(0).bind("127.0.0.1").build().unwrap();
    server.add_resource("/form", |req, args| {
        Response::text(format!("{} {}", req.method(), args.get("a").unwrap_or("-")))
    });
    server
        .route(Method::Get, "/users/{id}", |cx| -> Result<Response, HttpError> {
            match cx.captures().get("id") {
                Some("1") => Ok(Response::json(&json!({"id": 1, "name": "ann"}))),
                _ => Err(HttpError::not_found("no such user")),
            }
        })
        .unwrap();
    server
        .route(Method::Post, "/double", |cx| -> Result<Response, HttpError> {
            let v: Value = cx.json()?;
            let n = v["n"].as_i64().ok_or_else(|| HttpError::bad_request("no n"))?;
            Ok(Response::json(&json!({"n": n * 2})))
        })
        .unwrap();
    server
        .route(Method::Get, "/later", |cx| {
            let r = cx.responder();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                let _ = r.send(Response::text("from another thread"));
            });
            Response::later()
        })
        .unwrap();
    server
        .route(Method::Get, "/events", |cx| {
            if let Ok(events) = cx.responder().events_with(StreamOptions::new()) {
                std::thread::spawn(move || {
                    for i in 0..3 {
                        let _ = events.send(&Event::data(format!("e{i}")));
                    }
                });
            }
            Response::later()
        })
        .unwrap();
    server.set_status_handler(404, |cx, r| r.with_header("X-Path", cx.path()));
    server
}

#[test]
fn routes_parsers_and_typed_bodies() {
    let s = app();
    let r = test::get(&s, "/users/1");
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>(), json!({"id": 1, "name": "ann"}));
    let r = test::get(&s, "/users/2");
    assert_eq!(
        (r.status(), r.text().as_str(), r.header("x-path")),
        (404, "no such user\n", Some("/users/2"))
    );
    let r = test::request(&s, Method::Post, "/double").json(&json!({"n": 21})).send();
    assert_eq!(r.json::<Value>(), json!({"n": 42}));
    let r = test::request(&s, Method::Post, "/double").body("{}").header("Content-Type", "text/plain").send();
    assert_eq!(r.status(), 415);
    let r = test::request(&s, Method::Post, "/form").form(&[("a", "b c")]).send();
    assert_eq!(r.text(), "POST b c");
    assert_eq!(test::get(&s, "/form?a=q").text(), "GET q");
    // The server's own answers: a method not routed, a path not there.
    assert_eq!(test::request(&s, Method::Delete, "/users/1").send().status(), 405);
    assert_eq!(test::get(&s, "/nowhere").header("x-path"), Some("/nowhere"));
    // HEAD gets the head only; HTTP/1.0 gets a length, not chunks.
    let r = test::request(&s, Method::Head, "/users/1").send();
    assert_eq!((r.status(), r.body().len()), (200, 0));
    let r = test::request(&s, Method::Get, "/form").version(Version::Http10).send();
    assert_eq!(r.header("content-length"), Some("5"));
}

#[test]
fn responders_and_streams() {
    let s = app();
    assert_eq!(test::get(&s, "/later").text(), "from another thread");
    let r = test::get(&s, "/events");
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(r.text(), "data: e0\n\ndata: e1\n\ndata: e2\n\n");
    // A responder that never answers: the call times out.
    s.route(Method::Get, "/never", |cx| {
        std::mem::forget(cx.responder());
        Response::later()
    })
    .unwrap();
    let err =
        test::request(&s, Method::Get, "/never").timeout(Duration::from_millis(100)).try_send().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
}

#[test]
fn a_running_server_answers_both_ways() {
    let handle = app().spawn().unwrap();
    assert_eq!(test::get(&handle, "/users/1").status(), 200);
    let addr = handle.local_addr().socket_addr().unwrap();
    let got = http_toolkit::client::get_text(format!("http://{addr}/form?a=net")).unwrap();
    assert_eq!(got, "GET net");
    handle.shutdown();
}
