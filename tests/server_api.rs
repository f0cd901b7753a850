//! What an API service reaches for: application state shared by handlers, typed and owned
//! extraction (path parameters, the query), over loopback sockets and through the in-memory
//! test helpers.

mod server_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use http_toolkit::server::{test, HttpError, Response, Server};
use http_toolkit::utils::Method;
use serde::{Deserialize, Serialize};
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

#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Note {
    title: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Order {
    Asc,
    Desc,
}

#[derive(Debug, Deserialize)]
struct Page {
    limit: Option<u32>,
    order: Option<Order>,
}

fn extraction_server() -> Server {
    let server = Server::builder().port(0).bind("127.0.0.1").build().unwrap();
    // Written as a user first writes it: a parameter read, then the body, then both used.
    server
        .route(Method::Put, "/notes/{id}", |cx| {
            let id = cx.param("id").unwrap_or_default();
            let note: Note = cx.json()?;
            Ok::<_, HttpError>(Response::text(format!("{id}={}", note.title)))
        })
        .unwrap();
    server
        .route(Method::Post, "/notes/{id}/stars", |cx| -> Result<Response, HttpError> {
            let id: u64 = cx.param_as("id")?;
            let note: Note = cx.json()?;
            let page: Page = cx.query()?;
            Ok(Response::text(format!("{id} {} {:?} {:?}", note.title, page.limit, page.order)))
        })
        .unwrap();
    server
        .route(Method::Get, "/typo/{id}", |cx| -> Result<String, HttpError> {
            let n: u8 = cx.param_as("idd")?;
            Ok(n.to_string())
        })
        .unwrap();
    server
        .route(Method::Get, "/list", |cx| -> Result<String, HttpError> {
            let page: Page = cx.query()?;
            Ok(format!("{:?} {:?}", page.limit, page.order))
        })
        .unwrap();
    // A streaming route takes anything `IntoResponse`, as `route` does.
    server
        .streaming_route(Method::Put, "/upload/{name}", |cx| -> Result<String, HttpError> {
            let name = cx.param("name").unwrap_or_default();
            let n = std::io::copy(&mut cx.body(), &mut std::io::sink())?;
            if n == 0 {
                return Err(HttpError::bad_request("empty upload"));
            }
            Ok(format!("{name}: {n}"))
        })
        .unwrap();
    server
}

#[test]
fn extraction_in_memory() {
    let server = extraction_server();
    let put = |path: &str, body: &str| {
        test::request(&server, Method::Put, path).header("Content-Type", "application/json").body(body).send()
    };
    assert_eq!(put("/notes/n%201", r#"{"title":"egg"}"#).text(), "n 1=egg");
    let r = test::request(&server, Method::Post, "/notes/7/stars?limit=3&order=desc")
        .json(&Note { title: "t".into() })
        .send();
    assert_eq!(r.text(), "7 t Some(3) Some(Desc)");
    // A parameter that does not parse: 400 naming it, its value not repeated.
    let r = test::request(&server, Method::Post, "/notes/%3Cscript%3E/stars")
        .json(&Note { title: "t".into() })
        .send();
    assert_eq!((r.status(), r.text().trim()), (400, "invalid path parameter `id`"));
    // A parameter the route does not have: the program's mistake, 500.
    assert_eq!(test::get(&server, "/typo/1").status(), 500);
    // Queries: absent, wrong, and a value the deserializer would quote back.
    assert_eq!(test::get(&server, "/list").text(), "None None");
    let r = test::get(&server, "/list?limit=lots");
    assert_eq!(r.status(), 400);
    assert!(r.text().starts_with("invalid query: "), "{}", r.text());
    let r = test::get(&server, "/list?order=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%22");
    assert_eq!(r.status(), 400);
    assert!(!r.text().contains('<') && !r.text().contains('"'), "{}", r.text());
    // Streaming routes with `?`.
    let r = test::request(&server, Method::Put, "/upload/a.bin").body("12345").send();
    assert_eq!((r.status(), r.text().as_str()), (200, "a.bin: 5"));
    assert_eq!(test::request(&server, Method::Put, "/upload/a.bin").send().status(), 400);
}

#[test]
fn extraction_over_loopback() {
    let h = extraction_server().spawn().unwrap();
    let mut c = Client::connect(addr(&h));
    let body = r#"{"title":"egg"}"#;
    c.send(
        format!(
            "PUT /notes/42 HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(c.read().text(), "42=egg");
    c.send(b"PUT /upload/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    assert_eq!(c.read().text(), "x: 3");
    let r = c.get("/list?limit=-1");
    assert_eq!(r.status(), 400);
    h.shutdown();
}
