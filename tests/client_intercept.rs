//! Interceptors: order, short-circuits, retries with backoff (counted on the server), header
//! injection, redirects seen as one exchange, the shared deadline, and the logging one.

mod client_common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use client_common::{RawServer, Seen};
use http_client::intercept::{self, Next, Retry};
use http_client::{Body, Client, Error, Method, Request, Response, ResponseHead, TimeoutKind};

/// What a test server answers to request `n`: `None` closes the connection without an answer.
type Answer = Box<dyn Fn(usize, &Seen) -> Option<Vec<u8>> + Send + Sync>;

/// Cached bodies by URL.
type Cache = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

fn ok(body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

fn status(code: u16) -> Vec<u8> {
    format!("HTTP/1.1 {code} Oops\r\nContent-Length: 4\r\n\r\noops").into_bytes()
}

/// A keep-alive server answering each request with `answer(n, seen)` (`n` counts requests from
/// 1, over all connections), reporting what it saw.
fn serve(
    answer: impl Fn(usize, &Seen) -> Option<Vec<u8>> + Send + Sync + 'static,
) -> (RawServer, mpsc::Receiver<Seen>, Arc<AtomicUsize>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let server = RawServer::start(move |mut peer| {
        while let Some(seen) = peer.read_request() {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let reply = answer(n, &seen);
            let _ = tx.lock().unwrap().send(seen);
            // `None`: close without answering.
            let Some(reply) = reply else { break };
            if !peer.write(&reply) {
                break;
            }
        }
    });
    (server, rx, count)
}

#[test]
fn first_added_is_outermost() {
    let (server, seen, _) = serve(|_, s| Some(ok(s.header("x-trace").unwrap_or(""))));
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut builder = Client::builder();
    for name in ["a", "b", "c"] {
        let events = events.clone();
        builder = builder.interceptor(move |mut req, next| {
            events.lock().unwrap().push(format!("{name}>"));
            let trace = match req.headers().get("x-trace") {
                Some(t) => format!("{t},{name}"),
                None => name.to_string(),
            };
            req.headers_mut().set("X-Trace", &trace).map_err(Error::InvalidHeader)?;
            let resp = next.run(req);
            events.lock().unwrap().push(format!("<{name}"));
            resp
        });
    }
    let client = builder.build().unwrap();
    assert_eq!(client.get_text(server.url("/")).unwrap(), "a,b,c");
    assert_eq!(*events.lock().unwrap(), ["a>", "b>", "c>", "<c", "<b", "<a"]);
    assert_eq!(seen.recv().unwrap().header("x-trace"), Some("a,b,c"));
}

#[test]
fn an_interceptor_can_answer_without_the_network() {
    let (server, _seen, count) = serve(|_, _| Some(ok("from the network")));
    let cache: Cache = Arc::new(Mutex::new(Vec::new()));
    let store = cache.clone();
    // A tiny cache: answers GETs it has seen from memory.
    let client = Client::builder()
        .interceptor(move |req: Request, next: &Next<'_>| {
            let url = req.url().to_owned();
            if let Some((_, body)) = store.lock().unwrap().iter().find(|(u, _)| *u == url) {
                let mut head = ResponseHead::new(200);
                head.headers.append("X-Cache", "hit").map_err(Error::InvalidHeader)?;
                return Response::from_parts(head, &url, body.clone());
            }
            let resp = next.run(req)?;
            let status = resp.status();
            let body = resp.bytes()?;
            store.lock().unwrap().push((url.clone(), body.clone()));
            let mut head = ResponseHead::new(status);
            head.headers.append("X-Cache", "miss").map_err(Error::InvalidHeader)?;
            Response::from_parts(head, &url, body)
        })
        .build()
        .unwrap();
    for expected in ["miss", "hit", "hit"] {
        let resp = client.send(server.url("/cached")).unwrap();
        assert_eq!(resp.header("x-cache"), Some(expected));
        assert!(resp.url().ends_with("/cached"));
        assert_eq!(resp.text().unwrap(), "from the network");
    }
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(cache.lock().unwrap().len(), 1);

    // A stub for a host that does not exist: nothing is looked up or connected.
    let client = Client::builder()
        .interceptor(|req, _next| Response::from_parts(ResponseHead::new(418), req.url(), Body::Empty))
        .build()
        .unwrap();
    let resp = client.send("http://no-such-host.invalid/tea").unwrap();
    assert_eq!(resp.status(), 418);
    assert!(resp.is_complete());
    assert_eq!(resp.text().unwrap(), "");
}

