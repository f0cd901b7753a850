//! Request bodies (lengths, chunks, 100-continue, content parsers) and response bodies
//! (bytes, streams, writers, the low-level writer).

mod server_support;

use std::io::{Read, Write};
use std::sync::Arc;

use http_toolkit::server::{Content, Context, Response};
use http_toolkit::utils::{Method, Version};
use server_support::*;

#[test]
fn chunked_request_bodies_and_trailers() {
    let h = start(
        |b| b,
        |s| {
            s.add_resource("/echo", |req, args| {
                Response::text(format!(
                    "{:?} {}",
                    req.body().as_bytes().map(String::from_utf8_lossy),
                    args.len()
                ))
            })
        },
    );
    let mut c = Client::connect(addr(&h));
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n");
    assert_eq!(c.read().text(), "Some(\"hello world\") 0");
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n3\r\na=1\r\n4\r\n&b=2\r\n0\r\n\r\n");
    assert_eq!(c.read().text(), "Some(\"a=1&b=2\") 2");
}

#[test]
fn continue_is_sent_only_when_the_body_is_read() {
    let h = start(
        |b| b,
        |s| {
            s.add_resource("/read", |req, _| {
                Response::text(format!("got {}", req.body().len().unwrap_or(0)))
            });
            s.add_context_resource("/ignore", |_cx: &mut Context<'_>| Response::text("ignored"));
        },
    );
    // The handler reads the body: 100 Continue comes first, then the response.
    let mut c = Client::connect(addr(&h));
    c.send(b"POST /read HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    let mut line = [0u8; 25];
    c.reader.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.send(b"abcd");
    assert_eq!(c.read().text(), "got 4");
    // The connection stays usable.
    c.send(b"GET /read HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read().text(), "got 0");

    // The handler ignores the body: no 100, a final response, and the connection closes.
    let mut c = Client::connect(addr(&h));
    c.send(b"POST /ignore HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    let r = c.read();
    assert_eq!((r.status(), r.text().as_str()), (200, "ignored"));
    assert_eq!(r.header("connection"), Some("close"));
}

#[test]
fn unread_bodies_are_skipped_or_the_connection_closes() {
    let h = start(|b| b, |s| s.add_context_resource("/ignore", |_cx: &mut Context<'_>| Response::text("ok")));
    let mut c = Client::connect(addr(&h));
    c.send(b"POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
    let r = c.read();
    assert_eq!(r.header("connection"), None);
    c.send(b"GET /ignore HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read().text(), "ok");
    // A larger body is read by the server before the handler runs, so it costs the
    // connection nothing either.
    let big = vec![b'x'; 200 * 1024];
    let mut c = Client::connect(addr(&h));
    c.send(format!("POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", big.len()).as_bytes());
    let w = {
        let mut s = c.stream().try_clone().unwrap();
        std::thread::spawn(move || {
            let _ = s.write_all(&big);
        })
    };
    let r = c.read();
    assert_eq!((r.text().as_str(), r.header("connection")), ("ok", None));
    w.join().unwrap();
    c.send(b"GET /ignore HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read().text(), "ok");
}

#[test]
fn custom_content_parser_and_text_default() {
    let h = start(
        |b| b,
        |s| {
            s.set_content_parser("application/x-numbers", |_size, _headers, body| {
                let mut raw = Vec::new();
                body.read_to_end(&mut raw)?;
                let sum: i64 = String::from_utf8_lossy(&raw)
                    .split(',')
                    .filter_map(|n| n.trim().parse::<i64>().ok())
                    .sum();
                Ok((Content::Other(Arc::new(sum)), raw))
            });
            s.add_context_resource("/sum", |cx: &mut Context<'_>| match cx.parse_content() {
                Ok(c) => match (c.downcast_ref::<i64>(), c.as_text()) {
                    (Some(n), _) => Response::text(format!("sum {n}")),
                    (None, Some(t)) => Response::text(format!("text {t}")),
                    _ => Response::new(500),
                },
                Err(e) => cx.error_response(e.status(), "bad body"),
            });
            assert!(s.content_parser("Application/X-Numbers").is_some());
        },
    );
    let mut c = Client::connect(addr(&h));
    c.send(b"POST /sum HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-numbers; charset=x\r\nContent-Length: 8\r\n\r\n1, 2, 39");
    assert_eq!(c.read().text(), "sum 42");
    c.send(b"POST /sum HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!(c.read().text(), "text hello");
}

#[test]
fn body_stream_in_a_context_handler() {
    let h = start(
        |b| b,
        |s| {
            s.add_context_resource("/count", |cx: &mut Context<'_>| {
                let mut n = 0u64;
                let mut buf = [0u8; 1000];
                let mut body = cx.body();
                loop {
                    match body.read(&mut buf) {
                        Ok(0) => break,
                        Ok(k) => n += k as u64,
                        Err(_) => return Response::new(400),
                    }
                }
                Response::text(n.to_string())
            })
        },
    );
    let mut c = Client::connect(addr(&h));
    // Bigger than every limit on whole bodies: a stream has none.
    let body = vec![b'z'; 3 * 1024 * 1024];
    c.send(format!("POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
    c.send(&body);
    assert_eq!(c.read().text(), body.len().to_string());
}

#[test]
fn streamed_and_written_responses() {
    let h = start(
        |b| b,
        |s| {
            s.add_resource("/stream-known", |_, _| Response::stream(&b"0123456789"[..], Some(10)));
            s.add_resource("/stream", |_, _| {
                Response::stream(std::io::Cursor::new(vec![b'a'; 100_000]), None)
            });
            s.add_resource("/writer", |_, _| {
                Response::from_writer(|w| {
                    for i in 0..1000 {
                        writeln!(w, "line {i}")?;
                    }
                    Ok(())
                })
            });
            s.add_context_resource("/low", |cx: &mut Context<'_>| {
                cx.write_response_header(
                    201,
                    "Made",
                    &[("Content-Type", "text/plain"), ("Content-Length", "5")],
                )
                .unwrap();
                cx.write_all(b"hello").unwrap();
                Response::written()
            });
            s.add_context_resource("/low-close", |cx: &mut Context<'_>| {
                cx.write_response_header(200, "OK", &[]).unwrap();
                cx.write_all(b"until close").unwrap();
                Response::written()
            });
        },
    );
    let mut c = Client::connect(addr(&h));
    let r = c.get("/stream-known");
    assert_eq!((r.header("content-length"), r.text().as_str()), (Some("10"), "0123456789"));
    let r = c.get("/stream");
    assert_eq!((r.header("transfer-encoding"), r.body.len()), (Some("chunked"), 100_000));
    let r = c.get("/writer");
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert!(r.text().starts_with("line 0\nline 1\n") && r.text().ends_with("line 999\n"));
    let r = c.get("/low");
    assert_eq!((r.status(), r.head.reason.as_str(), r.text().as_str()), (201, "Made", "hello"));
    let r = c.get("/low-close");
    assert_eq!((r.header("connection"), r.text().as_str()), (Some("close"), "until close"));
    // HTTP/1.0 peers get bodies of unknown length delimited by the close.
    let out = raw(addr(&h), b"GET /writer HTTP/1.0\r\n\r\n");
    assert!(!out.contains("chunked") && out.ends_with("line 999\n"), "{out}");
    // HEAD gets the head only.
    let mut c = Client::connect(addr(&h));
    c.send(b"HEAD /stream-known HTTP/1.1\r\nHost: t\r\n\r\nHEAD /low HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.try_read(&Method::Head).unwrap();
    assert_eq!((r.header("content-length"), r.body.len()), (Some("10"), 0));
    let r = c.try_read(&Method::Head).unwrap();
    assert_eq!((r.status(), r.body.len()), (201, 0));
    assert_eq!(c.get("/stream-known").text(), "0123456789");
    assert_eq!(r.head.version, Version::Http11);
}

#[test]
fn handler_headers_and_connection_close() {
    let h = start(
        |b| b,
        |s| {
            s.add_resource("/h", |_, _| {
                Response::text("x").with_header("X-Custom", "1").with_header("Content-Length", "999")
            });
            // A field that cannot be sent is never dropped in silence: the handler fails.
            s.add_resource("/bad", |_, _| Response::text("x").with_header("Bad", "a\r\nb"));
            s.add_resource("/try-bad", |_, _| match Response::text("x").try_with_header("Bad", "a\nb") {
                Ok(r) => r,
                Err(e) => Response::text(format!("refused: {e}")).with_status(400),
            });
            s.add_resource("/bye", |_, _| Response::text("bye").with_header("Connection", "close"));
        },
    );
    let mut c = Client::connect(addr(&h));
    let r = c.get("/h");
    assert_eq!(
        (r.header("x-custom"), r.header("content-length"), r.header("bad")),
        (Some("1"), Some("1"), None)
    );
    let r = c.get("/bad");
    assert_eq!((r.status(), r.header("bad")), (500, None));
    let r = c.get("/try-bad");
    assert_eq!(r.status(), 400);
    assert!(r.text().starts_with("refused: "), "{}", r.text());
    let r = c.get("/bye");
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());
}

#[test]
fn a_streaming_route_reads_its_body_as_it_arrives() {
    let limits = http_toolkit::utils::Limits { max_body: 1000, ..Default::default() };
    let (entered_tx, entered) = std::sync::mpsc::channel::<()>();
    let entered_tx = std::sync::Mutex::new(entered_tx);
    let h = start(
        |b| b.limits(limits).streaming_body_limit(1),
        move |s| {
            s.streaming_route(Method::Put, "/upload/{name}", move |cx| {
                let _ = entered_tx.lock().unwrap().send(());
                let mut n = 0u64;
                let mut buf = [0u8; 4096];
                loop {
                    match cx.body().read(&mut buf) {
                        Ok(0) => break,
                        Ok(k) => n += k as u64,
                        Err(_) => return Response::new(400),
                    }
                }
                Response::text(format!("{} {n}", cx.param("name").unwrap_or_default()))
            })
            .unwrap();
            s.add_resource("/", |_, _| Response::text("ok"));
        },
    );
    // The handler runs before the body is there, and its body may pass max_body.
    let mut c = Client::connect(addr(&h));
    c.send(b"PUT /upload/a HTTP/1.1\r\nHost: t\r\nContent-Length: 50000\r\n\r\n");
    entered.recv_timeout(std::time::Duration::from_secs(5)).expect("the handler runs at the head");
    // The one streaming slot is taken: another streaming request gets 503 at once.
    let mut d = Client::connect(addr(&h));
    d.send(b"PUT /upload/b HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n");
    let r = d.read();
    assert_eq!((r.status(), r.header("connection")), (503, Some("close")));
    // Other requests are served meanwhile.
    assert_eq!(Client::connect(addr(&h)).get("/").text(), "ok");
    c.send(&vec![b'x'; 50_000]);
    assert_eq!(c.read().text(), "a 50000");
    // The slot is free again.
    let mut e = Client::connect(addr(&h));
    e.send(b"PUT /upload/e HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(e.read().text(), "e 3");
}

/// A checksum that notices bytes out of place, lost or doubled.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

#[test]
fn large_bodies_arrive_whole_in_pieces_and_pipelined() {
    let h = start(
        |b| b,
        |s| {
            s.route(Method::Post, "/sum", |cx: &mut Context<'_>| {
                let body = cx.read_body().unwrap();
                // Handed over, whether with the engine's buffer or copied out of it: the
                // request keeps no second copy, and the body is read once.
                assert!(cx.request().body().is_empty());
                assert_eq!(cx.read_body().unwrap(), b"");
                Response::text(format!("{} {:x}", body.len(), fnv(&body)))
            })
            .unwrap()
        },
    );
    // Larger than any read buffer, in bytes that differ from position to position.
    let body: Vec<u8> = (0..700_001u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let want = format!("{} {:x}", body.len(), fnv(&body));
    let head = format!("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", body.len());
    let mut c = Client::connect(addr(&h));
    // The head with the first bytes, then pieces of odd sizes.
    c.send(&[head.as_bytes(), &body[..100]].concat());
    for piece in body[100..].chunks(7_919) {
        c.send(piece);
    }
    assert_eq!(c.read().text(), want);
    // The end of the body and the next request in one write: the request is not taken for
    // body bytes, nor lost.
    let (first, last) = body.split_at(body.len() - 10);
    c.send(&[head.as_bytes(), first].concat());
    c.send(&[last, b"GET /sum HTTP/1.1\r\nHost: t\r\n\r\n".as_slice()].concat());
    assert_eq!(c.read().text(), want);
    let r = c.read();
    assert_eq!(r.status(), 405);
    // Two bodies back to back in one write.
    c.send(&[head.as_bytes(), &body, head.as_bytes(), &body].concat());
    assert_eq!(c.read().text(), want);
    assert_eq!(c.read().text(), want);
}
