//! Transparent decoding of gzip, deflate, brotli and zstd: framings, corrupt and truncated
//! streams, bombs, bodiless responses, the switches, connection reuse, and our own server's
//! gzip. The brotli and zstd bodies are fixtures made with Python's brotli and the zstd tool
//! (`tests/client_common/coded/`).

mod client_common;

use std::io::{Read, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use client_common::{RawServer, Seen};
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::Compression;
use http_client::{Client, Error, Limits, Method, Request};
use http_utils::ErrorKind;

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn text() -> Vec<u8> {
    (0..2000).map(|i| format!("line {i} of a text that compresses well\n")).collect::<String>().into_bytes()
}

/// `body` with a Content-Length and `Content-Encoding: gzip`.
fn with_length(body: &[u8]) -> Vec<u8> {
    let mut out =
        format!("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n", body.len())
            .into_bytes();
    out.extend_from_slice(body);
    out
}

/// `body` chunked in pieces of `piece` bytes, with `Content-Encoding: gzip`.
fn chunked(body: &[u8], piece: usize) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for c in body.chunks(piece) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A keep-alive server answering each request with `answer(seen)`, reporting what it saw.
fn serve(answer: impl Fn(&Seen) -> Vec<u8> + Send + Sync + 'static) -> (RawServer, mpsc::Receiver<Seen>) {
    RawServer::recording(answer)
}

#[test]
fn length_and_chunked_bodies_are_decoded_and_connections_reused() {
    let plain = Arc::new(text());
    let packed = gz(&plain);
    assert!(packed.len() < plain.len() / 4);
    let (server, seen) = serve(move |s| match s.target.as_str() {
        "/length" => with_length(&packed),
        // Small chunks: the gzip trailer is split across chunks.
        "/chunked-small" => chunked(&packed, 7),
        "/chunked" => chunked(&packed, 4096),
        "/x-gzip" => with_length(&packed).replace_first(b"gzip", b"X-Gzip"),
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
    });
    let client = Client::new();
    for path in ["/length", "/chunked-small", "/chunked", "/x-gzip", "/length"] {
        let resp = client.send(server.url(path)).unwrap();
        assert_eq!(resp.header("content-encoding"), None, "{path}");
        assert_eq!(resp.header("content-length"), None, "{path}");
        let enc = resp.encoding_headers().expect("decoded");
        assert!(
            enc.get("content-encoding").is_some_and(|v| v.to_ascii_lowercase().ends_with("gzip")),
            "{path}"
        );
        assert_eq!(resp.bytes().unwrap(), *plain, "{path}");
        assert_eq!(client.idle_connections(), 1, "{path}: the connection is back in the pool");
        let s = seen.recv().unwrap();
        // Every coding compiled in (the default features: all of them).
        assert_eq!(s.header("accept-encoding"), Some("gzip, deflate, br, zstd"));
    }
    assert_eq!(server.accepted(), 1);
    // Read through `Read` in small pieces: complete exactly at the end.
    let mut resp = client.send(server.url("/chunked-small")).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 100];
    for _ in 0..100_000 {
        let n = resp.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(out, *plain);
    assert!(resp.is_complete());
    assert_eq!(server.accepted(), 1);
}

trait ReplaceFirst {
    fn replace_first(self, from: &[u8], to: &[u8]) -> Vec<u8>;
}

impl ReplaceFirst for Vec<u8> {
    fn replace_first(self, from: &[u8], to: &[u8]) -> Vec<u8> {
        match self.windows(from.len()).position(|w| w == from) {
            Some(i) => [&self[..i], to, &self[i + from.len()..]].concat(),
            None => self,
        }
    }
}

#[test]
fn close_delimited_multi_member_and_empty_bodies() {
    let (server, _seen) = serve(|s| match s.target.as_str() {
        "/members" => with_length(&[gz(b"first, "), gz(b"second")].concat()),
        "/empty-chunked" => chunked(b"", 1),
        "/empty-length" => with_length(b""),
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
    });
    let client = Client::new();
    assert_eq!(client.get_text(server.url("/members")).unwrap(), "first, second");
    // An empty body is empty, not a truncated stream. With a Content-Length of 0 the
    // response is left as it is.
    let resp = client.send(server.url("/empty-chunked")).unwrap();
    assert!(resp.encoding_headers().is_some());
    assert_eq!(resp.text().unwrap(), "");
    let resp = client.send(server.url("/empty-length")).unwrap();
    assert_eq!(resp.header("content-encoding"), Some("gzip"));
    assert!(resp.encoding_headers().is_none());
    assert_eq!(resp.text().unwrap(), "");
    assert_eq!(server.accepted(), 1);

    // Until close (HTTP/1.0).
    let packed = gz(b"until the end");
    let server = RawServer::start(move |mut peer| {
        if peer.read_request().is_some() {
            peer.write(b"HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\n");
            peer.write(&packed);
        }
    });
    let resp = client.send(server.url("/")).unwrap();
    assert_eq!(resp.text().unwrap(), "until the end");
}

fn decode_error(e: &Error) -> bool {
    matches!(e, Error::Decode { coding, .. } if coding == "gzip")
}

#[test]
fn corrupt_streams_are_errors() {
    let packed = gz(&text());
    let mut flipped = packed.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let mut bad_crc = packed.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 1;
    let mut bad_size = packed.clone();
    let size_at = bad_size.len() - 4;
    bad_size[size_at] ^= 1;
    let mut garbage_after = packed.clone();
    garbage_after.extend_from_slice(b"trailing garbage");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("flipped", flipped),
        ("crc", bad_crc),
        ("size", bad_size),
        ("garbage-after", garbage_after),
        ("not-gzip", b"this is not gzip at all".to_vec()),
        ("bad-magic", [&[0x1f, 0x8c][..], &packed[2..]].concat()),
    ];
    let bodies: Arc<Vec<(String, Vec<u8>)>> =
        Arc::new(cases.into_iter().map(|(n, b)| (format!("/{n}"), b)).collect());
    let served = bodies.clone();
    let (server, _seen) = serve(move |s| {
        let path = s.target.trim_end_matches("-chunked");
        let body = served.iter().find(|(p, _)| p == path).map(|(_, b)| b.clone()).unwrap_or_default();
        if s.target.ends_with("-chunked") {
            return chunked(&body, 100);
        }
        with_length(&body)
    });
    let client = Client::new();
    let paths = bodies.iter().flat_map(|(p, _)| [p.clone(), format!("{p}-chunked")]);
    for path in paths {
        let path = path.as_str();
        let err = client.send(server.url(path)).unwrap().bytes().unwrap_err();
        assert!(decode_error(&err), "{path}: {err}");
        assert!(std::error::Error::source(&err).is_some());
        // Through `Read`: an io::Error that converts back, and later reads fail too.
        let mut resp = client.send(server.url(path)).unwrap();
        let mut sink = Vec::new();
        let io_err = resp.read_to_end(&mut sink).unwrap_err();
        assert!(decode_error(&Error::from(io_err)), "{path}");
        assert!(resp.read(&mut [0u8; 16]).is_err(), "{path}: an error is not followed by a clean end");
        assert!(!resp.is_complete());
    }
}

