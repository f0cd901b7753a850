//! Requests as the client sends them: what [`Client::send`](crate::Client::send) accepts, the
//! head written for a request, and the buffering of an HTTP/1.0 body of unknown length.

use http_utils::{write_request_head, Body, Headers, Method, Request};

#[cfg(feature = "gzip")]
use crate::decode::ACCEPT_ENCODING;
/// Never sent: without decoders the client asks for no coding.
#[cfg(not(feature = "gzip"))]
const ACCEPT_ENCODING: &str = "identity";
use crate::error::{Error, Result};
use crate::jar::Jar;
use crate::proxy::{basic_credentials, Proxy};

/// Something [`Client::send`](crate::Client::send) accepts: a [`Request`], or a URL (a GET
/// request). A URL without a scheme is taken as `http://` (the egg's `"localhost:4242/"`).
pub trait IntoRequest {
    /// The request.
    fn into_request(self) -> Request;
}

impl IntoRequest for Request {
    fn into_request(self) -> Request {
        self
    }
}

impl IntoRequest for &str {
    fn into_request(self) -> Request {
        Request::new(Method::Get, self)
    }
}

impl IntoRequest for String {
    fn into_request(self) -> Request {
        Request::new(Method::Get, self)
    }
}

impl IntoRequest for &String {
    fn into_request(self) -> Request {
        Request::new(Method::Get, self.as_str())
    }
}

impl IntoRequest for url::Url {
    fn into_request(self) -> Request {
        Request::new(Method::Get, String::from(self))
    }
}

/// What the client adds to a request's own header fields when they have none of that name.
pub(crate) struct Added<'a> {
    /// The `User-Agent`.
    pub(crate) user_agent: Option<&'a str>,
    /// Whether to ask for gzip (not when the request asks for an encoding or a range itself).
    pub(crate) gzip: bool,
    /// The cookie jar, whose cookies for the URL join the request's own `Cookie`.
    pub(crate) jar: Option<&'a Jar>,
}

/// The head bytes of a request to `url`, and whether it asks for gzip on the client's
/// behalf (the response is then decoded). With `tunnel` the request goes through a `CONNECT`
/// tunnel of any HTTP proxy (origin-form target); else an HTTP proxy gets the absolute form.
pub(crate) fn request_head(
    req: &Request,
    url: &url::Url,
    proxy: Option<&Proxy>,
    tunnel: bool,
    added: &Added<'_>,
) -> Result<(Vec<u8>, bool)> {
    // The head writer puts Host first (RFC 9110 §7.2), whatever the program added.
    let mut headers: Headers = req.headers().clone();
    if !headers.contains("host") {
        let host = url.host_str().unwrap_or_default();
        let mut authority = String::with_capacity(host.len() + 6);
        authority.push_str(host);
        if let Some(p) = url.port() {
            authority.push(':');
            authority.push_str(itoa_u16(p, &mut [0u8; 5]));
        }
        headers.append("Host", &authority).map_err(Error::InvalidHeader)?;
    }
    if let Some(ua) = added.user_agent {
        if !headers.contains("user-agent") {
            headers.append("User-Agent", ua).map_err(Error::InvalidHeader)?;
        }
    }
    if (!url.username().is_empty() || url.password().is_some()) && !headers.contains("authorization") {
        let creds = basic_credentials(url.username(), url.password().unwrap_or(""));
        headers.append("Authorization", &creds).map_err(Error::InvalidHeader)?;
    }
    // A range of a gzip stream cannot be decoded by itself: ranges are asked for as is.
    let asked_gzip = added.gzip && !headers.contains("accept-encoding") && !headers.contains("range");
    if asked_gzip {
        headers.append("Accept-Encoding", ACCEPT_ENCODING).map_err(Error::InvalidHeader)?;
    }
    headers.remove("content-length");
    headers.remove("transfer-encoding");
    let body = req.body();
    match body.len() {
        Some(0) if matches!(body, Body::Empty) && !needs_length(req.method()) => {}
        Some(n) => headers.append("Content-Length", &n.to_string()).map_err(Error::InvalidHeader)?,
        None => headers.append("Transfer-Encoding", "chunked").map_err(Error::InvalidHeader)?,
    }
    if let Some(jar) = added.jar {
        let cookies = jar.cookies_for(url);
        if !cookies.is_empty() {
            let merged = match headers.get_joined("cookie") {
                Some(own) => format!("{own}; {cookies}"),
                None => cookies,
            };
            headers.set("Cookie", &merged).map_err(Error::InvalidHeader)?;
        }
    }
    let absolute;
    let target = match proxy {
        Some(p) if !tunnel && !p.is_socks() => {
            if let Some(auth) = p.authorization() {
                headers.set("Proxy-Authorization", auth).map_err(Error::InvalidHeader)?;
            }
            // Credentials in the URL never go to the proxy in the target.
            absolute = format!(
                "{}{}",
                &url[..url::Position::BeforeUsername],
                &url[url::Position::BeforeHost..url::Position::AfterQuery]
            );
            &absolute
        }
        _ => &url[url::Position::BeforePath..url::Position::AfterQuery],
    };
    // The URL parser encodes what may not appear in a request line; this is the last check.
    if let Some(p) = target.bytes().position(|b| !b.is_ascii_graphic()) {
        let reason = format!("byte {p} of the request target is not visible ASCII");
        return Err(Error::InvalidUrl { url: crate::urls::redact_url(req.url()), reason });
    }
    let mut out = Vec::with_capacity(256);
    write_request_head(&mut out, req.method(), target, req.version(), &headers);
    Ok((out, asked_gzip))
}

/// Formats a port without the formatting machinery.
fn itoa_u16(mut n: u16, buf: &mut [u8; 5]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// POST, PUT and PATCH carry `Content-Length: 0` when they have no body.
fn needs_length(m: &Method) -> bool {
    matches!(m, Method::Post | Method::Put | Method::Patch)
}

/// HTTP/1.0 has no chunked encoding: a streamed body of unknown length is read into memory (at
/// most `limit` bytes) so that it can be sent with its length.
pub(crate) fn buffer_unsized_body(req: &mut Request, limit: u64) -> Result<()> {
    let Body::Stream { reader, length: None } = req.body_mut() else { return Ok(()) };
    let mut bytes = Vec::new();
    let n =
        std::io::Read::read_to_end(&mut std::io::Read::take(reader, limit.saturating_add(1)), &mut bytes)?;
    if n as u64 > limit {
        return Err(Error::UnsizedRequestBody { limit });
    }
    req.set_body(bytes);
    Ok(())
}

/// True when sending `req` twice does what sending it once does: an idempotent method, or a
/// request that carries an `Idempotency-Key` (or `X-Idempotency-Key`) field, whose server
/// promises to act on it once (as Go's transport reads it).
pub(crate) fn may_replay(req: &Request) -> bool {
    req.method().is_idempotent()
        || req.headers().contains("idempotency-key")
        || req.headers().contains("x-idempotency-key")
}
