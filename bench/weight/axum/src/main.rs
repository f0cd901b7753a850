//! The same hello world in axum 0.8 on tokio.
use axum::{response::Html, routing::get, Router};

#[tokio::main]
async fn main() {
    let hello = || async { Html("<h1>Hello, world!</h1>") };
    let app = Router::new().route("/", get(hello)).route("/index.html", get(hello));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:4242").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