#[test]
fn truncated_streams_are_errors_at_every_length() {
    let packed = Arc::new(gz(b"a short text, compressed; every prefix of it is broken"));
    let served = packed.clone();
    let (server, _seen) = serve(move |s| {
        // `/N`: the first N bytes with a Content-Length of N; `/cN`: the same, chunked.
        let (chunk, n) = match s.target.strip_prefix("/c") {
            Some(n) => (true, n),
            None => (false, &s.target[1..]),
        };
        let n: usize = n.parse().unwrap();
        if chunk {
            chunked(&served[..n], 5)
        } else {
            with_length(&served[..n])
        }
    });
    let client = Client::new();
    for n in 1..packed.len() {
        for path in [format!("/{n}"), format!("/c{n}")] {
            let res = client.send(server.url(&path)).unwrap().text();
            let err = res.map(|t| format!("{path}: {t:?}")).unwrap_err();
            assert!(decode_error(&err), "{path} of {}: {err}", packed.len());
        }
    }
    assert_eq!(
        client.get_text(server.url(&format!("/{}", packed.len()))).unwrap(),
        "a short text, compressed; every prefix of it is broken"
    );
    // The framing itself cut short: the framing error comes through as it is.
    let whole = packed.clone();
    let server = RawServer::start(move |mut peer| {
        if peer.read_request().is_some() {
            let mut reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                whole.len()
            )
            .into_bytes();
            reply.extend_from_slice(&whole[..whole.len() / 2]);
            peer.write(&reply);
        }
    });
    let err = client.send(server.url("/")).unwrap().bytes().unwrap_err();
    assert_eq!(err.protocol_kind(), Some(ErrorKind::TruncatedBody), "{err}");
}

