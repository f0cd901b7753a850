//! The server behind a real reverse proxy: nginx (Debian's package) forwards to it over kept-alive
//! upstream connections, and our client talks to nginx. This is how many small services are
//! deployed; it checks that what nginx sends (HTTP/1.1 upstream keep-alive, `Connection: ""`,
//! buffered uploads, chunked answers) is served correctly and that upstream connections are reused.

mod server_support;

use std::collections::HashSet;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_toolkit::client::Client;
use http_toolkit::server::{PeerAddr, Response};
use http_toolkit::utils::Method;

/// nginx in the foreground on a free loopback port, proxying to `upstream`; killed on drop.
struct Nginx {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Nginx {
    fn start(upstream: std::net::SocketAddr) -> Option<Nginx> {
        let dir = std::env::temp_dir().join(format!("http-toolkit-nginx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let d = dir.display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log;\nevents {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}; proxy_temp_path {d};\n\
             fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n\
             client_max_body_size 8m;\n\
             upstream app {{ server {upstream}; keepalive 8; }}\n\
             server {{\n    listen 127.0.0.1:{port};\n\
                 location / {{\n      proxy_pass http://app;\n      proxy_http_version 1.1;\n\
                   proxy_set_header Connection \"\";\n      proxy_set_header Host $host;\n\
                   proxy_buffering off;\n    }}\n  }}\n}}\n"
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let binary = ["nginx", "/usr/sbin/nginx"]
            .into_iter()
            .find(|b| Command::new(b).arg("-v").stderr(Stdio::null()).status().is_ok());
        let Some(binary) = binary else {
            let _ = std::fs::remove_dir_all(&dir);
            assert!(std::env::var_os("CI").is_none(), "nginx is not installed (apt-get install nginx-light)");
            eprintln!("\n*** SKIPPED: nginx is not installed; reverse-proxy interop not tested ***\n");
            return None;
        };
        let child = Command::new(binary)
            .arg("-c")
            .arg(&conf_path)
            .arg("-p")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let nginx = Nginx { child, port, dir };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(10), "nginx did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(nginx)
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
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
    let Some(nginx) = Nginx::start(server_support::addr(&server)) else { return };
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