#[test]
fn retries_with_backoff_until_the_server_recovers() {
    // Twice a failure, then success: by status, and by connections closed without an answer
    // (on fresh connections, so the pool's own retry of a stale connection stays out of it).
    let by_status = |n: usize, _: &Seen| {
        Some(if n == 1 {
            status(503)
        } else if n == 2 {
            status(502)
        } else {
            ok("recovered")
        })
    };
    let by_close = |n: usize, _: &Seen| if n <= 2 { None } else { Some(ok("recovered")) };
    let answers: [Answer; 2] = [Box::new(by_status), Box::new(by_close)];
    for answer in answers {
        let (server, _seen, count) = serve(answer);
        let retry =
            Retry::new().attempts(5).backoff(Duration::from_millis(40), Duration::from_secs(1)).jitter(false);
        let client = Client::builder().interceptor(retry.interceptor()).build().unwrap();
        let start = Instant::now();
        assert_eq!(client.get_text(server.url("/flaky")).unwrap(), "recovered");
        let took = start.elapsed();
        assert_eq!(count.load(Ordering::SeqCst), 3, "two failures, one success");
        // Waits of 40 ms and 80 ms.
        assert!(took >= Duration::from_millis(120), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    // Always failing: exactly `attempts` tries, and the last answer is returned.
    let (server, _seen, count) = serve(|_, _| Some(status(502)));
    let client = Client::builder()
        .interceptor(
            Retry::new()
                .attempts(3)
                .backoff(Duration::from_millis(1), Duration::from_millis(5))
                .interceptor(),
        )
        .build()
        .unwrap();
    let resp = client.send(server.url("/down")).unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.text().unwrap(), "oops");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    // The connection was kept through the retries.
    assert_eq!(server.accepted(), 1);
}

#[test]
fn only_idempotent_replayable_requests_are_retried() {
    let (server, _seen, count) = serve(|_, _| Some(status(503)));
    let client = Client::builder()
        .interceptor(
            Retry::new()
                .attempts(4)
                .backoff(Duration::from_millis(1), Duration::from_millis(2))
                .interceptor(),
        )
        .build()
        .unwrap();
    let tries = |req: Request| {
        let before = count.load(Ordering::SeqCst);
        assert_eq!(client.send(req).unwrap().status(), 503);
        count.load(Ordering::SeqCst) - before
    };
    assert_eq!(tries(Request::new(Method::Post, server.url("/")).with_body("x")), 1);
    assert_eq!(tries(Request::new(Method::Patch, server.url("/")).with_body("x")), 1);
    let streamed = Body::stream(std::io::Cursor::new(b"abc".to_vec()), Some(3));
    assert_eq!(tries(Request::new(Method::Put, server.url("/")).with_body(streamed)), 1);
    assert_eq!(tries(Request::new(Method::Put, server.url("/")).with_body("abc")), 4);
    assert_eq!(tries(Request::new(Method::Delete, server.url("/"))), 4);
    // A POST its caller marked with an idempotency key may be sent again.
    let keyed = Request::new(Method::Post, server.url("/")).with_header("Idempotency-Key", "k1").unwrap();
    assert_eq!(tries(keyed.with_body("x")), 4);
    // Other statuses are answers, not failures.
    let (server, _seen, count) = serve(|_, _| Some(status(500)));
    assert_eq!(client.send(server.url("/")).unwrap().status(), 500);
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn retries_are_bounded_in_time() {
    // Connect errors: counted by an interceptor inside the retry one.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let tries = Arc::new(AtomicUsize::new(0));
    let counter = tries.clone();
    let client = Client::builder()
        .interceptor(
            Retry::new()
                .attempts(3)
                .backoff(Duration::from_millis(10), Duration::from_millis(20))
                .interceptor(),
        )
        .interceptor(move |req, next| {
            counter.fetch_add(1, Ordering::SeqCst);
            next.run(req)
        })
        .build()
        .unwrap();
    let err = client.send(url.as_str()).unwrap_err();
    // The last try's error, with the number of tries.
    assert!(matches!(err.last(), Error::Connect { .. }), "{err}");
    assert!(err.is_connect());
    assert_eq!(err.attempts(), 3);
    assert_eq!(tries.load(Ordering::SeqCst), 3);

    // No retry that would start after `max_total`.
    let (server, _seen, count) = serve(|_, _| Some(status(503)));
    let client = Client::builder()
        .interceptor(
            Retry::new()
                .attempts(10)
                .backoff(Duration::from_secs(2), Duration::from_secs(4))
                .max_total(Duration::from_millis(50))
                .interceptor(),
        )
        .build()
        .unwrap();
    let start = Instant::now();
    assert_eq!(client.send(server.url("/")).unwrap().status(), 503);
    assert_eq!(count.load(Ordering::SeqCst), 1);
    // Not even the first wait (2 s) was begun.
    assert!(start.elapsed() < Duration::from_millis(1500), "{:?}", start.elapsed());

    // The client's overall deadline covers the retries and their waits.
    let (server, _seen, count) = serve(|_, _| Some(status(504)));
    let client = Client::builder()
        .timeout(Duration::from_millis(300))
        .interceptor(
            Retry::new()
                .attempts(100)
                .backoff(Duration::from_millis(40), Duration::from_millis(40))
                .jitter(false)
                .interceptor(),
        )
        .build()
        .unwrap();
    let start = Instant::now();
    assert_eq!(client.send(server.url("/")).unwrap().status(), 504);
    assert!(start.elapsed() < Duration::from_millis(400), "{:?}", start.elapsed());
    let n = count.load(Ordering::SeqCst);
    assert!((2..=8).contains(&n), "{n}");

    // A Retry-After longer than the longest wait ends the retries at once.
    let (server, _seen, count) =
        serve(|_, _| Some(b"HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n".to_vec()));
    let client = Client::builder().interceptor(Retry::new().interceptor()).build().unwrap();
    assert_eq!(client.send(server.url("/")).unwrap().header("retry-after"), Some("120"));
    assert_eq!(count.load(Ordering::SeqCst), 1);

    // A read timeout is retried; a deadline is not.
    let (server, _seen, count) = serve(|n, _| {
        if n == 1 {
            std::thread::sleep(Duration::from_millis(300));
        }
        Some(ok("late but fine"))
    });
    let client = Client::builder()
        .read_timeout(Duration::from_millis(100))
        .interceptor(Retry::new().backoff(Duration::from_millis(1), Duration::from_millis(1)).interceptor())
        .build()
        .unwrap();
    assert_eq!(client.get_text(server.url("/")).unwrap(), "late but fine");
    assert_eq!(count.load(Ordering::SeqCst), 2);
    // The overall deadline ends the request, and it is not retried.
    let (server, _seen, count) = serve(|_, _| {
        std::thread::sleep(Duration::from_millis(200));
        Some(ok("too late"))
    });
    let client = Client::builder()
        .timeout(Duration::from_millis(80))
        .interceptor(Retry::new().backoff(Duration::from_millis(1), Duration::from_millis(1)).interceptor())
        .build()
        .unwrap();
    let err = client.send(server.url("/")).unwrap_err();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Deadline)), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn header_injection() {
    let (server, seen, _) = serve(|_, _| Some(ok("ok")));
    let token = Arc::new(AtomicUsize::new(7));
    let source = token.clone();
    let client = Client::builder()
        .default_header("X-Api-Key", "k1")
        .default_header("Accept", "application/json")
        .interceptor(move |mut req, next| {
            let t = source.fetch_add(1, Ordering::SeqCst);
            req.headers_mut().set("Authorization", &format!("Bearer t{t}")).map_err(Error::InvalidHeader)?;
            next.run(req)
        })
        .build()
        .unwrap();
    client.get_text(server.url("/")).unwrap();
    let s = seen.recv().unwrap();
    assert_eq!(s.header("x-api-key"), Some("k1"));
    assert_eq!(s.header("accept"), Some("application/json"));
    assert_eq!(s.header("authorization"), Some("Bearer t7"));
    // The request's own field wins over a default one.
    let req = Request::new(Method::Get, server.url("/")).with_header("Accept", "text/plain").unwrap();
    client.send(req).unwrap();
    let s = seen.recv().unwrap();
    assert_eq!(s.header("accept"), Some("text/plain"));
    assert_eq!(s.header("authorization"), Some("Bearer t8"));
    assert_eq!(s.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("accept")).count(), 1);
    // An invalid default header is reported by build.
    let err = Client::builder().default_header("Bad Name", "v").build().unwrap_err();
    assert!(matches!(err, Error::InvalidHeader(_)), "{err}");
    let err = Client::builder().default_header("X", "a\r\nInjected: 1").build().unwrap_err();
    assert!(matches!(err, Error::InvalidHeader(_)), "{err}");
}