#[test]
fn a_stalled_gzip_body_times_out_as_a_timeout() {
    let packed = gz(&text());
    let (release, wait) = mpsc::channel::<()>();
    let wait = Mutex::new(wait);
    let server = RawServer::start(move |mut peer| {
        if peer.read_request().is_some() {
            let mut reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                packed.len()
            )
            .into_bytes();
            reply.extend_from_slice(&packed[..packed.len() / 2]);
            peer.write(&reply);
            // Stall until the test is done.
            let _ = wait.lock().unwrap().recv();
        }
    });
    let client = Client::builder().read_timeout(std::time::Duration::from_millis(100)).build().unwrap();
    let err = client.send(server.url("/")).unwrap().bytes().unwrap_err();
    assert!(matches!(err, Error::Timeout(http_client::TimeoutKind::Read)), "{err}");
    drop(release);
}

#[test]
fn a_gzip_bomb_stops_at_the_body_cap() {
    // 16 MiB of zeros in about 16 KiB.
    let zeros = vec![0u8; 16 << 20];
    let bomb = Arc::new(gz(&zeros));
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let served = bomb.clone();
    let (server, _seen) = serve(move |_| with_length(&served));
    let limits = Limits { max_body: 1 << 20, ..Limits::default() };
    let client = Client::builder().limits(limits).build().unwrap();
    let err = client.send(server.url("/")).unwrap().bytes().unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit } if limit == 1 << 20), "{err}");
    let err = client.get_text(server.url("/")).unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err}");
    let err = Client::new().send(server.url("/")).unwrap().bytes_limited(1000).unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 1000 }), "{err}");
    // The default cap (10 MiB) stops it too.
    let err = Client::new().get_text(server.url("/")).unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err}");
}

#[test]
fn bodiless_responses_are_untouched() {
    let (server, _seen) = serve(|s| match s.target.as_str() {
        "/204" => b"HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n".to_vec(),
        "/304" => {
            b"HTTP/1.1 304 Not Modified\r\nContent-Encoding: gzip\r\nContent-Length: 30\r\n\r\n".to_vec()
        }
        _ => b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 30\r\n\r\n".to_vec(),
    });
    let client = Client::new();
    for req in [
        Request::new(Method::Get, server.url("/204")),
        Request::new(Method::Get, server.url("/304")),
        Request::new(Method::Head, server.url("/head")),
    ] {
        let resp = client.send(req).unwrap();
        assert!(resp.is_complete());
        assert_eq!(resp.header("content-encoding"), Some("gzip"));
        assert!(resp.encoding_headers().is_none());
        assert_eq!(resp.text().unwrap(), "");
    }
    let head = client.send(Request::new(Method::Head, server.url("/head"))).unwrap();
    assert_eq!(head.header("content-length"), Some("30"));
    drop(head);
    assert_eq!(server.accepted(), 1);
}

