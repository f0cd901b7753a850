//! The server behind a real reverse proxy: nginx (Debian's package) forwards to it over kept-alive
//! upstream connections, and our client talks to nginx. This is how many small services are
//! deployed; it checks that what nginx sends (HTTP/1.1 upstream keep-alive, `Connection: ""`,
//! buffered uploads, chunked answers) is served correctly and that upstream connections are reused.

mod nginx_support;
mod server_support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_toolkit::client::Client;
use http_toolkit::server::{PeerAddr, Response};
use http_toolkit::utils::Method;
use nginx_support::Nginx;

/// nginx proxying to `upstream` over kept-alive upstream connections.
fn nginx(upstream: std::net::SocketAddr) -> Option<Nginx> {
    Nginx::start("proxy", 256, "reverse-proxy interop", |port| {
        format!(
            "client_max_body_size 8m;\n\
             upstream app {{ server {upstream}; keepalive 8; }}\n\
             server {{\n    listen 127.0.0.1:{port};\n\
                 location / {{\n      proxy_pass http://app;\n      proxy_http_version 1.1;\n\
                   proxy_set_header Connection \"\";\n      proxy_set_header Host $host;\n\
                   proxy_buffering off;\n    }}\n  }}\n"
        )
    })
}

#[test]
fn served_through_nginx_with_upstream_keep_alive() {
    let peers: Arc<Mutex<HashSet<u16>>> = Arc::default();
    let seen = peers.clone();
    let server = server_support::start(
        |b| b,
        move |s| {
            s.add_resource("/hello", |_req, _args| Response::text("Hello, world!"));
            s.add_context_resource("/upload", |cx| match cx.read_body() {
                Ok(body) => Response::text(format!(
                    "{} bytes, sum {}",
                    body.len(),
                    body.iter().map(|&b| b as u64).sum::<u64>()
                )),
                Err(e) => cx.error_response(e.status(), "bad body"),
            });
            s.add_resource("/stream", |_req, _args| {
                Response::from_writer(|w| {
                    for i in 1..=5 {
                        writeln!(w, "line {i}")?;
                        w.flush()?;
                    }
                    Ok(())
                })
            });
            s.add_resource("/panic", |_req, _args| -> Response { panic!("handler failure behind a proxy") });
            s.route(Method::Get, "/hello/{name}", |cx| {
                Response::text(format!("Hello, {}!", cx.param("name").unwrap_or_default()))
            })
            .unwrap();
            s.set_log_hook(move |rec| {
                if let PeerAddr::Ip(a) = rec.peer {
                    seen.lock().unwrap().insert(a.port());
                }
            });
        },
    );
    let Some(nginx) = nginx(server_support::addr(&server)) else { return };
    let client = Client::builder().timeout(Duration::from_secs(20)).build().unwrap();

    // Plain requests, many of them: nginx keeps its upstream connections alive.
    for _ in 0..60 {
        assert_eq!(client.get_text(nginx.url("/hello")).unwrap(), "Hello, world!");
    }
    assert_eq!(client.get_text(nginx.url("/hello/caf%C3%A9")).unwrap(), "Hello, café!");
    let upstream_connections = peers.lock().unwrap().len();
    assert!(
        (1..=8).contains(&upstream_connections),
        "61 requests arrived over {upstream_connections} upstream connections"
    );

    // A 3 MiB upload, which nginx buffers and forwards with a Content-Length.
    let body: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let sum: u64 = body.iter().map(|&b| b as u64).sum();
    let resp = client.request(Method::Post, nginx.url("/upload")).body(body).send().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().unwrap(), format!("{} bytes, sum {sum}", 3 * 1024 * 1024));

    // A chunked answer streamed through (proxy_buffering off).
    let resp = client.send(nginx.url("/stream")).unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().unwrap(), "line 1\nline 2\nline 3\nline 4\nline 5\n");

    // A failing handler is a 500 that nginx passes on; the server keeps serving.
    let resp = client.send(nginx.url("/panic")).unwrap();
    assert_eq!(resp.status(), 500);
    drop(resp);
    assert_eq!(client.get_text(nginx.url("/hello")).unwrap(), "Hello, world!");
    let resp = client.send(nginx.url("/nowhere")).unwrap();
    assert_eq!(resp.status(), 404);
    drop(resp);
    server.shutdown();
}
