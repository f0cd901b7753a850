//! The server's basics over loopback: resources, arguments, methods, keep-alive, pipelining.

mod server_support;

use http_toolkit::server::{Response, Server};
use http_toolkit::utils::Method;
use server_support::*;

fn hello(s: &Server) {
    s.add_resource(["/", "/index.html"], |_req, _args| Response::text("Hello, world!"));
}

#[test]
fn hello_world_on_both_paths() {
    let h = start(|b| b, hello);
    let mut c = Client::connect(addr(&h));
    for path in ["/", "/index.html"] {
        let r = c.get(path);
        assert_eq!(r.status(), 200);
        assert_eq!(r.text(), "Hello, world!");
        assert_eq!(r.header("content-length"), Some("13"));
        assert!(r.header("date").is_some());
        // The product, without a version to leak.
        assert_eq!(r.header("server"), Some("http-toolkit"));
    }
    assert_eq!(c.get("/missing").status(), 404);
    assert_eq!(h.current_request_count(), 3);
}

#[test]
fn the_server_field_is_the_name_given_and_absent_when_empty() {
    let named = start(|b| b.server_name("example/1.0"), hello);
    assert_eq!(Client::connect(addr(&named)).get("/").header("server"), Some("example/1.0"));
    let unnamed = start(|b| b.server_name(""), hello);
    let r = Client::connect(addr(&unnamed)).get("/");
    assert_eq!(r.status(), 200);
    assert_eq!(r.header("server"), None);
}

#[test]
fn query_and_form_arguments() {
    let h = start(
        |b| b,
        |s| {
            s.add_resource("/echo", |req, args| {
                let pairs: Vec<String> = args.iter().map(|(k, v)| format!("{k}={v}")).collect();
                Response::text(format!("{} {}", req.method(), pairs.join(",")))
            })
        },
    );
    let mut c = Client::connect(addr(&h));
    assert_eq!(c.get("/echo?a=1&b=caf%C3%A9+x").text(), "GET a=1,b=café x");
    c.send(b"POST /echo?q=1 HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\nname=a+b&z=");
    assert_eq!(c.read().text(), "POST q=1,name=a b,z=");
    // The same connection goes on.
    assert_eq!(c.get("/echo").text(), "GET ");
}

#[test]
fn pipelined_requests_answered_in_order() {
    let h =
        start(|b| b, |s| s.add_resource("/n", |req, _| Response::text(req.query().unwrap_or("").to_owned())));
    let mut c = Client::connect(addr(&h));
    let mut batch = Vec::new();
    for i in 0..20 {
        batch.extend_from_slice(format!("GET /n?{i} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    }
    c.send(&batch);
    for i in 0..20 {
        assert_eq!(c.read().text(), i.to_string());
    }
}

#[test]
fn long_pipelines_take_turns_and_stay_in_order() {
    let h = start(
        |b| b.threads(2).io_threads(1),
        |s| s.add_resource("/n", |req, _| Response::text(req.query().unwrap_or("").to_owned())),
    );
    let mut c = Client::connect(addr(&h));
    let mut other = Client::connect(addr(&h));
    let mut batch = Vec::new();
    for i in 0..500 {
        batch.extend_from_slice(format!("GET /n?{i} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    }
    c.send(&batch);
    assert_eq!(other.get("/n?x").text(), "x");
    for i in 0..500 {
        assert_eq!(c.read().text(), i.to_string());
    }
}

#[test]
fn keep_alive_rules() {
    let h = start(|b| b, hello);
    // HTTP/1.0 closes by default.
    let mut c = Client::connect(addr(&h));
    c.send(b"GET / HTTP/1.0\r\n\r\n");
    let r = c.read();
    assert_eq!(r.text(), "Hello, world!");
    assert!(c.is_closed());
    // HTTP/1.0 with keep-alive stays open.
    let mut c = Client::connect(addr(&h));
    c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let r = c.read();
    assert_eq!(r.header("connection"), Some("keep-alive"));
    c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(c.read().status(), 200);
    // HTTP/1.1 with Connection: close.
    let mut c = Client::connect(addr(&h));
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(c.read().header("connection"), Some("close"));
    assert!(c.is_closed());
}

#[test]
fn head_options_405_501() {
    let h = start(|b| b, hello);
    let mut c = Client::connect(addr(&h));
    c.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.try_read(&Method::Head).unwrap();
    assert_eq!((r.status(), r.header("content-length"), r.body.len()), (200, Some("13"), 0));
    c.send(b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.read();
    assert_eq!(r.status(), 204);
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    c.send(b"DELETE / HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.read();
    assert_eq!(r.status(), 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    c.send(b"BREW / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read().status(), 501);
    // Still usable after all of these.
    assert_eq!(c.get("/").text(), "Hello, world!");
}

#[test]
fn resources_change_while_running() {
    let h = start(|b| b, hello);
    let mut c = Client::connect(addr(&h));
    assert_eq!(c.get("/new").status(), 404);
    h.add_resource(["/new", "/other"], |_, _| Response::text("new"));
    assert_eq!(c.get("/new").text(), "new");
    assert!(h.find_resource("/other").is_some());
    assert_eq!(h.remove_resource(["/new", "/nothing"]), 1);
    assert_eq!(c.get("/new").status(), 404);
    assert_eq!(c.get("/other").text(), "new");
}
