//! Which methods reach which handlers, over loopback sockets, as the routing docs say:
//! `route` serves any method with no method handler of its own (PUT, DELETE, PATCH need
//! none), exact resources (`add_resource`) answer GET, HEAD and POST unless a method is
//! routed to them with `resource_handler`, and a method handler of one's own takes every
//! request of its method, routes included.

mod server_support;

use http_toolkit::server::{resource_handler, Response};
use http_toolkit::utils::Method;
use server_support::{addr, start, Client, Reply};

fn send(c: &mut Client, method: &str, path: &str) -> Reply {
    c.send(format!("{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n").as_bytes());
    c.try_read(&method.parse().unwrap()).expect("a response")
}

#[test]
fn routes_need_no_method_handler_and_resources_answer_get_and_post() {
    let h = start(
        |b| b,
        |s| {
            s.route(Method::Put, "/notes/{id}", |cx| {
                Response::text(format!("put {}", cx.param("id").unwrap()))
            })
            .unwrap();
            s.route(Method::Delete, "/notes", |_cx| Response::text("delete all")).unwrap();
            s.route(Method::Patch, "/notes/{id}", |_cx| Response::text("patch")).unwrap();
            s.route(Method::Get, "/notes/{id}", |_cx| Response::text("get")).unwrap();
            s.add_resource("/plain", |req, _| Response::text(format!("plain {}", req.method())));
        },
    );
    let mut c = Client::connect(addr(&h));
    assert_eq!(send(&mut c, "PUT", "/notes/7").text(), "put 7");
    assert_eq!(send(&mut c, "DELETE", "/notes").text(), "delete all");
    assert_eq!(send(&mut c, "PATCH", "/notes/7").text(), "patch");
    assert_eq!(send(&mut c, "GET", "/notes/7").text(), "get");
    let head = send(&mut c, "HEAD", "/notes/7");
    assert_eq!((head.status(), head.body.len()), (200, 0));
    // A routed path with another method: 405 naming the route's methods.
    let r = send(&mut c, "DELETE", "/notes/7");
    assert_eq!(r.status(), 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, PATCH, PUT"));

    // An exact resource answers GET and POST (and HEAD), not PUT or DELETE.
    assert_eq!(send(&mut c, "GET", "/plain").text(), "plain GET");
    assert_eq!(send(&mut c, "POST", "/plain").text(), "plain POST");
    let r = send(&mut c, "PUT", "/plain");
    assert_eq!(r.status(), 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    // ... until PUT is routed to resources.
    h.set_method_handler(Method::Put, resource_handler);
    assert_eq!(send(&mut c, "PUT", "/plain").text(), "plain PUT");
    assert_eq!(send(&mut c, "PUT", "/notes/8").text(), "put 8");
    h.shutdown();
}

#[test]
fn a_method_handler_of_ones_own_takes_every_request_of_its_method() {
    let h = start(
        |b| b,
        |s| {
            s.route(Method::Delete, "/notes/{id}", |_cx| Response::text("route")).unwrap();
            s.set_method_handler(Method::Delete, |cx| {
                Response::text(format!("own handler for {}", cx.path()))
            });
        },
    );
    let mut c = Client::connect(addr(&h));
    assert_eq!(send(&mut c, "DELETE", "/notes/1").text(), "own handler for /notes/1");
    // Calling resource_handler from it hands the request to the routes again.
    h.set_method_handler(Method::Delete, resource_handler);
    assert_eq!(send(&mut c, "DELETE", "/notes/1").text(), "route");
    h.shutdown();
}
