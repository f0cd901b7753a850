//! Header names on the wire, over loopback sockets: a handler's go out as it wrote them
//! (`X-Trace-ID`, `x-lower`), the server's own in Title-Case (`Content-Length`, `Allow`,
//! `ETag`, `Retry-After`, the CORS fields, a stream's `Cache-Control`, trailers), as curl
//! shows them.

mod programs;
mod server_support;

use std::process::Command;

use http_toolkit::server::{Cors, Event, RequestId, Response, ServerHandle};
use http_toolkit::utils::Method;
use server_support::{addr, raw};

fn server(dir: &std::path::Path) -> ServerHandle {
    server_support::start(
        |b| b,
        |s| {
            s.route(Method::Get, "/mixed", |_cx| {
                Response::text("x")
                    .with_header("X-Trace-ID", "7")
                    .with_header("x-lower", "1")
                    .with_header("ETAG", "\"e\"")
            })
            .unwrap();
            s.route(Method::Get, "/trailers", |_cx| {
                Response::from_writer(|w| w.write_all(b"body")).with_trailer("Server-Timing", "db;dur=1")
            })
            .unwrap();
            s.route(Method::Get, "/events", |cx| {
                if let Ok(events) = cx.responder().events() {
                    let _ = events.try_send(&Event::data("one"));
                }
                Response::later()
            })
            .unwrap();
            s.serve_dir("/files", dir).unwrap();
            s.wrap_with(RequestId::new());
            s.wrap_with(Cors::new().allow_origin("http://app.test").allow_credentials(true));
        },
    )
}

/// The field names of a raw response's head, in order.
fn names(raw: &str) -> Vec<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    head.lines().skip(1).filter_map(|l| l.split_once(':')).map(|(n, _)| n.to_owned()).collect()
}

/// True for a Title-Case name: each `-`-separated word starts upper-case (`ETag` and
/// `WWW-Authenticate` are Title-Case too).
fn title_case(name: &str) -> bool {
    name.split('-').all(|w| w.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
}

fn dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("header-case-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), "hello").unwrap();
    dir
}

#[test]
fn names_go_out_as_written_and_the_servers_own_in_title_case() {
    let h = server(&dir());
    let a = addr(&h);
    let get = |path: &str, extra: &str| {
        raw(a, format!("GET {path} HTTP/1.1\r\nHost: t\r\nOrigin: http://app.test\r\n{extra}Connection: close\r\n\r\n").as_bytes())
    };
    let out = get("/mixed", "");
    let n = names(&out);
    for want in
        ["X-Trace-ID", "x-lower", "ETAG", "Content-Type", "Content-Length", "Date", "Server", "Connection"]
    {
        assert!(n.iter().any(|x| x == want), "{want} missing: {out}");
    }
    // The request id layer sets its field again: the name as the layer writes it.
    assert!(n.iter().any(|x| x == "X-Request-Id"), "{out}");
    assert!(n.iter().any(|x| x == "Access-Control-Allow-Origin"), "{out}");

    // Every name the server writes itself, in every kind of answer.
    let answers = [
        get("/nowhere", ""),
        raw(a, b"DELETE /mixed HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
        get("/files/a.txt", ""),
        get("/files/a.txt", "Range: bytes=1-2\r\n"),
        get("/files", ""),
        get("/trailers", ""),
        get("/events", ""),
        raw(a, b"OPTIONS /mixed HTTP/1.1\r\nHost: t\r\nOrigin: http://app.test\r\nAccess-Control-Request-Method: PUT\r\nConnection: close\r\n\r\n"),
    ];
    for out in &answers {
        let n = names(out);
        assert!(n.len() >= 3, "{out}");
        for name in n.iter().filter(|x| !["X-Trace-ID", "x-lower", "ETAG"].contains(&x.as_str())) {
            assert!(title_case(name), "{name} in {out}");
        }
    }
    let trailers = &answers[5];
    assert!(trailers.contains("\r\nTrailer: Server-Timing\r\n"), "{trailers}");
    assert!(trailers.contains("\r\nServer-Timing: db;dur=1\r\n"), "{trailers}");
    assert!(answers[1].contains("\r\nAllow: "), "{}", answers[1]);
    assert!(answers[3].contains("\r\nContent-Range: bytes 1-2/5\r\n"), "{}", answers[3]);
    h.shutdown();
}

#[test]
fn curl_shows_the_names_as_sent() {
    let Some(curl) = programs::require("curl_shows_the_names_as_sent", "curl", "apt-get install curl") else {
        return;
    };
    let h = server(&dir());
    let url = format!("http://{}/mixed", addr(&h));
    let out = Command::new(curl).args(["-s", "-i", "--max-time", "10", &url]).output().expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    for line in
        ["X-Trace-ID: 7", "x-lower: 1", "Content-Length: 1", "Content-Type: text/plain; charset=utf-8"]
    {
        assert!(text.contains(&format!("\r\n{line}\r\n")), "{line}: {text}");
    }
    h.shutdown();
}
