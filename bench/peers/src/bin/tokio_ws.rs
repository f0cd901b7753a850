//! The WebSocket benchmark's async peer (`bench/websockets.py`): tokio-tungstenite on tokio's
//! multi-threaded runtime (one worker per allowed CPU), a task per connection. One listener:
//! each connection's task peeks at its request line; `GET /ws` is handed to
//! `tokio_tungstenite::accept_async` and joins a `tokio::sync::broadcast` channel, anything
//! else is served hello world by hyper. A producer task publishes one message a second
//! (`bench_peers::tick`); each socket's task writes what the channel gives it and reads the
//! peer's frames (close, pings) in the same `select!`.
//!
//! `cargo run --release --bin tokio_ws -- --port N`

use std::convert::Infallible;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::Bytes;
use tokio::net::TcpStream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

async fn hello(_: hyper::Request<hyper::body::Incoming>) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let mut r = hyper::Response::new(Full::new(Bytes::from_static(b"Hello, world!")));
    r.headers_mut().insert("content-type", "text/plain; charset=utf-8".parse().unwrap());
    Ok(r)
}

async fn socket(stream: TcpStream, room: broadcast::Sender<Utf8Bytes>) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else { return };
    let mut rx = room.subscribe();
    let (mut tx, mut incoming) = ws.split();
    loop {
        tokio::select! {
            m = rx.recv() => match m {
                Ok(text) => if tx.send(Message::Text(text)).await.is_err() { return },
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
            m = incoming.next() => match m {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn connection(stream: TcpStream, room: broadcast::Sender<Utf8Bytes>) {
    let _ = stream.set_nodelay(true);
    let mut head = [0u8; 8];
    // One deadline for the whole wait, as tungstenite_ws: a peek that finds a few bytes
    // returns at once, so a timeout around each one would never fire.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let ws = loop {
        match tokio::time::timeout_at(deadline, stream.peek(&mut head)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(n)) if n >= 8 || tokio::time::Instant::now() > deadline => {
                break bench_peers::asks_for_ws(&head[..n])
            }
            Ok(Ok(_)) => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    };
    if ws {
        socket(stream, room).await;
    } else {
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(hyper_util::rt::TokioIo::new(stream), hyper::service::service_fn(hello))
            .await;
    }
}

#[tokio::main]
async fn main() {
    let port = bench_peers::port_arg(4251);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    println!("tokio-tungstenite on http://127.0.0.1:{port}/ and ws://127.0.0.1:{port}/ws");
    let (room, _) = broadcast::channel::<Utf8Bytes>(16);
    let r = room.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.tick().await;
        for n in 1u64.. {
            every.tick().await;
            let _ = r.send(Utf8Bytes::from(bench_peers::tick(n)));
        }
    });
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        tokio::spawn(connection(stream, room.clone()));
    }
}