#[test]
fn default_authorization_is_dropped_on_a_redirect_to_another_host() {
    let (other, other_seen, _) = serve(|_, _| Some(ok("landed")));
    let target = other.url("/landing");
    let (server, seen, _) = serve(move |_, _| {
        Some(format!("HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n").into_bytes())
    });
    let client = Client::builder().default_header("Authorization", "Bearer secret").build().unwrap();
    assert_eq!(client.get_text(server.url("/start")).unwrap(), "landed");
    assert_eq!(seen.recv().unwrap().header("authorization"), Some("Bearer secret"));
    assert_eq!(other_seen.recv().unwrap().header("authorization"), None);
}

#[test]
fn interceptors_see_a_redirected_exchange_once() {
    let (server, seen, _) = serve(|_, s| match s.target.as_str() {
        "/a" => Some(b"HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n".to_vec()),
        "/b" => Some(b"HTTP/1.1 302 Found\r\nLocation: /c\r\nContent-Length: 0\r\n\r\n".to_vec()),
        _ => Some(ok("at c")),
    });
    let calls = Arc::new(Mutex::new(Vec::new()));
    let record = calls.clone();
    let client = Client::builder()
        .interceptor(move |req, next| {
            let asked = req.url().to_owned();
            let resp = next.run(req)?;
            record.lock().unwrap().push((asked, resp.status(), resp.url().to_owned()));
            Ok(resp)
        })
        .build()
        .unwrap();
    assert_eq!(client.get_text(server.url("/a")).unwrap(), "at c");
    assert_eq!(*calls.lock().unwrap(), [(server.url("/a"), 200, server.url("/c"))]);
    assert_eq!(seen.try_iter().count(), 3);
}

