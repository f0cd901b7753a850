//! Many requests in flight on one thread (`Client::multi`): a thousand at once against our
//! server, a deadline per request, HTTPS, a proxy (tinyproxy), malformed answers from raw
//! servers, the pool shared with `Client::send`, redirects by the same rules, streamed bodies.

mod client_common;
mod programs;
#[path = "client_common/tinyproxy.rs"]
mod tinyproxy;

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client_common::tls::{server_config, TestCa, TlsServer};
use client_common::RawServer;
use http_client::{Client, Error, Proxy, ProxyPattern, TimeoutKind, Token};
use http_server::{Method, Responder, Response, Server, ServerHandle};
use tinyproxy::Tinyproxy;

/// Raises this process's soft limit on open files toward `want` (the hard limit caps it) and
/// returns the limit now in force.
#[cfg(unix)]
fn raise_fd_limit(want: u64) -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let now = getrlimit(Resource::Nofile);
    let soft = now.current.unwrap_or(u64::MAX);
    if soft >= want {
        return soft;
    }
    let target = now.maximum.map_or(want, |hard| hard.min(want));
    let _ = setrlimit(Resource::Nofile, Rlimit { current: Some(target), maximum: now.maximum });
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Windows has no open-file limit of this kind.
#[cfg(not(unix))]
fn raise_fd_limit(_want: u64) -> u64 {
    u64::MAX
}

/// Our server with `/wait` answered `delay` later without holding a worker (every answer
/// comes from one timer thread), and `/hello`.
fn waiting_server(delay: Duration) -> (ServerHandle, String) {
    let (tx, rx) = mpsc::channel::<(Instant, Responder)>();
    // The timer thread: answers come due in the order they were taken.
    std::thread::spawn(move || {
        for (due, responder) in rx {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let _ = responder.send(Response::text("waited"));
        }
    });
    let tx = Mutex::new(tx);
    let server = Server::builder().port(0).bind("127.0.0.1").threads(4).build().unwrap();
    server
        .route(Method::Get, "/wait", move |cx| {
            let r = cx.responder();
            let _ = tx.lock().unwrap().send((Instant::now() + delay, r));
            Response::later()
        })
        .unwrap();
    server.route(Method::Get, "/hello", |_| Response::text("hello")).unwrap();
    let handle = server.spawn().unwrap();
    let base = format!("http://{}", handle.local_addr().socket_addr().unwrap());
    (handle, base)
}

#[test]
fn a_thousand_requests_in_flight_on_one_thread() {
    // A connection each on both sides, in this one process.
    let limit = raise_fd_limit(4096);
    let n: usize = if limit >= 2300 { 1000 } else { (limit.saturating_sub(300) / 2) as usize };
    if n < 1000 {
        programs::missing(
            "a_thousand_requests_in_flight_on_one_thread",
            "an open-file limit of 2,300",
            "ulimit -n 4096",
        );
    }
    let (handle, base) = waiting_server(Duration::from_millis(200));
    let client = Client::new();
    let mut multi = client.multi().unwrap();
    let start = Instant::now();
    let tokens: Vec<Token> = (0..n).map(|_| multi.submit(format!("{base}/wait"))).collect();
    assert_eq!(multi.len(), n);
    let mut done = 0;
    for (token, result) in multi.completions() {
        let resp = result.unwrap_or_else(|e| panic!("{token}: {e}"));
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.text().unwrap(), "waited");
        done += 1;
        assert!(done <= n);
    }
    let took = start.elapsed();
    assert_eq!(done, n);
    assert_eq!(tokens.iter().map(|t| t.id()).max(), Some(n as u64 - 1));
    // Together, not one after another (that would take n × 200 ms).
    assert!(took < Duration::from_secs(10), "{n} requests took {took:?}");
    // Their connections went back to the shared pool (up to its cap per host).
    assert_eq!(client.idle_connections(), 10);
    handle.shutdown();
}

