//! The predefined multipart/form-data and JSON content parsers, multipart read as a stream,
//! the body limit (413) for both, and gzip of dynamic responses.

mod server_support;

use std::io::Read;

use http_toolkit::server::{Content, Response};
use http_toolkit::utils::{Limits, Method};
use server_support::{addr, raw, start, status_of, Client};

const BOUNDARY: &str = "XyZzY";

fn multipart_body(file_size: usize) -> String {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHoliday\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"beach.txt\"\r\n\
         Content-Type: text/plain\r\n\r\n{}\r\n--{BOUNDARY}--\r\n",
        "s".repeat(file_size)
    )
}

fn post(path: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn server(max_body: u64) -> http_toolkit::server::ServerHandle {
    start(
        |b| b.limits(Limits { max_body, ..Limits::default() }),
        |s| {
            s.route(Method::Post, "/parsed", |cx| match cx.parse_content() {
                Ok(Content::Multipart(parts)) => Response::text(
                    parts
                        .iter()
                        .map(|p| {
                            format!(
                                "{}:{}:{}:{}",
                                p.name.as_deref().unwrap_or("-"),
                                p.filename.as_deref().unwrap_or("-"),
                                p.content_type.as_deref().unwrap_or("-"),
                                p.size()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                Ok(Content::Json(v)) => Response::json(&serde_json::json!({ "got": v })),
                Ok(other) => Response::text(format!("other {other:?}")),
                Err(e) => cx.error_response(e.status(), "bad body"),
            })
            .unwrap();
            s.route(Method::Post, "/streamed", |cx| {
                let mut out = Vec::new();
                let r = (|| -> Result<(), http_toolkit::utils::Error> {
                    let mut parts = cx.multipart()?;
                    while let Some(mut p) = parts.next_part()? {
                        let mut n = 0;
                        let mut buf = [0u8; 1000];
                        loop {
                            let k = p.read(&mut buf)?;
                            if k == 0 {
                                break;
                            }
                            n += k;
                        }
                        out.push(format!("{}={n}", p.name().unwrap_or("-")));
                    }
                    Ok(())
                })();
                match r {
                    Ok(()) => Response::text(out.join(",")),
                    Err(e) => cx.error_response(e.status(), "bad body"),
                }
            })
            .unwrap();
            s.route(Method::Get, "/big-json", |_| {
                Response::json(&serde_json::json!({ "items": vec!["an item of text"; 200] }))
            })
            .unwrap();
        },
    )
}

#[test]
fn multipart_parts_with_name_filename_type_and_size() {
    let h = server(10_000);
    let mut c = Client::connect(addr(&h));
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    c.send(&post("/parsed", &ct, &multipart_body(300)));
    assert_eq!(c.read().text(), "title:-:-:7,photo:beach.txt:text/plain:300");
    c.send(&post("/streamed", &ct, &multipart_body(300)));
    assert_eq!(c.read().text(), "title=7,photo=300");
    // Broken bodies are 400s.
    c.send(&post("/parsed", "multipart/form-data", &multipart_body(10)));
    assert_eq!(c.read().status(), 400);
    let reply = raw(
        addr(&h),
        &post("/parsed", &ct, "--XyZzY\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"),
    );
    assert_eq!(status_of(&reply), 400);
}

#[test]
fn multipart_larger_than_the_limit_is_413() {
    let h = server(2_000);
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    for path in ["/parsed", "/streamed"] {
        // Announced too large.
        let reply = raw(addr(&h), &post(path, &ct, &multipart_body(5_000)));
        assert_eq!(status_of(&reply), 413, "{path}: {reply}");
        // Chunked, so the size shows only while reading.
        let body = multipart_body(5_000);
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: {ct}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        .into_bytes();
        for piece in body.as_bytes().chunks(700) {
            req.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            req.extend_from_slice(piece);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"0\r\n\r\n");
        let reply = raw(addr(&h), &req);
        assert_eq!(status_of(&reply), 413, "{path} chunked: {reply}");
    }
    // Within the limit it works.
    let mut c = Client::connect(addr(&h));
    c.send(&post("/streamed", &ct, &multipart_body(1_000)));
    assert_eq!(c.read().text(), "title=7,photo=1000");
}

#[test]
fn json_documents_are_parsed_or_refused() {
    let h = server(1_000);
    let mut c = Client::connect(addr(&h));
    c.send(&post("/parsed", "application/json; charset=utf-8", r#"{"a": [1, 2, {"b": null}]}"#));
    let r = c.read();
    assert_eq!((r.status(), r.header("content-type")), (200, Some("application/json")));
    assert_eq!(r.text(), r#"{"got":{"a":[1,2,{"b":null}]}}"#);
    c.send(&post("/parsed", "application/json", "{not json"));
    assert_eq!(c.read().status(), 400);
    let reply = raw(addr(&h), &post("/parsed", "application/json", &format!("[{}0]", "0,".repeat(600))));
    assert_eq!(status_of(&reply), 413);
}

#[test]
fn dynamic_responses_are_gzipped_too() {
    let h = server(1_000);
    let mut c = Client::connect(addr(&h));
    let plain = c.get("/big-json");
    assert!(plain.body.len() > 1024);
    c.send(b"GET /big-json HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n");
    let r = c.read();
    assert_eq!((r.header("content-encoding"), r.header("vary")), (Some("gzip"), Some("Accept-Encoding")));
    let len: usize = r.header("content-length").unwrap().parse().unwrap();
    assert_eq!(len, r.body.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&r.body[..]).read_to_end(&mut unzipped).unwrap();
    assert_eq!(unzipped, plain.body);
}

#[test]
fn compression_can_be_switched_off() {
    let h = start(
        |b| b.compression(false),
        |s| s.add_resource("/big", |_r, _a| Response::text("z".repeat(5000))),
    );
    let mut c = Client::connect(addr(&h));
    c.send(b"GET /big HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n");
    let r = c.read();
    assert_eq!((r.header("content-encoding"), r.body.len()), (None, 5000));
}