#[test]
fn switches_own_headers_ranges_and_other_codings() {
    let packed = Arc::new(gz(b"compressed"));
    let served = packed.clone();
    let (server, seen) = serve(move |s| match s.target.as_str() {
        "/compress" => {
            b"HTTP/1.1 200 OK\r\nContent-Encoding: compress\r\nContent-Length: 3\r\n\r\nabc".to_vec()
        }
        "/double" => with_length(&served).replace_first(b"gzip", b"gzip, gzip"),
        "/partial" => {
            let mut r = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Encoding: gzip\r\nContent-Range: bytes 0-9/{}\r\nContent-Length: 10\r\n\r\n",
                served.len()
            )
            .into_bytes();
            r.extend_from_slice(&served[..10]);
            r
        }
        _ => with_length(&served),
    });
    // Switched off: no Accept-Encoding, the body as sent.
    let off = Client::builder().gzip(false).build().unwrap();
    let resp = off.send(server.url("/")).unwrap();
    assert_eq!(resp.header("content-encoding"), Some("gzip"));
    assert_eq!(resp.bytes().unwrap(), *packed);
    assert_eq!(seen.recv().unwrap().header("accept-encoding"), None);
    // The caller's own Accept-Encoding: sent as is, the body as sent.
    let client = Client::new();
    let req = Request::new(Method::Get, server.url("/")).with_header("Accept-Encoding", "gzip, br").unwrap();
    let resp = client.send(req).unwrap();
    assert_eq!(resp.header("content-encoding"), Some("gzip"));
    assert_eq!(resp.bytes().unwrap(), *packed);
    assert_eq!(seen.recv().unwrap().header("accept-encoding"), Some("gzip, br"));
    // A range request does not ask for gzip; a 206 is never decoded.
    let req = Request::new(Method::Get, server.url("/partial")).with_header("Range", "bytes=0-9").unwrap();
    let resp = client.send(req).unwrap();
    assert_eq!(seen.recv().unwrap().header("accept-encoding"), None);
    assert_eq!(resp.bytes().unwrap(), packed[..10]);
    // Codings the client does not decode, and more than one coding, are passed through as
    // they are.
    for path in ["/compress", "/double"] {
        let resp = client.send(server.url(path)).unwrap();
        assert!(resp.header("content-encoding").is_some(), "{path}");
        assert!(resp.encoding_headers().is_none(), "{path}");
        let _ = seen.recv().unwrap();
    }
}

#[test]
fn drain_and_drop_of_a_decoded_body() {
    let plain = text();
    let packed = Arc::new(gz(&plain));
    let served = packed.clone();
    let (server, _seen) = serve(move |_| chunked(&served, 1000));
    let client = Client::new();
    // Drained without decoding: the connection is reused; reading after it is a clean end.
    let mut resp = client.send(server.url("/")).unwrap();
    let mut first = [0u8; 10];
    resp.read_exact(&mut first).unwrap();
    assert_eq!(&first, &plain[..10]);
    assert!(resp.drain(1 << 20).unwrap());
    assert!(resp.is_complete());
    assert_eq!(resp.read(&mut first).unwrap(), 0);
    drop(resp);
    assert_eq!(client.idle_connections(), 1);
    // Dropped after a few bytes with the rest already received: finished and reused.
    let mut resp = client.send(server.url("/")).unwrap();
    resp.read_exact(&mut first).unwrap();
    let _ = resp.header("x");
    std::thread::sleep(std::time::Duration::from_millis(50));
    drop(resp);
    assert_eq!(client.idle_connections(), 1);
    assert_eq!(client.send(server.url("/")).unwrap().bytes().unwrap(), plain);
    assert_eq!(server.accepted(), 1);
}

