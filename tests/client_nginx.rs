//! The client against a real nginx (Debian's package) where nginx itself answers: a 413 from
//! `client_max_body_size` while a large body is still on its way (the body stops, the answer
//! comes back), and response heads as large as nginx will send (a 9,000-byte field, 110
//! fields, a 70 KB head).

mod nginx_support;

use std::time::{Duration, Instant};

use http_client::{Body, Client, Method, Request};
use nginx_support::Nginx;

/// nginx with `locations` in its server block and a 4 KiB body limit.
fn nginx(name: &str, locations: &str) -> Option<Nginx> {
    Nginx::start(name, 64, "client interop with nginx", |port| {
        format!("client_max_body_size 4k;\n  server {{\n    listen 127.0.0.1:{port};\n{locations}\n  }}\n")
    })
}

/// A body of `len` bytes of `x`, made as it is read.
struct Xs(u64);

impl std::io::Read for Xs {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.0) as usize;
        buf[..n].fill(b'x');
        self.0 -= n as u64;
        Ok(n)
    }
}

#[test]
fn nginx_413_during_a_large_upload_is_the_answer() {
    let Some(nginx) = nginx("413", "    location / { return 200 \"ok\"; }") else { return };
    let client = Client::builder().write_timeout(Duration::from_secs(20)).build().unwrap();
    for (name, body) in [
        ("bytes", Body::from(vec![b'x'; 8 << 20])),
        ("sized stream", Body::stream(Xs(1 << 30), Some(1 << 30))),
    ] {
        let start = Instant::now();
        let resp = client.send(Request::new(Method::Post, nginx.url("/upload")).with_body(body)).unwrap();
        assert_eq!(resp.status(), 413, "{name}");
        assert!(resp.text().unwrap().contains("413"), "{name}");
        assert!(start.elapsed() < Duration::from_secs(10), "{name}: {:?}", start.elapsed());
    }
    // A chunked body has no length to refuse: nginx answers `return 200` at once, discarding
    // the body; the client stops sending the gigabyte and returns that answer.
    let start = Instant::now();
    let body = Body::stream(Xs(1 << 30), None);
    let resp = client.send(Request::new(Method::Post, nginx.url("/upload")).with_body(body)).unwrap();
    assert_eq!((resp.status(), resp.text().unwrap().as_str()), (200, "ok"));
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
    // A small body is served as ever.
    let resp = client.send(Request::new(Method::Post, nginx.url("/")).with_body("small")).unwrap();
    assert_eq!((resp.status(), resp.text().unwrap().as_str()), (200, "ok"));
}

#[test]
fn heads_as_large_as_nginx_sends_are_read() {
    // nginx takes parameters of at most 4 KiB: the long value is made of variables.
    let (c4k, c1k) = ("c".repeat(4000), "c".repeat(1000));
    let many: String = (0..110).map(|i| format!("add_header X-Field-{i} v{i};")).collect();
    let big: String = (0..70).map(|i| format!("add_header X-Big-{i} {};", "b".repeat(1000))).collect();
    let locations = format!(
        "    location /long {{ set $c4k {c4k}; set $c1k {c1k}; add_header X-Long $c4k$c4k$c1k;\n\
                               return 200 \"long\"; }}\n\
             location /many {{ {many} return 200 \"many\"; }}\n\
             location /big {{ {big} return 200 \"big\"; }}"
    );
    let Some(nginx) = nginx("heads", &locations) else { return };
    let client = Client::new();
    let resp = client.send(nginx.url("/long")).unwrap();
    assert_eq!(resp.header("x-long").map(str::len), Some(9000));
    assert_eq!(resp.text().unwrap(), "long");
    let resp = client.send(nginx.url("/many")).unwrap();
    assert!(resp.headers().len() > 110);
    assert_eq!(resp.text().unwrap(), "many");
    let resp = client.send(nginx.url("/big")).unwrap();
    assert!(resp.headers().iter().map(|(n, v)| n.len() + v.len()).sum::<usize>() > 70_000);
    assert_eq!(resp.text().unwrap(), "big");
}
