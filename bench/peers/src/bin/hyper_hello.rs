//! Hello world on hyper 1.x with tokio's multi-threaded runtime (one worker per allowed CPU).
use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut r = Response::new(Full::new(Bytes::from_static(b"Hello, world!")));
    r.headers_mut().insert("content-type", "text/plain".parse().unwrap());
    Ok(r)
}

#[tokio::main]
async fn main() {
    let port = bench_peers::port_arg(4243);
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    println!("hyper listening on http://127.0.0.1:{port}/");
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .pipeline_flush(true)
                .serve_connection(TokioIo::new(stream), service_fn(hello))
                .await;
        });
    }
}
