//! Routes with patterns in the resource table: captures, specificity, methods and 405,
//! `next`, restarts, and status handlers (also for what the server answers itself).

mod server_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http_toolkit::server::{test, Methods, Response, RouteError, Server};
use http_toolkit::utils::{Limits, Method};
use server_support::{addr, raw, start, status_of, Client};

#[test]
fn captures_arrive_decoded_and_the_most_specific_route_wins() {
    // No sockets: the requests go through the server's real table (http_server::test).
    let s = Server::builder().port(0).bind("127.0.0.1").build().unwrap();
    s.route(Method::Get, "/hello/{name}", |cx| {
        Response::text(format!("Hello, {}!", cx.param("name").as_deref().unwrap_or("?")))
    })
    .unwrap();
    s.route(Method::Get, "/hello/world", |_cx| Response::text("the world route")).unwrap();
    s.route(Method::Get, "/files/{path...}", |cx| {
        let c = cx.captures();
        Response::text(format!("{}|{}", c.get("path").unwrap(), c.raw("path").unwrap()))
    })
    .unwrap();
    s.route(Methods::Any, "/{any...}", |cx| Response::text(format!("any {}", cx.request().method())))
        .unwrap();
    assert_eq!(test::get(&s, "/hello/ann%20b").text(), "Hello, ann b!");
    assert_eq!(test::get(&s, "/hello/w%C3%B6rld?x=1").text(), "Hello, wörld!");
    assert_eq!(test::get(&s, "/hello/world").text(), "the world route");
    assert_eq!(test::get(&s, "/files/a/b%2Fc.txt").text(), "a/b/c.txt|a/b%2Fc.txt");
    assert_eq!(test::get(&s, "/files/").text(), "|");
    assert_eq!(test::get(&s, "/elsewhere/deep").text(), "any GET");
    assert_eq!(test::request(&s, Method::Delete, "/x").send().text(), "any DELETE");
}