/// A logger that keeps every record.
struct Keep(Mutex<Vec<String>>);

impl log::Log for Keep {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0.lock().unwrap().push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

fn logs() -> &'static Keep {
    static LOGGER: OnceLock<&'static Keep> = OnceLock::new();
    LOGGER.get_or_init(|| {
        let keep: &'static Keep = Box::leak(Box::new(Keep(Mutex::new(Vec::new()))));
        log::set_logger(keep).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
        keep
    })
}

#[test]
fn logging_interceptor_writes_method_url_status_and_time_without_credentials() {
    let keep = logs();
    let (server, seen, _) = serve(|_, s| match s.target.as_str() {
        "/old" => Some(b"HTTP/1.1 301 Moved\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n".to_vec()),
        _ => Some(status(404)),
    });
    let client = Client::builder().interceptor(intercept::logging()).build().unwrap();
    let addr = server.addr;
    let resp = client.send(format!("http://alice:s3cret@{addr}/old")).unwrap();
    assert_eq!(resp.status(), 404);
    // The response's URL has no credentials either; they went out as Basic authorization.
    assert_eq!(resp.url(), format!("http://{addr}/new"));
    assert!(seen.recv().unwrap().header("authorization").is_some_and(|a| a.starts_with("Basic ")));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = closed.local_addr().unwrap();
    drop(closed);
    assert!(client.send(format!("http://bob:pw@{dead}/x")).is_err());

    let lines = keep.0.lock().unwrap().clone();
    let ours: Vec<&String> =
        lines.iter().filter(|l| l.contains(&addr.to_string()) || l.contains(&dead.to_string())).collect();
    assert!(
        ours.iter().any(|l| l.starts_with("INFO GET http://")
            && l.contains(&format!("{addr}/old: 404 from http://{addr}/new in "))
            && l.ends_with(" ms")),
        "{ours:?}"
    );
    assert!(
        ours.iter().any(|l| l.starts_with("WARN GET") && l.contains(&format!("{dead}/x: failed after"))),
        "{ours:?}"
    );
    assert!(
        ours.iter().all(|l| !l.contains("s3cret") && !l.contains("alice") && !l.contains("bob:")),
        "{ours:?}"
    );
}