#[test]
fn each_request_has_its_own_deadline() {
    // A server that reads requests and never answers.
    let silent = RawServer::start(|mut peer| while peer.read_request().is_some() {});
    let (handle, base) = waiting_server(Duration::from_millis(100));
    let client = Client::new();
    let mut multi = client.multi().unwrap();
    let stuck = multi.submit_within(silent.url("/"), Duration::from_millis(300));
    let fine: Vec<Token> = (0..5).map(|_| multi.submit(format!("{base}/wait"))).collect();
    let start = Instant::now();
    let mut results = HashMap::new();
    while let Some((token, result)) = multi.wait_timeout(Duration::from_secs(10)) {
        results.insert(token, (result, start.elapsed()));
    }
    assert!(multi.is_empty());
    for t in &fine {
        assert_eq!(results[t].0.as_ref().unwrap().status(), 200);
    }
    let (result, at) = &results[&stuck];
    assert!(matches!(result, Err(Error::Timeout(TimeoutKind::Deadline))), "{result:?}");
    assert!(*at >= Duration::from_millis(250) && *at < Duration::from_secs(3), "{at:?}");

    // The client's read timeout applies to each request too.
    let client = Client::builder().read_timeout(Duration::from_millis(200)).build().unwrap();
    let mut multi = client.multi().unwrap();
    multi.submit(silent.url("/"));
    let (_, result) = multi.wait().unwrap();
    assert!(matches!(result, Err(Error::Timeout(TimeoutKind::Read))), "{result:?}");
    // wait_timeout gives up on its own wait, not on the request.
    let mut multi = client.multi().unwrap();
    let t = multi.submit_within(silent.url("/"), Duration::from_secs(5));
    assert!(multi.wait_timeout(Duration::from_millis(50)).is_none());
    assert_eq!(multi.len(), 1);
    assert!(multi.cancel(t));
    assert!(multi.is_empty() && multi.wait().is_none());
    handle.shutdown();
}

#[test]
fn https_against_our_server_with_the_pool_shared() {
    let ca = TestCa::new("multi test CA");
    let config = server_config(&ca.issue(&["localhost"]), None);
    let server = Server::builder().port(0).bind("127.0.0.1").tls(config).build().unwrap();
    server.route(Method::Get, "/", |_| Response::text("Hello, TLS")).unwrap();
    let handle = server.spawn().unwrap();
    let port = handle.local_addr().socket_addr().unwrap().port();
    let client = ca.client_builder().build().unwrap();
    let url = format!("https://localhost:{port}/");
    let mut multi = client.multi().unwrap();
    for _ in 0..20 {
        multi.submit(url.as_str());
    }
    for (token, result) in multi.completions() {
        assert_eq!(result.unwrap_or_else(|e| panic!("{token}: {e}")).text().unwrap(), "Hello, TLS");
    }
    // Twenty connections, at most ten kept idle per origin. A connection whose TLS 1.3
    // session tickets arrive after the answer may be found unusable and not kept: at least one
    // is.
    let idle = client.idle_connections();
    assert!((1..=10).contains(&idle), "{idle} idle");
    // The blocking client takes a TLS connection the multi left, and gives it back.
    assert_eq!(client.get_text(url.as_str()).unwrap(), "Hello, TLS");
    assert!((1..=10).contains(&client.idle_connections()));
    handle.shutdown();
}

#[test]
fn connections_are_reused_through_the_pool() {
    let server = RawServer::fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let client = Client::new();
    let mut multi = client.multi().unwrap();
    for _ in 0..3 {
        multi.submit(server.url("/"));
        let (_, result) = multi.wait().unwrap();
        assert_eq!(result.unwrap().text().unwrap(), "ok");
    }
    assert_eq!(client.get_text(server.url("/")).unwrap(), "ok");
    let mut multi = client.multi().unwrap();
    multi.submit(server.url("/"));
    assert_eq!(multi.wait().unwrap().1.unwrap().text().unwrap(), "ok");
    assert_eq!(server.accepted(), 1, "one connection for every request, both interfaces");
}

