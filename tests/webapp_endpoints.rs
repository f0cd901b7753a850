//! The webapp example's endpoints over loopback, in-process, and the example binary as a user
//! starts it (`--port`, `PORT`, `--root`).

mod server_support;
#[allow(dead_code)]
#[path = "../examples/webapp.rs"]
mod webapp;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use http_toolkit::server::{Server, ServerHandle};
use http_toolkit::utils::Limits;
use serde_json::Value;
use server_support::{addr, example_binary, printed_port, raw, status_of, Client};

fn static_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join("static")
}

fn app(limits: Limits) -> ServerHandle {
    let server = Server::builder().port(0).bind("127.0.0.1").limits(limits).build().expect("bind");
    webapp::install(&server, &static_root()).expect("routes");
    server.spawn().expect("spawn")
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("JSON")
}

#[test]
fn pages_routes_and_404() {
    let h = app(Limits::default());
    let mut c = Client::connect(addr(&h));
    let r = c.get("/");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.text().contains("fetch(url)") && r.text().contains("/echo?from=page"));
    assert_eq!(c.get("/hello/world").text(), "Hello, world!");
    assert_eq!(c.get("/hello/J%C3%BCrgen%20K").text(), "Hello, Jürgen K!");
    let r = c.get("/files/style.css");
    assert_eq!((r.status(), r.header("content-type")), (200, Some("text/css; charset=utf-8")));
    assert_eq!(c.get("/files/index.html").text(), c.get("/").text());
    for path in ["/nowhere", "/hello", "/hello/a/b", "/files/missing.txt", "/files/../Cargo.toml"] {
        let r = c.get(path);
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.text().contains("Not here"), "{path}: {}", r.text());
    }
}

#[test]
fn echo_answers_get_and_post_with_one_handler() {
    let h = app(Limits::default());
    let mut c = Client::connect(addr(&h));
    let r = c.get("/echo?from=page&x=%C3%A9");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        json(&r.body),
        serde_json::json!({"method": "GET", "path": "/echo", "args": {"from": "page", "x": "é"}, "body": ""})
    );
    c.send(
        b"POST /echo?a=1 HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(
        json(&c.read().body),
        serde_json::json!({"method": "POST", "path": "/echo", "args": {"a": "1"}, "body": "hello"})
    );
    for m in ["PUT", "DELETE"] {
        c.send(format!("{m} /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n").as_bytes());
        let r = c.read();
        assert_eq!((r.status(), r.header("allow")), (405, Some("GET, HEAD, POST")), "{m}");
    }
}