#[test]
fn one_handler_for_several_methods_and_405_with_allow() {
    let h = start(
        |b| b,
        |s| {
            s.route([Method::Get, Method::Post], "/echo", |cx| {
                Response::text(cx.request().method().to_string())
            })
            .unwrap();
            s.route(Method::Put, "/items/{id}", |cx| {
                Response::text(format!("put {}", cx.param("id").unwrap()))
            })
            .unwrap();
        },
    );
    let mut c = Client::connect(addr(&h));
    assert_eq!(c.get("/echo").text(), "GET");
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
    assert_eq!(c.read().text(), "POST");
    c.send(b"HEAD /echo HTTP/1.1\r\nHost: t\r\n\r\n");
    let head = c.try_read(&Method::Head).unwrap();
    assert_eq!((head.status(), head.header("content-length")), (200, Some("4"))); // "HEAD"
    for m in ["DELETE", "PATCH"] {
        c.send(format!("{m} /echo HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
        let r = c.read();
        assert_eq!(r.status(), 405, "{m}");
        assert_eq!(r.header("allow"), Some("GET, HEAD, POST"));
    }
    // PUT has no method handler of its own: the route serves it.
    c.send(b"PUT /items/7 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(c.read().text(), "put 7");
    assert_eq!(c.get("/items/7").status(), 405);
    c.send(b"OPTIONS /echo HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.read();
    assert_eq!((r.status(), r.header("allow")), (204, Some("GET, HEAD, POST, OPTIONS")));
    assert_eq!(c.get("/nothing").status(), 404);
}

#[test]
fn conflicting_or_invalid_routes_are_refused() {
    let h = start(|b| b, |_| {});
    h.route(Method::Get, "/a/{x}", |_| Response::new(204)).unwrap();
    assert!(matches!(
        h.route(Method::Get, "/a/{x}", |_| Response::new(204)),
        Err(RouteError::Duplicate { .. })
    ));
    assert!(matches!(
        h.route(Method::Get, "/a/{y}", |_| Response::new(204)),
        Err(RouteError::Conflict { .. })
    ));
    assert!(matches!(
        h.route(Method::Get, "/{z}/b", |_| Response::new(204)),
        Err(RouteError::Conflict { .. })
    ));
    assert!(matches!(
        h.route(Method::Get, "no-slash", |_| Response::new(204)),
        Err(RouteError::InvalidPattern { .. })
    ));
    assert!(h.resource_paths().contains(&"/a/{x}".to_owned()));
    assert!(h.find_resource("/a/1").is_some());
    assert_eq!(h.remove_resource("/a/{x}"), 1);
    assert!(h.find_resource("/a/1").is_none());
}

#[test]
fn exact_resources_come_first_and_handlers_can_pass_on() {
    let h = start(
        |b| b,
        |s| {
            s.add_resource("/users/me", |_r, _a| Response::next());
            s.route(Method::Get, "/users/{id}", |cx| match cx.param("id").as_deref() {
                Some("me") | Some("admin") => Response::next(),
                Some(id) => Response::text(format!("user {id}")),
                None => Response::new(500),
            })
            .unwrap();
            s.route(Method::Get, "/users/{rest...}", |cx| {
                Response::text(format!("rest {}", cx.param("rest").unwrap()))
            })
            .unwrap();
            s.route(Method::Get, "/declines/{x}", |_| Response::next()).unwrap();
            s.route(Method::Delete, "/declines/{x}", |_| Response::next()).unwrap();
            s.add_resource("/exact", |_r, _a| Response::text("exact"));
        },
    );
    let mut c = Client::connect(addr(&h));
    assert_eq!(c.get("/users/ann").text(), "user ann");
    assert_eq!(c.get("/users/admin").text(), "rest admin");
    assert_eq!(c.get("/users/me").text(), "rest me");
    assert_eq!(c.get("/users/a/b").text(), "rest a/b");
    assert_eq!(c.get("/declines/1").status(), 404);
    // DELETE has no method handler: its declined route ends in the fallback too.
    c.send(b"DELETE /declines/1 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.read().status(), 404);
    assert_eq!(c.get("/exact").text(), "exact");
}

#[test]
fn restart_serves_another_url_and_loops_are_bounded() {
    let h = start(
        |b| b,
        |s| {
            s.add_resource("/old", |_r, _a| Response::restart("/new?via=old"));
            s.route(Method::Get, "/new", |cx| {
                Response::text(format!("new via {}", cx.args().get("via").unwrap_or("-")))
            })
            .unwrap();
            s.add_resource("/loop", |_r, _a| Response::restart("/loop"));
        },
    );
    let mut c = Client::connect(addr(&h));
    assert_eq!(c.get("/old").text(), "new via old");
    assert_eq!(c.get("/loop").status(), 500);
    assert_eq!(c.get("/new").text(), "new via -");
}

#[test]
fn status_handlers_shape_what_the_server_says_too() {
    let seen = Arc::new(AtomicUsize::new(0));
    let seen2 = seen.clone();
    let h = start(
        |b| b.limits(Limits { max_body: 100, ..Limits::default() }),
        move |s| {
            s.route(Method::Get, "/only-get", |_| Response::text("ok")).unwrap();
            s.add_resource("/panics", |_r, _a| -> Response { panic!("boom") });
            s.add_resource("/form", |_r, a| Response::text(format!("{} args", a.len())));
            s.add_resource("/teapot", |_r, _a| Response::new(418));
            s.add_resource("/missing", |_r, _a| Response::restart("/not-there"));
            for code in [404u16, 405, 413, 500] {
                let seen = seen2.clone();
                s.set_status_handler(code, move |cx, r| {
                    seen.fetch_add(1, Ordering::SeqCst);
                    let allow = r.headers().get("allow").unwrap_or("-").to_owned();
                    Response::text(format!("shaped {code} for {} (allow {allow})", cx.path()))
                        .with_status(code)
                        .with_header("X-Shaped", "yes")
                });
            }
            s.set_status_handler(418, |_cx, _r| panic!("a broken status handler"));
        },
    );
    let mut c = Client::connect(addr(&h));
    let r = c.get("/nope");
    assert_eq!((r.status(), r.text().as_str()), (404, "shaped 404 for /nope (allow -)"));
    let r = c.get("/missing");
    assert_eq!((r.status(), r.text().as_str()), (404, "shaped 404 for /not-there (allow -)"));
    c.send(b"POST /only-get HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    let r = c.read();
    assert_eq!((r.status(), r.text().as_str()), (405, "shaped 405 for /only-get (allow GET, HEAD)"));
    let r = c.get("/panics");
    assert_eq!((r.status(), r.header("x-shaped")), (500, Some("yes")));
    let r = c.get("/teapot");
    assert_eq!(r.status(), 500, "a panicking status handler leaves a 500 page");
    assert_eq!(c.get("/form").text(), "0 args");
    let body = "a=".to_owned() + &"x".repeat(200);
    let reply = raw(
        addr(&h),
        format!(
            "POST /form HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(status_of(&reply), 413);
    assert!(reply.contains("shaped 413 for /form"), "{reply}");
    // A request refused before dispatch (no Host on HTTP/1.1) is shaped too.
    h.set_status_handler(400, |_cx, r| r.with_header("X-Refused", "yes"));
    let reply = raw(addr(&h), b"GET /x HTTP/1.1\r\n\r\n");
    assert_eq!(status_of(&reply), 400);
    assert!(reply.to_ascii_lowercase().contains("x-refused: yes"), "{reply}");
    assert!(seen.load(Ordering::SeqCst) >= 5);
}
