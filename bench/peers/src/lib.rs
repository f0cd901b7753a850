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
