//! Tries of one request over loopback sockets: a per-try timeout beside the overall
//! deadline, with the retry interceptor; the number of tries on the response and on the
//! error; a try that is over once the head is in (its body is read within the overall
//! deadline).

mod client_common;

use std::time::{Duration, Instant};

use client_common::RawServer;
use http_client::intercept::Retry;
use http_client::{Client, Error, TimeoutKind};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A server that reads a request and never answers (the connection stays open until the
/// client closes it).
fn silent() -> RawServer {
    RawServer::start(|mut peer| {
        let _ = peer.read_request();
        let _ = peer.read_request();
    })
}

fn retrying(attempts: u32) -> Client {
    let retry = Retry::new().attempts(attempts).backoff(ms(10), ms(20)).jitter(false);
    Client::builder().interceptor(retry.interceptor()).build().unwrap()
}

#[test]
fn each_try_gets_its_own_timeout_and_the_error_counts_them() {
    let server = silent();
    let t = Instant::now();
    let err = retrying(3).get(server.url("/")).try_timeout(ms(200)).send().unwrap_err();
    let took = t.elapsed();
    assert_eq!(err.attempts(), 3, "{err}");
    assert!(matches!(err, Error::Retried { attempts: 3, .. }), "{err:?}");
    assert!(matches!(err.last(), Error::Timeout(TimeoutKind::Try)), "{err:?}");
    assert!(err.is_timeout());
    assert!(err.to_string().contains("per-try timeout") && err.to_string().contains("3 tries"), "{err}");
    // Three tries of 200 ms and two waits of 10 and 20 ms.
    assert!(took >= ms(600) && took < ms(2500), "{took:?}");
    assert_eq!(server.accepted(), 3);
}

#[test]
fn the_overall_deadline_still_caps_every_try() {
    let server = silent();
    let t = Instant::now();
    let err = retrying(5).get(server.url("/")).try_timeout(ms(200)).timeout(ms(350)).send().unwrap_err();
    let took = t.elapsed();
    assert!(matches!(err.last(), Error::Timeout(TimeoutKind::Deadline)), "{err:?}");
    assert_eq!(err.attempts(), 2, "{err}");
    assert!(took >= ms(340) && took < ms(1500), "{took:?}");
    // Without a per-try timeout the deadline ends the one try: nothing is retried after it.
    let t = Instant::now();
    let err = retrying(3).get(server.url("/")).timeout(ms(300)).send().unwrap_err();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Deadline)), "{err:?}");
    assert_eq!(err.attempts(), 1);
    assert!(t.elapsed() < ms(1500));
}

#[test]
fn a_response_says_how_many_tries_it_took() {
    // The first connection gets no answer; the second one does.
    let server = RawServer::start(|mut peer| {
        if peer.read_request().is_none() {
            return;
        }
        if peer.index == 1 {
            let _ = peer.read_request();
            return;
        }
        peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    let resp = retrying(3).get(server.url("/")).try_timeout(ms(200)).send().unwrap();
    assert_eq!(resp.attempts(), 2);
    assert_eq!(resp.text().unwrap(), "ok");
    // Tried once: 1, with or without a retry interceptor.
    assert_eq!(retrying(3).get(server.url("/")).send().unwrap().attempts(), 1);
    assert_eq!(Client::new().get(server.url("/")).send().unwrap().attempts(), 1);
}

#[test]
fn a_try_ends_with_the_head_and_the_body_has_the_overall_deadline() {
    // The head at once, the body 400 ms later: past the try's 200 ms, within the 5 s.
    let server = RawServer::start(|mut peer| {
        if peer.read_request().is_some() {
            peer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
            std::thread::sleep(ms(400));
            peer.write(b"late");
        }
    });
    let resp =
        retrying(3).get(server.url("/")).try_timeout(ms(200)).timeout(Duration::from_secs(5)).send().unwrap();
    assert_eq!(resp.attempts(), 1);
    assert_eq!(resp.text().unwrap(), "late");
    // With an overall deadline shorter than the body's wait, the body read fails on it.
    let resp = retrying(3).get(server.url("/")).try_timeout(ms(200)).timeout(ms(300)).send().unwrap();
    let err = resp.text().unwrap_err();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Deadline)), "{err:?}");
}
