//! Hooks and handler kinds: startup, init, log, error (a panicking handler), URL
//! transformation, fallback, error pages, method handlers.

mod server_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use http_toolkit::server::{resource_handler, CloseReason, Context, ErrorEvent, Response, Server};
use http_toolkit::utils::Method;
use server_support::*;

#[test]
fn init_and_startup_hooks_run_before_the_first_request() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let o1 = order.clone();
    let server = Server::builder()
        .port(0)
        .bind("127.0.0.1")
        .init(move || o1.lock().unwrap().push("init"))
        .build()
        .unwrap();
    let o2 = order.clone();
    server.set_startup_hook(move || o2.lock().unwrap().push("startup"));
    let o3 = order.clone();
    server.add_resource("/", move |_, _| {
        o3.lock().unwrap().push("request");
        Response::text("ok")
    });
    let h = server.spawn().unwrap();
    assert_eq!(Client::connect(addr(&h)).get("/").status(), 200);
    assert_eq!(*order.lock().unwrap(), ["init", "startup", "request"]);
}

#[test]
fn log_hook_sees_every_request() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let h = start(
        |b| b,
        |s| {
            s.add_resource("/", |_, _| Response::text("Hello, world!"));
            s.set_log_hook(move |r| {
                let _ = tx.lock().unwrap().send((
                    r.request.method().clone(),
                    r.request.url().to_owned(),
                    r.status,
                    r.bytes,
                    r.peer.ip(),
                    r.duration,
                ));
            });
        },
    );
    let mut c = Client::connect(addr(&h));
    c.get("/");
    c.get("/nope");
    let (m, url, status, bytes, ip, _) = rx.recv().unwrap();
    assert_eq!((m, url.as_str(), status, bytes), (Method::Get, "/", 200, 13));
    assert_eq!(ip.unwrap().to_string(), "127.0.0.1");
    let (_, url, status, _, _, _) = rx.recv().unwrap();
    assert_eq!((url.as_str(), status), ("/nope", 404));
    // Requests refused before dispatch are logged too.
    let out = raw(addr(&h), b"GET /no-host HTTP/1.1\r\n\r\n");
    assert_eq!(status_of(&out), 400);
    let (_, url, status, _, _, _) = rx.recv().unwrap();
    assert_eq!((url.as_str(), status), ("/no-host", 400));
}

#[test]
fn a_panicking_handler_costs_one_500() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let h = start(
        |b| b.threads(2).io_threads(1),
        |s| {
            s.add_resource("/boom", |_, _| -> Response { panic!("handler exploded") });
            s.add_resource("/ok", |_, _| Response::text("fine"));
            s.set_error_hook(move |e| {
                if let ErrorEvent::HandlerPanic { message, request, .. } = e {
                    let _ = tx.lock().unwrap().send(format!("{} {message}", request.url()));
                }
            });
        },
    );
    let mut c = Client::connect(addr(&h));
    for _ in 0..5 {
        let r = c.get("/boom");
        assert_eq!(r.status(), 500);
        assert!(!r.text().contains("exploded"), "the panic message stays on the server");
        assert_eq!(rx.recv().unwrap(), "/boom handler exploded");
        // The same connection, the same (small) pool, still serving.
        assert_eq!(c.get("/ok").text(), "fine");
    }
}

#[test]
fn url_transformation_fallback_and_error_pages() {
    let h = start(
        |b| b,
        |s| {
            s.add_resource("/v2/items", |_, args| {
                Response::text(format!("items {}", args.get("id").unwrap_or("-")))
            });
            s.add_resource("/v2/url", |req, _| Response::text(req.url().to_owned()));
            s.set_url_transformation(|url| url.replacen("/v1/", "/v2/", 1));
            s.set_error_response_handler(|code, msg| format!("<p>E{code}: {msg}</p>"));
            s.set_fallback_handler(|cx: &mut Context<'_>| {
                if cx.path().starts_with("/old") {
                    Response::redirect(301, "/v2/items")
                } else {
                    cx.error_response(404, "nothing here")
                }
            });
            assert_eq!(s.write_error_response(418, "teapot").status(), 418);
        },
    );
    let mut c = Client::connect(addr(&h));
    assert_eq!(c.get("/v1/items?id=7").text(), "items 7");
    // The request itself is rewritten, as the egg's transformation does.
    assert_eq!(c.get("/v1/url?x=1").text(), "/v2/url?x=1");
    assert_eq!(c.get("/v%32/items").text(), "items -");
    let r = c.get("/old/thing");
    assert_eq!((r.status(), r.header("location")), (301, Some("/v2/items")));
    let r = c.get("/none");
    assert_eq!((r.status(), r.text().as_str()), (404, "<p>E404: nothing here</p>"));
    // Built-in error responses use the handler too.
    c.send(b"BREW / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read().text(), "<p>E501: Not Implemented</p>");
}

