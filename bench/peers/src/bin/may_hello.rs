//! may_minihttp's hello world (stackful coroutines on `may`), for `bench/servers.py`:
//! `may_hello --port N`. One `may` worker, like the other servers pinned to one CPU. The same
//! body and `Content-Type` as the hello example (`<h1>Hello, world!</h1>`, HTML).

use std::io;

use may_minihttp::{HttpService, HttpServiceFactory, Request, Response};

#[derive(Clone)]
struct Hello;

impl HttpService for Hello {
    fn call(&mut self, _req: Request, rsp: &mut Response) -> io::Result<()> {
        rsp.header("Content-Type: text/html; charset=utf-8");
        rsp.body("<h1>Hello, world!</h1>");
        Ok(())
    }
}

struct Factory;

impl HttpServiceFactory for Factory {
    type Service = Hello;

    fn new_service(&self, _: usize) -> Hello {
        Hello
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut port = 8080u16;
    while let Some(a) = args.next() {
        if a == "--port" {
            port = args.next().and_then(|p| p.parse().ok()).expect("--port N");
        }
    }
    may::config().set_workers(1);
    let server = Factory.start(("127.0.0.1", port)).expect("listen");
    server.wait();
}
