//! The messages the benchmarks parse, shared by `benches/` and `examples/`, and the port
//! argument of the bench servers.

/// The value of `--port N` among the program's arguments, or `default` without one.
///
/// # Panics
/// When the value after `--port` is missing or not a port number.
pub fn port_arg(default: u16) -> u16 {
    let mut args = std::env::args().skip(1);
    let mut port = default;
    while let Some(a) = args.next() {
        if a == "--port" {
            port = args.next().and_then(|p| p.parse().ok()).expect("--port needs a port number");
        }
    }
    port
}

/// What a current desktop browser sends for a page load: 10 header fields, about 500 bytes.
pub const REQUEST: &[u8] = b"GET /articles/2024/rust-http-parsing.html?ref=home&page=2 HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Connection: keep-alive\r\n\
Cookie: session=9f8e7d6c5b4a39281706f5e4d3c2b1a0; theme=dark; consent=1\r\n\
Referer: https://www.example.com/\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Cache-Control: max-age=0\r\n\
\r\n";

/// A typical response head of a web server for an HTML page: 8 header fields.
pub const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Sat, 21 Nov 2026 05:50:00 GMT\r\n\
Server: http-toolkit/0.1\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Length: 48213\r\n\
Cache-Control: public, max-age=3600\r\n\
ETag: \"5f3e-1b2c3d4e\"\r\n\
Vary: Accept-Encoding\r\n\
Set-Cookie: session=9f8e7d6c5b4a39281706f5e4d3c2b1a0; Path=/; HttpOnly; Secure; SameSite=Lax\r\n\
\r\n";

/// The resources of the route-table workload (`examples/workloads_server.rs --routes 200`,
/// `examples/route_lookup.rs`): 25 of them, 8 patterns each.
const RESOURCES: [&str; 25] = [
    "users",
    "posts",
    "comments",
    "orders",
    "products",
    "carts",
    "invoices",
    "payments",
    "teams",
    "projects",
    "issues",
    "tags",
    "files",
    "folders",
    "reports",
    "events",
    "sessions",
    "tokens",
    "webhooks",
    "plans",
    "subscriptions",
    "coupons",
    "reviews",
    "shipments",
    "addresses",
];

/// A route table of 200 patterns as a REST application has them: per resource, four exact
/// paths (`/api/v1/users`, `/api/v1/users/search`, `/api/v1/users/count`, `/admin/users`) and
/// four with parameters (`/api/v1/users/{id}`, `/api/v1/users/{id}/history`,
/// `/api/v1/users/{id}/history/{rev}`, `/admin/users/{id}/edit`).
pub fn workload_routes() -> Vec<String> {
    let mut out = Vec::with_capacity(200);
    for r in RESOURCES {
        out.push(format!("/api/v1/{r}"));
        out.push(format!("/api/v1/{r}/search"));
        out.push(format!("/api/v1/{r}/count"));
        out.push(format!("/admin/{r}"));
        out.push(format!("/api/v1/{r}/{{id}}"));
        out.push(format!("/api/v1/{r}/{{id}}/history"));
        out.push(format!("/api/v1/{r}/{{id}}/history/{{rev}}"));
        out.push(format!("/admin/{r}/{{id}}/edit"));
    }
    out
}

/// Request paths of the route-table workload: the one exact route of the small table, an
/// exact path of the large one, and paths that only patterns with parameters match.
pub const ROUTE_PATHS: [&str; 4] =
    ["/hello", "/api/v1/reviews/search", "/api/v1/reviews/42/history/7", "/admin/reviews/42/edit"];