#[test]
fn upload_and_json() {
    let h = app(Limits { max_body: 4096, ..Limits::default() });
    let mut c = Client::connect(addr(&h));
    let body = "--b0undary\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi there\r\n\
                --b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\
                Content-Type: application/octet-stream\r\n\r\n0123456789\r\n--b0undary--\r\n";
    c.send(
        format!(
            "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(
        json(&c.read().body),
        serde_json::json!([
            {"name": "note", "filename": null, "size": 8},
            {"name": "file", "filename": "a.bin", "size": 10}
        ])
    );
    let doc = r#"{"name":"x","list":[1,2.5,true,null],"nested":{"k":"v"}}"#;
    c.send(
        format!("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{doc}", doc.len())
            .as_bytes(),
    );
    let r = c.read();
    assert_eq!(json(&r.body), json(doc.as_bytes()));
    c.send(
        b"POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n{x}",
    );
    assert_eq!(c.read().status(), 400);
    // An upload larger than the limit.
    let big = format!(
        "--b0undary\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big\"\r\n\r\n{}\r\n--b0undary--\r\n",
        "x".repeat(10_000)
    );
    let reply = raw(
        addr(&h),
        format!(
            "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: {}\r\n\r\n{big}",
            big.len()
        )
        .as_bytes(),
    );
    assert_eq!(status_of(&reply), 413);
}

#[test]
fn later_and_stream_take_their_time() {
    let h = app(Limits::default());
    let mut c = Client::connect(addr(&h));
    let t0 = Instant::now();
    assert_eq!(c.get("/later").text(), "later");
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(90) && took < Duration::from_secs(5), "{took:?}");

    // The stream's lines arrive one by one, not all at the end.
    c.send(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    let t0 = Instant::now();
    let mut seen = String::new();
    let mut first_line_at = None;
    while !seen.contains("\r\n0\r\n\r\n") {
        let mut buf = [0u8; 256];
        let n = c.reader.read(&mut buf).expect("read");
        assert!(n > 0, "closed early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        if first_line_at.is_none() && seen.contains("line 1\n") {
            first_line_at = Some(t0.elapsed());
        }
        assert!(t0.elapsed() < Duration::from_secs(10));
    }
    let total = t0.elapsed();
    let first = first_line_at.expect("line 1");
    assert!(seen.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{seen}");
    for i in 1..=5 {
        assert!(seen.contains(&format!("line {i}\n")), "{seen}");
    }
    assert!(total >= Duration::from_millis(190), "{total:?}");
    assert!(total - first >= Duration::from_millis(150), "first {first:?}, total {total:?}");
    // Keep-alive continues.
    assert_eq!(c.get("/hello/again").text(), "Hello, again!");
}

#[test]
fn events_tick_from_the_producer_without_holding_workers() {
    // Two workers; twelve event streams stay open while other requests are served.
    let server = Server::builder().port(0).bind("127.0.0.1").threads(2).io_threads(1).build().expect("bind");
    webapp::install(&server, &static_root()).expect("routes");
    let h = server.spawn().expect("spawn");
    let mut streams: Vec<Client> = (0..12).map(|_| Client::connect(addr(&h))).collect();
    for c in streams.iter_mut() {
        c.send(b"GET /events HTTP/1.1\r\nHost: t\r\n\r\n");
    }
    assert_eq!(Client::connect(addr(&h)).get("/hello/you").text(), "Hello, you!");
    for c in streams.iter_mut() {
        let mut seen = String::new();
        let t0 = Instant::now();
        while !seen.contains("data: tick") {
            let mut buf = [0u8; 512];
            let n = c.reader.read(&mut buf).expect("read");
            assert!(n > 0, "closed early: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            assert!(t0.elapsed() < Duration::from_secs(10), "{seen}");
        }
        assert!(seen.to_ascii_lowercase().contains("content-type: text/event-stream"), "{seen}");
        assert!(seen.contains("data: connected\n\n"), "{seen}");
        assert!(seen.contains("\nid: "), "{seen}");
    }
}

#[test]
fn ws_echoes_over_our_client() {
    use std::io::Write;
    let h = app(Limits::default());
    let mut req = http_toolkit::client::Request::new(
        http_toolkit::utils::Method::Get,
        format!("http://{}/ws", addr(&h)),
    );
    for (k, v) in [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ] {
        req.headers_mut().append(k, v).unwrap();
    }
    let resp = http_toolkit::client::Client::new().send(req).expect("handshake");
    assert_eq!(resp.status(), 101);
    let mut s = resp.into_upgraded().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10)));
    // A masked text frame "hi" (RFC 6455 §5.7), and its unmasked echo.
    s.write_all(&[0x81, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x5f, 0x93]).unwrap();
    let mut back = [0u8; 4];
    s.read_exact(&mut back).unwrap();
    assert_eq!(back, [0x81, 0x02, b'h', b'i']);
    // A request that is not a WebSocket handshake.
    let mut c = Client::connect(addr(&h));
    c.send(b"GET /ws HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
    // No Sec-WebSocket-Version: 426, naming the version spoken (RFC 6455 §4.4).
    let refused = c.read();
    assert_eq!(refused.status(), 426);
    assert_eq!(refused.header("sec-websocket-version"), Some("13"));
}

fn webapp_binary() -> Option<PathBuf> {
    example_binary("webapp")
}

#[test]
fn the_binary_takes_port_and_root() {
    let Some(bin) = webapp_binary() else {
        eprintln!("*** SKIPPED: the webapp example binary is not built");
        return;
    };
    let root = std::env::temp_dir().join(format!("webapp-root-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), "custom root").unwrap();
    // PORT says one thing, the flag wins.
    let mut child = Command::new(bin)
        .args(["--port", "0", "--root"])
        .arg(&root)
        .env("PORT", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let port = printed_port(&mut child);
    let a = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut c = Client::connect(a);
    assert_eq!(c.get("/").text(), "custom root");
    assert_eq!(c.get("/hello/bin").text(), "Hello, bin!");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&root);
    let bad = Command::new(webapp_binary().unwrap()).args(["--port", "x"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
