//! Hello world on hyper 1.x with tokio's multi-threaded runtime (one worker per allowed CPU):
//! the same body and `Content-Type` as the hello example.
use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut r = Response::new(Full::new(Bytes::from_static(b"<h1>Hello, world!</h1>")));
    r.headers_mut().insert("content-type", "text/html; charset=utf-8".parse().unwrap());
    Ok(r)
}

#[tokio::main]
async fn main() {
    bench_peers::serve_hyper(bench_peers::port_arg(4243), "hyper listening", hello).await;
}
