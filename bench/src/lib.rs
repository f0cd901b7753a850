//! The messages the benchmarks parse, shared by `benches/` and `examples/`.

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