#[test]
fn a_stale_pooled_connection_is_retried_for_an_idempotent_request() {
    // The server answers once per connection and closes it without saying so.
    let server = RawServer::start(|mut peer| {
        if peer.read_request().is_some() {
            peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    let client = Client::new();
    let mut multi = client.multi().unwrap();
    for _ in 0..3 {
        multi.submit(server.url("/"));
        assert_eq!(multi.wait().unwrap().1.unwrap().text().unwrap(), "ok");
        // The server's close has arrived before the next request takes the connection.
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(server.accepted(), 3);
}

#[test]
fn malformed_answers_are_errors_not_panics() {
    let answers: &[(&str, &'static [u8])] = &[
        ("bad status line", b"HTTP/1.1 2x0 OK\r\n\r\n"),
        ("not http", b"SSH-2.0-OpenSSH\r\n\r\n"),
        ("two lengths", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab"),
        ("length and chunked", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ("bad chunk", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        ("huge chunk", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n"),
        ("short body", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
        ("short head", b"HTTP/1.1 200 OK\r\nContent-Le"),
        ("body over the cap", b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n"),
        ("bad gzip", b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope"),
        ("nothing", b""),
    ];
    let servers: Vec<RawServer> = answers
        .iter()
        .map(|&(_, bytes)| {
            RawServer::start(move |mut peer| {
                if peer.read_request().is_some() {
                    peer.write(bytes);
                }
            })
        })
        .collect();
    // A head of 2 MiB, past the client's 512 KiB.
    let big = RawServer::start(|mut peer| {
        if peer.read_request().is_some() {
            let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
            for i in 0..40_000 {
                head.extend_from_slice(format!("X-Field-{i}: {}\r\n", "v".repeat(40)).as_bytes());
            }
            peer.write(&head);
        }
    });
    let client = Client::new();
    let mut multi = client.multi().unwrap();
    let mut names = HashMap::new();
    for (server, (name, _)) in servers.iter().zip(answers) {
        names.insert(multi.submit(server.url("/")), *name);
    }
    names.insert(multi.submit(big.url("/")), "huge head");
    let mut seen = 0;
    for (token, result) in multi.completions() {
        seen += 1;
        let name = names[&token];
        // A body error may show when the body is read (a corrupt gzip stream).
        let outcome = result.and_then(|r| r.bytes());
        let err = outcome.expect_err(name);
        match name {
            "body over the cap" | "huge chunk" => {
                assert!(matches!(err, Error::BodyTooLarge { .. }), "{name}: {err}")
            }
            "huge head" => assert!(matches!(err, Error::ResponseHeadTooLarge { .. }), "{name}: {err}"),
            "bad gzip" => assert!(matches!(err, Error::Decode { .. }), "{name}: {err}"),
            "nothing" => assert!(matches!(err, Error::ConnectionClosed), "{name}: {err}"),
            _ => assert!(matches!(err, Error::Protocol(_)), "{name}: {err}"),
        }
    }
    assert_eq!(seen, answers.len() + 1);
    // Only the connection whose framing was sound (the corrupt gzip body) is kept.
    assert_eq!(client.idle_connections(), 1);
}

#[test]
fn bodies_of_every_framing_and_coding() {
    let chunked = RawServer::fixed(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
    );
    let close = RawServer::start(|mut peer| {
        if peer.read_request().is_some() {
            peer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
        }
    });
    let gz = {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&b"squeezed ".repeat(1000)).unwrap();
        let body = enc.finish().unwrap();
        let mut answer =
            format!("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n", body.len())
                .into_bytes();
        answer.extend_from_slice(&body);
        let answer: &'static [u8] = Box::leak(answer.into_boxed_slice());
        RawServer::fixed(answer)
    };
    let client = Client::new();
    let mut multi = client.multi().unwrap();
    let a = multi.submit(chunked.url("/"));
    let b = multi.submit(close.url("/"));
    let c = multi.submit(gz.url("/"));
    let mut got: HashMap<Token, http_client::Response> =
        multi.completions().map(|(t, r)| (t, r.unwrap())).collect();
    let resp_a = got.remove(&a).unwrap();
    assert!(resp_a.is_complete());
    assert_eq!(resp_a.trailers().and_then(|t| t.get("x-t")), Some("1"));
    assert_eq!(resp_a.text().unwrap(), "hello world");
    assert_eq!(got.remove(&b).unwrap().text().unwrap(), "until the end");
    let resp_c = got.remove(&c).unwrap();
    assert_eq!(resp_c.header("content-encoding"), None);
    assert_eq!(resp_c.text().unwrap(), "squeezed ".repeat(1000));
}

#[test]
fn streamed_bodies_arrive_in_pieces() {
    let server = Server::builder().port(0).bind("127.0.0.1").build().unwrap();
    server.route(Method::Get, "/big", |_| Response::text("x".repeat(300_000))).unwrap();
    let handle = server.spawn().unwrap();
    let url = format!("http://{}/big", handle.local_addr().socket_addr().unwrap());
    let client = Client::new();
    let mut multi = client.multi().unwrap();
    let got = Arc::new(Mutex::new((0usize, 0usize)));
    let sink = got.clone();
    multi.submit_streaming(url.as_str(), move |piece| {
        let mut g = sink.lock().unwrap();
        g.0 += piece.len();
        g.1 += 1;
    });
    let (_, result) = multi.wait().unwrap();
    let resp = result.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().unwrap(), b"");
    let (bytes, pieces) = *got.lock().unwrap();
    assert_eq!(bytes, 300_000);
    assert!(pieces > 1, "{pieces}");
    handle.shutdown();
}

#[test]
fn redirects_follow_the_blocking_clients_rules() {
    // B records what it is sent; A sends everyone to B, another origin (another port).
    let (b, seen_b) = RawServer::recording(|_| b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nat B".to_vec());
    let to_b = format!("HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\n\r\n", b.url("/b"));
    let (a, seen_a) = RawServer::recording(move |_| to_b.clone().into_bytes());
    let client = Client::new();
    let mut multi = client.multi().unwrap();
    let mut req = http_client::Request::new(Method::Post, a.url("/a"));
    req.headers_mut().append("Authorization", "Bearer secret").unwrap();
    req.set_body("form=1");
    multi.submit(req);
    let resp = multi.wait().unwrap().1.unwrap();
    assert_eq!(resp.url(), b.url("/b"));
    assert_eq!(resp.text().unwrap(), "at B");
    let first = seen_a.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(first.header("authorization"), Some("Bearer secret"));
    let second = seen_b.recv_timeout(Duration::from_secs(5)).unwrap();
    // A 302 to a POST becomes a GET without a body; credentials stay with their origin.
    assert_eq!((second.method.as_str(), second.body.len()), ("GET", 0));
    assert_eq!(second.header("authorization"), None);

    // A Location with credentials in it is refused.
    let bad = RawServer::fixed(
        b"HTTP/1.1 301 Moved\r\nLocation: http://u:p@127.0.0.1:9/\r\nContent-Length: 0\r\n\r\n",
    );
    multi.submit(bad.url("/"));
    assert!(matches!(multi.wait().unwrap().1, Err(Error::BadRedirect(_))));
}

#[test]
fn requests_it_cannot_send_fail_alone() {
    let ok = RawServer::fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let client = Client::new();
    client.add_proxy("socks.example", Proxy::new("socks5h://127.0.0.1:9").unwrap());
    let mut multi = client.multi().unwrap();
    let socks = multi.submit("http://socks.example/");
    client.add_proxy("tls.example", Proxy::new("https://127.0.0.1:9").unwrap());
    let tls_proxy = multi.submit("http://tls.example/");
    let bad_url = multi.submit("ftp://example.com/");
    // A port that nothing listens on.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let refused = multi.submit(format!("http://{dead}/"));
    let fine = multi.submit(ok.url("/"));
    let results: HashMap<Token, _> = multi.completions().collect();
    assert!(
        matches!(&results[&socks], Err(Error::Unsupported(m)) if m.contains("socks5h")),
        "{:?}",
        results[&socks]
    );
    assert!(
        matches!(&results[&tls_proxy], Err(Error::Unsupported(m)) if m.contains("https")),
        "{:?}",
        results[&tls_proxy]
    );
    assert!(results[&bad_url].is_err());
    assert!(matches!(&results[&refused], Err(e) if e.is_connect()), "{:?}", results[&refused]);
    assert!(results[&fine].is_ok());
}

#[test]
fn http_and_https_through_tinyproxy() {
    let Some(proxy) = Tinyproxy::start(None) else { return };
    let origin = RawServer::fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nfrom origin");
    let ca = TestCa::new("multi tunnel CA");
    let tls = TlsServer::start(
        server_config(&ca.issue(&["localhost"]), None),
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret",
    );
    let client = ca.client_builder().build().unwrap();
    client.add_proxy(ProxyPattern::Any, Proxy::new(&proxy.url(None)).unwrap());
    let mut multi = client.multi().unwrap();
    let tls_url = format!("https://localhost:{}/", tls.addr.port());
    let mut kinds = HashMap::new();
    for _ in 0..3 {
        kinds.insert(multi.submit(origin.url("/page")), "from origin");
        kinds.insert(multi.submit(tls_url.as_str()), "secret");
    }
    for (token, result) in multi.completions() {
        let text = result.unwrap_or_else(|e| panic!("{token}: {e}")).text().unwrap();
        assert_eq!(text, kinds[&token]);
    }
    assert_eq!(tls.next_sni().as_deref(), Some("localhost"));
    // A refused tunnel is the proxy's error.
    let mut multi = client.multi().unwrap();
    multi.submit("https://127.0.0.1:1/");
    let result = multi.wait().unwrap().1;
    assert!(matches!(result, Err(Error::ProxyConnect { .. })), "{result:?}");
}