#[test]
fn our_server_gzip_is_decoded() {
    use http_server::{Response, Server};
    let server = Server::builder().port(0).bind("127.0.0.1").build().unwrap();
    let page: String = (0..500).map(|i| format!("<p>paragraph {i}</p>\n")).collect();
    let served = page.clone();
    server.add_resource("/page", move |_req, _args| Response::html(served.clone()));
    server.add_resource("/small", |_req, _args| Response::text("too small to compress"));
    let handle = server.spawn().unwrap();
    let base = format!("http://{}", handle.local_addr().socket_addr().unwrap());

    let client = Client::new();
    let resp = client.send(format!("{base}/page")).unwrap();
    let enc = resp.encoding_headers().expect("our server gzips pages of 1 KiB or more");
    assert_eq!(enc.get("content-encoding"), Some("gzip"));
    let sent: u64 = enc.get("content-length").map_or(0, |v| v.parse().unwrap());
    assert!(sent > 0 && sent < page.len() as u64 / 4, "{sent}");
    assert_eq!(resp.header("vary"), Some("Accept-Encoding"));
    assert_eq!(resp.text().unwrap(), page);
    assert_eq!(client.idle_connections(), 1);
    let small = client.send(format!("{base}/small")).unwrap();
    assert!(small.encoding_headers().is_none());
    assert_eq!(small.text().unwrap(), "too small to compress");
    // Switched off, the same page comes as it is.
    let off = Client::builder().gzip(false).build().unwrap();
    let resp = off.send(format!("{base}/page")).unwrap();
    assert_eq!(resp.header("content-encoding"), None);
    assert_eq!(resp.text().unwrap(), page);
    // HEAD keeps the server's headers.
    let head = client.send(Request::new(Method::Head, format!("{base}/page"))).unwrap();
    assert_eq!(head.header("content-encoding"), Some("gzip"));
    drop(head);
    handle.shutdown();
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `response` (made for gzip) saying `deflate` instead.
fn as_deflate(response: Vec<u8>) -> Vec<u8> {
    response.replace_first(b"Content-Encoding: gzip", b"Content-Encoding: deflate")
}

#[test]
fn deflate_bodies_zlib_and_raw_are_decoded() {
    let plain = Arc::new(text());
    let (z, r) = (Arc::new(zlib(&plain)), Arc::new(raw_deflate(&plain)));
    let (sz, sr) = (z.clone(), r.clone());
    let (server, _seen) = serve(move |s| {
        let body: &[u8] = if s.target.starts_with("/zlib") { &sz } else { &sr };
        as_deflate(match s.target.rsplit('/').next() {
            Some("chunked") => chunked(body, 1),
            Some("chunked-big") => chunked(body, 4096),
            _ => with_length(body),
        })
    });
    let client = Client::new();
    for path in [
        "/zlib/length",
        "/zlib/chunked",
        "/zlib/chunked-big",
        "/raw/length",
        "/raw/chunked",
        "/raw/chunked-big",
    ] {
        let resp = client.send(server.url(path)).unwrap();
        assert_eq!(resp.header("content-encoding"), None, "{path}");
        assert_eq!(resp.encoding_headers().unwrap().get("content-encoding"), Some("deflate"), "{path}");
        assert_eq!(resp.bytes().unwrap(), *plain, "{path}");
        // Decoded to its end and the framing read to its end: the connection is kept.
        assert_eq!(client.idle_connections(), 1, "{path}");
    }
    assert_eq!(server.accepted(), 1);
}

#[test]
fn corrupt_truncated_and_trailing_deflate_bodies_are_errors() {
    let plain = text();
    let packed = zlib(&plain);
    let mut flipped = packed.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let mut bad_adler = packed.clone();
    let last = bad_adler.len() - 1;
    bad_adler[last] ^= 1;
    let cases: Arc<Vec<(String, Vec<u8>)>> = Arc::new(vec![
        ("/flipped".into(), flipped),
        ("/adler".into(), bad_adler),
        ("/trailing".into(), [&packed[..], b"garbage"].concat()),
        ("/cut".into(), packed[..packed.len() / 2].to_vec()),
        ("/raw-cut".into(), raw_deflate(&plain)[..100].to_vec()),
    ]);
    let served = cases.clone();
    let (server, _seen) = serve(move |s| {
        let path = s.target.trim_end_matches("-chunked");
        let body = served.iter().find(|(p, _)| p == path).map(|(_, b)| b.clone()).unwrap_or_default();
        as_deflate(if s.target.ends_with("-chunked") { chunked(&body, 100) } else { with_length(&body) })
    });
    let client = Client::new();
    for (path, _) in cases.iter() {
        for path in [path.clone(), format!("{path}-chunked")] {
            let err = client.send(server.url(&path)).unwrap().bytes().unwrap_err();
            assert!(matches!(err, Error::Decode { ref coding, .. } if coding == "deflate"), "{path}: {err}");
        }
    }
}

#[test]
fn a_deflate_bomb_stops_at_the_body_cap() {
    let zeros = vec![0u8; 16 << 20];
    for bomb in [zlib(&zeros), raw_deflate(&zeros)] {
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        let bomb = Arc::new(bomb);
        let (server, _seen) = serve(move |_| as_deflate(with_length(&bomb)));
        let limits = Limits { max_body: 1 << 20, ..Limits::default() };
        let client = Client::builder().limits(limits).build().unwrap();
        let err = client.send(server.url("/")).unwrap().bytes().unwrap_err();
        assert!(matches!(err, Error::BodyTooLarge { limit } if limit == 1 << 20), "{err}");
    }
}

/// A fixture of `tests/client_common/coded/`.
fn coded(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/client_common/coded/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// `response` (made for gzip) saying `coding` instead.
fn as_coding(response: Vec<u8>, coding: &str) -> Vec<u8> {
    response.replace_first(b"Content-Encoding: gzip", format!("Content-Encoding: {coding}").as_bytes())
}

#[test]
fn brotli_and_zstd_bodies_are_decoded() {
    let plain = Arc::new(text());
    let bodies: Arc<Vec<(&str, &str, Vec<u8>)>> = Arc::new(vec![
        ("/br", "br", coded("text.br")),
        ("/zstd", "zstd", coded("text.zst")),
        // Two frames (with and without a checksum) and a skippable frame between them.
        ("/frames", "zstd", coded("frames.zst")),
    ]);
    let served = bodies.clone();
    let (server, _seen) = serve(move |s| {
        let (path, framing) = s.target.rsplit_once('/').unwrap();
        let (_, coding, body) = served.iter().find(|(p, _, _)| *p == path).unwrap();
        as_coding(
            match framing {
                "chunked" => chunked(body, 1),
                "chunked-big" => chunked(body, 4096),
                _ => with_length(body),
            },
            coding,
        )
    });
    let client = Client::new();
    for (path, coding, _) in bodies.iter() {
        for framing in ["length", "chunked", "chunked-big"] {
            let url = server.url(&format!("{path}/{framing}"));
            let resp = client.send(url.as_str()).unwrap();
            assert_eq!(resp.header("content-encoding"), None, "{url}");
            assert_eq!(resp.encoding_headers().unwrap().get("content-encoding"), Some(*coding), "{url}");
            assert_eq!(resp.bytes().unwrap(), *plain, "{url}");
            assert_eq!(client.idle_connections(), 1, "{url}: the connection is kept");
        }
    }
    assert_eq!(server.accepted(), 1);
}

#[test]
fn corrupt_truncated_and_trailing_brotli_and_zstd_bodies_are_errors() {
    let mut cases: Vec<(String, &str, Vec<u8>)> = Vec::new();
    for (name, coding) in [("text.br", "br"), ("text.zst", "zstd")] {
        let good = coded(name);
        let mut flipped = good.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x55;
        // The last byte: part of zstd's checksum, of brotli's last block.
        let mut last = good.clone();
        let end = last.len() - 1;
        last[end] ^= 0x01;
        cases.push((format!("/{coding}-flipped"), coding, flipped));
        cases.push((format!("/{coding}-last"), coding, last));
        cases.push((format!("/{coding}-trailing"), coding, [&good[..], b"garbage"].concat()));
        cases.push((format!("/{coding}-cut"), coding, good[..good.len() / 2].to_vec()));
    }
    // A zstd frame that asks for a 128 MiB window: refused before any is allocated.
    cases.push(("/zstd-wide".to_string(), "zstd", coded("wide.zst")));
    let cases = Arc::new(cases);
    let served = cases.clone();
    let (server, _seen) = serve(move |s| {
        let path = s.target.trim_end_matches("-chunked");
        let (_, coding, body) = served.iter().find(|(p, _, _)| p == path).unwrap();
        as_coding(if s.target.ends_with("-chunked") { chunked(body, 100) } else { with_length(body) }, coding)
    });
    let client = Client::new();
    for (path, coding, _) in cases.iter() {
        for path in [path.clone(), format!("{path}-chunked")] {
            let err = client.send(server.url(&path)).unwrap().bytes().unwrap_err();
            assert!(matches!(err, Error::Decode { coding: ref c, .. } if c == coding), "{path}: {err}");
        }
    }
}

#[test]
fn brotli_and_zstd_bombs_stop_at_the_body_cap() {
    // 16 MiB of zeros each, in 27 and 541 bytes.
    for (name, coding) in [("bomb.br", "br"), ("bomb.zst", "zstd")] {
        let bomb = Arc::new(coded(name));
        assert!(bomb.len() < 1024);
        let (server, _seen) = serve(move |_| as_coding(with_length(&bomb), coding));
        let limits = Limits { max_body: 1 << 20, ..Limits::default() };
        let client = Client::builder().limits(limits).build().unwrap();
        let err = client.send(server.url("/")).unwrap().bytes().unwrap_err();
        assert!(matches!(err, Error::BodyTooLarge { limit } if limit == 1 << 20), "{name}: {err}");
        // Read whole without the cap, it is the 16 MiB it says.
        let mut all = Vec::new();
        Client::new().send(server.url("/")).unwrap().read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 16 << 20, "{name}");
        assert!(all.iter().all(|&b| b == 0));
    }
}
