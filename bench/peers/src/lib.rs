//! Shared helpers for the peer programs.

/// The port from the first argument, `--port N`, or `PORT`, else `default`.
pub fn port_arg(default: u16) -> u16 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--port" {
            if let Some(p) = it.next().and_then(|p| p.parse().ok()) {
                return p;
            }
        } else if let Ok(p) = a.parse() {
            return p;
        }
    }
    std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(default)
}

/// Serves `handler` on 127.0.0.1:`port` with hyper's HTTP/1.1 connections, one tokio task per
/// connection, `TCP_NODELAY` on and pipelined answers flushed together; prints `name` and the
/// URL once listening. Never returns.
pub async fn serve_hyper<F, Fut, B>(port: u16, name: &str, handler: F)
where
    F: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Copy + Send + 'static,
    Fut: std::future::Future<Output = Result<hyper::Response<B>, std::convert::Infallible>> + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    println!("{name} on http://127.0.0.1:{port}/");
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .pipeline_flush(true)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), hyper::service::service_fn(handler))
                .await;
        });
    }
}

/// The broadcast message of the WebSocket benchmark (`bench/websockets.py`): its number, the
/// wall-clock time it was published in nanoseconds since the Unix epoch (the clients compute
/// the delivery latency from it) and padding, about 45 bytes as the server's own.
pub fn tick(n: u64) -> String {
    let ns = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{n} {ns} 0123456789abcdef")
}

/// True when the connection's request line asks for `/ws` (the WebSocket room of the
/// WebSocket benchmark), from the first bytes peeked at: `GET /ws` then a space or `?`.
pub fn asks_for_ws(head: &[u8]) -> bool {
    head.starts_with(b"GET /ws ") || head.starts_with(b"GET /ws?")
}

/// The hello answer of the WebSocket benchmark's peers, the body and type of the
/// http-toolkit bench server's `Response::text("Hello, world!")`.
pub const HELLO_RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\r\nHello, world!";