#[test]
fn method_handlers_get_and_set() {
    let calls = Arc::new(AtomicUsize::new(0));
    let h = start(
        |b| b,
        |s| {
            s.add_resource("/r", |req, _| Response::text(format!("resource {}", req.method())));
            s.set_method_handler(Method::Put, resource_handler);
            let calls = calls.clone();
            s.set_method_handler(Method::extension("PURGE").unwrap(), move |cx: &mut Context<'_>| {
                calls.fetch_add(1, Ordering::SeqCst);
                Response::text(format!("purged {}", cx.path()))
            });
            assert!(s.method_handler(&Method::Get).is_some());
            assert!(s.method_handler(&Method::Delete).is_none());
        },
    );
    let mut c = Client::connect(addr(&h));
    c.send(b"PUT /r HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
    assert_eq!(c.read().text(), "resource PUT");
    c.send(b"PURGE /cache HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read().text(), "purged /cache");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    c.send(b"OPTIONS /r HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read().header("allow"), Some("GET, HEAD, POST, PUT, OPTIONS, PURGE"));
    // Without a GET handler, GET and HEAD are 405.
    h.remove_method_handler(&Method::Get);
    assert_eq!(c.get("/r").status(), 405);
    c.send(b"DELETE /r HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.read();
    assert_eq!((r.status(), r.header("allow")), (405, Some("POST, PUT, OPTIONS, PURGE")));
}

#[test]
fn panicking_hooks_do_not_take_the_server_down() {
    let h = start(
        |b| b.threads(2).io_threads(1),
        |s| {
            s.add_resource("/", |_, _| Response::text("ok"));
            s.set_url_transformation(
                |url| if url.contains("boom") { panic!("transform") } else { url.to_owned() },
            );
            s.set_error_response_handler(
                |code, _| if code == 404 { panic!("page") } else { format!("E{code}") },
            );
            s.set_log_hook(|r| {
                if r.status == 500 {
                    panic!("log")
                }
            });
        },
    );
    let mut c = Client::connect(addr(&h));
    for _ in 0..3 {
        assert_eq!(c.get("/boom").status(), 500);
        let r = c.get("/missing");
        assert_eq!(r.status(), 404);
        assert!(r.text().contains("404"), "the default page stands in");
        assert_eq!(c.get("/").text(), "ok");
    }
}

#[test]
fn the_log_hook_is_told_why_a_connection_closes() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let h = start(
        |b| b,
        |s| {
            s.add_resource("/", |_, _| Response::text("ok"));
            s.add_resource("/bye", |_, _| Response::text("bye").with_close());
            s.set_log_hook(move |r| {
                let _ = tx.lock().unwrap().send((r.request.url().to_owned(), r.close));
            });
        },
    );
    let mut c = Client::connect(addr(&h));
    c.get("/");
    assert_eq!(rx.recv().unwrap(), ("/".to_owned(), None), "kept alive");
    c.get("/bye");
    assert_eq!(rx.recv().unwrap(), ("/bye".to_owned(), Some(CloseReason::RequestedByHandler)));
    raw(addr(&h), b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(rx.recv().unwrap(), ("/".to_owned(), Some(CloseReason::RequestedByClient)));
    raw(addr(&h), b"GET /no-host HTTP/1.1\r\n\r\n");
    assert_eq!(rx.recv().unwrap(), ("/no-host".to_owned(), Some(CloseReason::BadRequest)));
    raw(addr(&h), b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(rx.recv().unwrap(), ("/".to_owned(), Some(CloseReason::RequestedByClient)), "HTTP/1.0");
}
