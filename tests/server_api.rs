//! What an API service reaches for: application state shared by handlers, typed and owned
//! extraction (path parameters, the query), over loopback sockets and through the in-memory
//! test helpers.

mod server_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use http_toolkit::server::{test, Response, Server};
use http_toolkit::utils::Method;
use server_support::{addr, start, Client};

struct Hits(AtomicU64);

#[derive(Default)]
struct Names(Mutex<Vec<String>>);

#[test]
fn state_is_shared_by_handlers_without_an_arc_per_closure() {
    let h = start(
        |b| b.state(Hits(AtomicU64::new(0))).state(Names::default()),
        |s| {
            s.route(Method::Post, "/names/{name}", |cx| {
                let name = cx.captures().get("name").unwrap_or_default().to_owned();
                cx.state::<Names>().0.lock().unwrap().push(name);
                cx.state::<Hits>().0.fetch_add(1, Ordering::Relaxed);
                Response::new(204)
            })
            .unwrap();
            s.route(Method::Get, "/names", |cx| {
                cx.state::<Hits>().0.fetch_add(1, Ordering::Relaxed);
                Response::text(cx.state::<Names>().0.lock().unwrap().join(","))
            })
            .unwrap();
            s.route(Method::Get, "/missing", |cx| Response::text(cx.state::<String>().clone())).unwrap();
            s.route(Method::Get, "/maybe", |cx| {
                Response::text(format!("{:?}", cx.try_state::<String>().map(String::as_str)))
            })
            .unwrap();
        },
    );
    let mut c = Client::connect(addr(&h));
    for name in ["ada", "grace"] {
        c.send(format!("POST /names/{name} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n").as_bytes());
        assert_eq!(c.read().status(), 204);
    }
    assert_eq!(c.get("/names").text(), "ada,grace");
    assert_eq!(h.state::<Hits>().unwrap().0.load(Ordering::Relaxed), 3);
    // A type never given: the handler panics, the client gets a 500, the server goes on.
    let r = c.get("/missing");
    assert_eq!(r.status(), 500);
    assert!(!r.text().contains("String"), "the panic message stays in the log: {}", r.text());
    let mut c = Client::connect(addr(&h));
    assert_eq!(c.get("/maybe").text(), "None");
    assert!(h.state::<u8>().is_none());
    h.shutdown();
}

#[test]
fn state_replaced_by_a_second_value_of_its_type() {
    let server = Server::builder().port(0).bind("127.0.0.1").state(1u32).state(2u32).build().unwrap();
    server.route(Method::Get, "/n", |cx| cx.state::<u32>().to_string()).unwrap();
    assert_eq!(test::get(&server, "/n").text(), "2");
}
