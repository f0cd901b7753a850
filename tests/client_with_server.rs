//! The client against this project's server, over loopback.

mod client_common;

use std::io::Read;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use client_common::tls::{server_config, TestCa};
use http_client::{Body, Client, Method, Request};
use http_server::{Response, Server, ServerHandle};

fn start(setup: impl FnOnce(&Server)) -> (ServerHandle, String) {
    let server = Server::builder().port(0).bind("127.0.0.1").build().unwrap();
    setup(&server);
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr().socket_addr().unwrap();
    (handle, format!("http://{addr}"))
}

fn routes(s: &Server) {
    s.add_resource(["/", "/index.html"], |_req, _args| Response::text("Hello, world!"));
    s.add_resource("/echo", |req, args| {
        let pairs: Vec<String> = args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Response::text(format!("{} {}", req.method(), pairs.join(",")))
    });
    s.add_resource("/moved", |_req, _args| Response::redirect(302, "/index.html"));
    s.add_resource("/big", |_req, _args| {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        // Unknown length: sent chunked.
        Response::stream(std::io::Cursor::new(data), None)
    });
    s.add_context_resource("/count", |ctx| {
        let n = ctx.read_body().map(|b| b.len()).unwrap_or(0);
        Response::text(n.to_string())
    });
    s.add_resource("/sleep", |req, _args| {
        let ms: u64 = req.query().and_then(|q| q.parse().ok()).unwrap_or(0).min(2000);
        std::thread::sleep(Duration::from_millis(ms));
        Response::text(format!("slept {ms}"))
    });
}

#[test]
fn get_post_and_redirects_against_our_server() {
    let (handle, base) = start(routes);
    let client = Client::new();
    assert_eq!(client.get_text(format!("{base}/")).unwrap(), "Hello, world!");
    assert_eq!(client.get_text(format!("{base}/echo?a=1")).unwrap(), "GET a=1");
    assert_eq!(
        client.post_form(format!("{base}/echo"), &[("name", "a b"), ("x", "&")]).unwrap(),
        "POST name=a b,x=&"
    );
    let resp = client.send(format!("{base}/moved")).unwrap();
    assert_eq!(resp.url(), format!("{base}/index.html"));
    assert_eq!(resp.text().unwrap(), "Hello, world!");
    let head = client.send(Request::new(Method::Head, format!("{base}/"))).unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.is_complete());
    assert_eq!(head.header("content-length"), Some("13"));
    drop(head);
    assert_eq!(client.send(format!("{base}/missing")).unwrap().status(), 404);
    // All of it over one kept-alive connection.
    assert_eq!(client.idle_connections(), 1);
    handle.shutdown();
}

#[test]
fn streamed_bodies_both_ways() {
    let (handle, base) = start(routes);
    let client = Client::new();
    let mut resp = client.send(format!("{base}/big")).unwrap();
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    let mut body = Vec::new();
    resp.read_to_end(&mut body).unwrap();
    assert_eq!(body.len(), 300_000);
    assert!(body.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    assert!(resp.is_complete());
    assert_eq!(client.idle_connections(), 1);

    let upload = Body::stream(std::io::repeat(b'z').take(1_000_000), None);
    let resp = client.request(Method::Post, format!("{base}/count")).body(upload).send().unwrap();
    assert_eq!(resp.text().unwrap(), "1000000");
    let upload = Body::stream(std::io::repeat(b'z').take(12_345), Some(12_345));
    assert_eq!(
        client.request(Method::Post, format!("{base}/count")).body(upload).send().unwrap().text().unwrap(),
        "12345"
    );
    handle.shutdown();
}

#[test]
fn requests_from_threads_run_at_once() {
    let (handle, base) = start(routes);
    let client = Client::new();
    let start = Instant::now();
    let (tx, rx) = mpsc::channel();
    for ms in [600u64, 200, 400] {
        let (client, tx, url) = (client.clone(), tx.clone(), format!("{base}/sleep?{ms}"));
        std::thread::spawn(move || {
            let text = client.get_text(url.as_str());
            let _ = tx.send((ms, text, start.elapsed()));
        });
    }
    drop(tx);
    let done: Vec<_> = rx.iter().collect();
    let order: Vec<u64> = done.iter().map(|(ms, _, _)| *ms).collect();
    assert_eq!(order, [200, 400, 600]);
    for (ms, text, _) in &done {
        assert_eq!(text.as_ref().unwrap(), &format!("slept {ms}"));
    }
    let total = start.elapsed();
    assert!(total < Duration::from_millis(1100), "requests did not overlap: {total:?}");
    handle.shutdown();
}

#[test]
fn https_against_our_server() {
    let ca = TestCa::new("server test CA");
    let config = server_config(&ca.issue(&["localhost"]), None);
    let server = Server::builder().port(0).bind("127.0.0.1").tls(config).build().unwrap();
    routes(&server);
    let handle = server.spawn().unwrap();
    let port = handle.local_addr().socket_addr().unwrap().port();
    let client = ca.client_builder().build().unwrap();
    for _ in 0..3 {
        assert_eq!(client.get_text(format!("https://localhost:{port}/")).unwrap(), "Hello, world!");
    }
    assert_eq!(
        client.post_form(format!("https://localhost:{port}/echo"), &[("k", "v")]).unwrap(),
        "POST k=v"
    );
    assert_eq!(client.idle_connections(), 1);
    handle.shutdown();
}

#[test]
fn many_threads_share_one_client_against_our_server() {
    let (handle, base) = start(routes);
    let client = Client::builder().max_idle_per_host(16).build().unwrap();
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let (client, base) = (client.clone(), base.clone());
            std::thread::spawn(move || {
                for i in 0..100 {
                    let got = client.get_text(format!("{base}/echo?t={t}&i={i}")).unwrap();
                    assert_eq!(got, format!("GET t={t},i={i}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(client.idle_connections() <= 16);
    handle.shutdown();
}
