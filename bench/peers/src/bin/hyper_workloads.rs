//! The workloads of `bench/workloads.py` on hyper 1.x with tokio's multi-threaded runtime:
//! `POST /upload` reads the whole body (at most 64 MiB) and answers its length; `POST /echo`
//! `POST /upload-stream` reads the body frame by frame as it arrives and answers its length;
//! `POST /echo` parses a JSON body with serde_json and writes it back; `GET /hello` answers hello world.
use std::convert::Infallible;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};

const MAX_BODY: usize = 64 << 20;

fn answer(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", content_type.parse().unwrap());
    r
}

async fn body_of(req: Request<Incoming>) -> Result<Bytes, Response<Full<Bytes>>> {
    match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(_) => Err(answer(StatusCode::BAD_REQUEST, "text/plain", "bad body")),
    }
}

async fn serve(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let r = match (req.method(), req.uri().path()) {
        (&Method::GET, "/hello") => answer(StatusCode::OK, "text/plain", "Hello, world!"),
        (&Method::POST, "/upload") => match body_of(req).await {
            Ok(b) => answer(StatusCode::OK, "text/plain", b.len().to_string()),
            Err(r) => r,
        },
        (&Method::POST, "/upload-stream") => {
            let mut body = req.into_body();
            let mut n = 0;
            loop {
                match body.frame().await {
                    None => break answer(StatusCode::OK, "text/plain", n.to_string()),
                    Some(Ok(frame)) => n += frame.data_ref().map_or(0, |d| d.len()),
                    Some(Err(_)) => break answer(StatusCode::BAD_REQUEST, "text/plain", "bad body"),
                }
            }
        }
        (&Method::POST, "/echo") => {
            let json = req
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            if !json {
                answer(StatusCode::UNSUPPORTED_MEDIA_TYPE, "text/plain", "expected JSON")
            } else {
                match body_of(req).await {
                    Ok(b) => match serde_json::from_slice::<serde_json::Value>(&b) {
                        Ok(doc) => {
                            answer(StatusCode::OK, "application/json", serde_json::to_vec(&doc).unwrap())
                        }
                        Err(_) => answer(StatusCode::BAD_REQUEST, "text/plain", "not JSON"),
                    },
                    Err(r) => r,
                }
            }
        }
        _ => answer(StatusCode::NOT_FOUND, "text/plain", "Not Found"),
    };
    Ok(r)
}

#[tokio::main]
async fn main() {
    bench_peers::serve_hyper(bench_peers::port_arg(4243), "hyper workloads", serve).await;
}
