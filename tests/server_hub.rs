//! Server-sent events to many clients through an `EventHub`: every subscriber gets what is
//! published, a client that left is dropped, a client that does not read never holds up the
//! publisher, and a stream's head carries the headers it was given.

mod server_support;

use std::io::Read;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use http_toolkit::server::{Event, EventHub, Response, StreamOptions};
use http_toolkit::utils::io::{read_response_head, BodyReader};
use http_toolkit::utils::{Framing, Limits, ResponseHead};
use server_support::{addr, start, Client};

fn hub_server(hub: &EventHub) -> http_toolkit::server::ServerHandle {
    let (plain, headed) = (hub.clone(), hub.clone());
    start(
        |b| b,
        move |s| {
            s.add_context_resource("/events", move |cx| plain.subscribe(cx));
            s.add_context_resource("/notes/events", move |cx| {
                let head = Response::new(200).with_header("Access-Control-Allow-Origin", "http://app.test");
                headed.subscribe_with(cx, head)
            });
        },
    )
}

fn subscribe(c: &mut Client, path: &str) -> ResponseHead {
    c.send(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    let head = read_response_head(&mut c.reader, &Limits::default()).expect("a head").expect("a head");
    assert_eq!(head.status, 200);
    head
}

fn read_event(c: &mut Client, n: usize) -> Vec<u8> {
    let mut body = BodyReader::new(&mut c.reader, Framing::Chunked, &Limits::default());
    let mut out = vec![0u8; n];
    body.read_exact(&mut out).expect("the event's bytes");
    out
}

#[test]
fn every_subscriber_gets_each_event_and_the_head_carries_its_headers() {
    let hub = EventHub::new();
    let h = hub_server(&hub);
    let (mut a, mut b) = (Client::connect(addr(&h)), Client::connect(addr(&h)));
    let head = subscribe(&mut a, "/events");
    assert_eq!(head.headers.get("content-type"), Some("text/event-stream"));
    let head = subscribe(&mut b, "/notes/events");
    assert_eq!(head.headers.get("access-control-allow-origin"), Some("http://app.test"));
    assert_eq!(head.headers.get("content-type"), Some("text/event-stream"));
    assert_eq!(head.headers.get("cache-control"), Some("no-cache"));
    assert_eq!(hub.len(), 2);
    let event = Event::data("{\"id\":1}").event("created").id("1");
    assert_eq!(hub.publish(&event), 2);
    let wire = event.to_bytes();
    assert_eq!(read_event(&mut a, wire.len()), wire);
    assert_eq!(read_event(&mut b, wire.len()), wire);
}

#[test]
fn a_client_that_left_is_dropped() {
    let hub = EventHub::new();
    let h = hub_server(&hub);
    let mut stays = Client::connect(addr(&h));
    subscribe(&mut stays, "/events");
    let mut leaves = Client::connect(addr(&h));
    subscribe(&mut leaves, "/events");
    drop(leaves);
    // The engine learns of the close when it reads the end or a write fails: publish until
    // the hub counts one subscriber, within a bound.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut sent = 0;
    while hub.len() == 2 {
        assert!(Instant::now() < deadline, "the gone client was never dropped");
        hub.publish(&Event::data("ping"));
        sent += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(hub.len(), 1);
    let wire = Event::data("ping").to_bytes();
    assert_eq!(read_event(&mut stays, wire.len() * sent), wire.repeat(sent));
}

#[test]
fn a_client_that_does_not_read_never_holds_up_the_publisher() {
    let hub = EventHub::with_options(StreamOptions::new().capacity(16 * 1024));
    let h = hub_server(&hub);
    let mut slow = Client::connect(addr(&h));
    subscribe(&mut slow, "/events");
    let mut fast = Client::connect(addr(&h));
    subscribe(&mut fast, "/events");
    let event = Event::data("x".repeat(256 * 1024));
    let size = event.to_bytes().len();
    // The fast client reads each event and says so; the slow one reads nothing.
    let (read_tx, read_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut body = BodyReader::new(&mut fast.reader, Framing::Chunked, &Limits::default());
        let mut event = vec![0u8; size];
        for _ in 0..400 {
            body.read_exact(&mut event).expect("an event");
            if read_tx.send(()).is_err() {
                return;
            }
        }
    });
    let (done_tx, done_rx) = mpsc::channel();
    let publisher = hub.clone();
    std::thread::spawn(move || {
        let mut slowest = Duration::ZERO;
        let mut published = 0;
        while publisher.len() == 2 && published < 400 {
            let started = Instant::now();
            assert!(publisher.publish(&event) >= 1);
            slowest = slowest.max(started.elapsed());
            published += 1;
            read_rx.recv_timeout(Duration::from_secs(10)).expect("the fast client read the event");
        }
        let _ = done_tx.send((published, slowest, publisher.len()));
    });
    let (published, slowest, left) =
        done_rx.recv_timeout(Duration::from_secs(60)).expect("the publisher finished");
    assert_eq!(left, 1, "the slow client was let go after {published} events");
    assert!(slowest < Duration::from_secs(1), "a publish took {slowest:?}");
    // The fast client is still subscribed and gets the next event.
    assert_eq!(hub.publish(&Event::data("x".repeat(256 * 1024))), 1);
    reader.join().unwrap();
    drop(slow);
}

#[test]
fn an_event_queued_by_the_handler_itself_goes_out_with_or_without_middleware() {
    for middleware in [false, true] {
        let h = start(
            |b| b,
            move |s| {
                s.add_context_resource("/first", |cx| {
                    if let Ok(events) = cx.responder().events() {
                        // Queued before the head is written; the stream ends after it.
                        let _ = events.try_send(&Event::data("first"));
                    }
                    Response::later()
                });
                if middleware {
                    s.wrap(|cx, next| next.run(cx).with_header("X-Layer", "1"));
                }
            },
        );
        let mut c = Client::connect(addr(&h));
        subscribe(&mut c, "/first");
        let wire = Event::data("first").to_bytes();
        assert_eq!(read_event(&mut c, wire.len()), wire, "middleware: {middleware}");
    }
}
