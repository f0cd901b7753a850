//! The server bench/features.py measures.
//!
//! `feature_server --port N --mode exact|routes|static [--root DIR]`
//! - `exact`: one exact resource, `/hello/world`;
//! - `routes`: 100 routes: `/hello/{name}`, 49 more under `/hello/{name}/...`, 50 under other
//!   first segments, and one exact `/exact`; requests go to `/hello/world` (a pattern) or
//!   `/exact`;
//! - `static`: `serve_dir("/static", DIR)`; gzip on (the client decides with Accept-Encoding).

use http_server::{Response, Server};
use http_utils::Method;

fn main() {
    let mut port = 0u16;
    let mut mode = String::from("exact");
    let mut root = String::from(".");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).expect("--port N"),
            "--mode" => mode = args.next().expect("--mode M"),
            "--root" => root = args.next().expect("--root DIR"),
            other => panic!("unknown argument {other}"),
        }
    }
    let server = Server::builder().port(port).bind("127.0.0.1").build().expect("bind");
    match mode.as_str() {
        "exact" => server.add_resource("/hello/world", |_r, _a| Response::text("Hello, world!")),
        "routes" => {
            server
                .route(Method::Get, "/hello/{name}", |cx| {
                    Response::text(format!("Hello, {}!", cx.param("name").unwrap_or_default()))
                })
                .expect("route");
            for i in 0..49 {
                server
                    .route(Method::Get, &format!("/hello/{{name}}/item{i}"), |_| Response::text("item"))
                    .expect("route");
            }
            for i in 0..49 {
                server.route(Method::Get, &format!("/s{i}/{{id}}"), |_| Response::text("s")).expect("route");
            }
            server.route(Method::Get, "/{a}/{b}/{c}/{d}", |_| Response::text("deep")).expect("route");
            server.add_resource("/exact", |_r, _a| Response::text("Hello, world!"));
        }
        "static" => server.serve_dir("/static", root).expect("route"),
        other => panic!("unknown mode {other}"),
    }
    server.run().expect("run");
}
