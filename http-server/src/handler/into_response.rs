//! What a handler may return: a [`Response`], or anything that becomes one
//! ([`IntoResponse`]), `Result`s included, so that handlers can use `?`; and [`HttpError`],
//! an error with a status.

use std::borrow::Cow;
use std::fmt;
use std::io;

use crate::handler::response::Response;

/// Turns a handler's return value into the response sent.
///
/// Implemented for [`Response`], [`HttpError`], text (`&'static str`, `String`: 200,
/// `text/plain`), `()` (an empty 200), `(status, value)` pairs, and `Result<T, E>` where both sides are
/// `IntoResponse`, so a handler can return `Result<Response, HttpError>` and use `?`:
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use http_server::{HttpError, Response, Server};
/// use http_utils::Method;
/// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
/// server.route(Method::Get, "/square/{n}", |cx| -> Result<Response, HttpError> {
///     let n: i64 = cx.param_as("n")?; // 400 naming `n` when it is not a number
///     Ok(Response::text(n.saturating_mul(n).to_string()))
/// }).unwrap();
/// # Ok(()) }
/// ```
pub trait IntoResponse {
    /// The response.
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

/// An empty 200 (also what a closure that only panics returns).
impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::new(200)
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        Response::text(self)
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        Response::text(self)
    }
}

impl<T: IntoResponse> IntoResponse for (u16, T) {
    fn into_response(self) -> Response {
        self.1.into_response().with_status(self.0)
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        }
    }
}

/// An error that is an HTTP answer: a status and a message for the client, sent as
/// `text/plain` (status handlers see it like any response of its status), or as JSON
/// through [`JsonErrors`](crate::JsonErrors) (the response keeps the error:
/// [`Response::error`]).
///
/// It converts from the errors handlers meet: [`http_utils::Error`] (a body too large is
/// 413, malformed input 400, ...), [`io::Error`] (the status of the `http_utils::Error` it
/// carries, else 500), and with the `json` feature `serde_json::Error` (400).
///
/// ```
/// use http_server::{HttpError, IntoResponse};
/// let r = HttpError::not_found("no such user").into_response();
/// assert_eq!(r.status(), 404);
/// assert_eq!(r.body().as_bytes(), Some(&b"no such user\n"[..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    status: u16,
    message: Cow<'static, str>,
}

impl HttpError {
    /// An error answered with `status` (400 to 599; anything else is sent as 500) and
    /// `message`.
    pub fn new(status: u16, message: impl Into<Cow<'static, str>>) -> HttpError {
        let status = if (400..600).contains(&status) { status } else { 500 };
        HttpError { status, message: message.into() }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError::new(400, message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError::new(401, message)
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError::new(403, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError::new(404, message)
    }

    /// 409 Conflict.
    pub fn conflict(message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError::new(409, message)
    }

    /// 415 Unsupported Media Type.
    pub fn unsupported_media_type(message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError::new(415, message)
    }

    /// 500 Internal Server Error.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError::new(500, message)
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, http_utils::reason_phrase(self.status), self.message)
    }
}

impl std::error::Error for HttpError {}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut body = self.message.to_string();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Response::text(body).with_status(self.status).answering_error(self.message)
    }
}

impl From<http_utils::Error> for HttpError {
    fn from(e: http_utils::Error) -> HttpError {
        let message = match e.kind() {
            Some(kind) => kind.description().to_owned(),
            None => e.to_string(),
        };
        HttpError::new(e.status(), message)
    }
}

impl From<io::Error> for HttpError {
    fn from(e: io::Error) -> HttpError {
        if e.get_ref().is_some_and(|inner| inner.is::<http_utils::Error>()) {
            if let Ok(inner) = e.into_inner().expect("checked").downcast::<http_utils::Error>() {
                return HttpError::from(*inner);
            }
            return HttpError::internal("Internal Server Error");
        }
        match e.kind() {
            io::ErrorKind::InvalidData => HttpError::bad_request(e.to_string()),
            io::ErrorKind::TimedOut => HttpError::new(408, "Request Timeout"),
            _ => HttpError::internal("Internal Server Error"),
        }
    }
}

#[cfg(feature = "json")]
impl From<serde_json::Error> for HttpError {
    fn from(e: serde_json::Error) -> HttpError {
        HttpError::bad_request(format!("invalid JSON: {}", client_safe(&e.to_string())))
    }
}

/// At most this many bytes of a parser's message go into an error a client reads.
#[cfg(feature = "json")]
const DETAIL_MAX: usize = 160;

/// A parser's message as a client may read it: a deserializer quotes what it could not use
/// (`unknown variant \`...\``, `invalid type: string "..."`), which are the peer's bytes, so
/// only printable ASCII without markup or quotes survives (the rest becomes `?`), and the
/// message is cut short. Safe in text, HTML and a JSON string alike.
#[cfg(feature = "json")]
pub(crate) fn client_safe(detail: &str) -> String {
    let mut out = String::with_capacity(detail.len().min(DETAIL_MAX));
    for c in detail.chars() {
        if out.len() >= DETAIL_MAX {
            out.push_str("...");
            break;
        }
        let kept = c.is_ascii_graphic() || c == ' ';
        out.push(if kept && !matches!(c, '<' | '>' | '&' | '"' | '\'' | '\\') { c } else { '?' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_utils::ErrorKind;

    #[test]
    fn conversions() {
        assert_eq!(HttpError::new(200, "x").status(), 500);
        let too_large = HttpError::from(http_utils::Error::protocol(ErrorKind::BodyTooLarge, 0));
        assert_eq!(too_large.status(), 413);
        let wrapped =
            HttpError::from(io::Error::from(http_utils::Error::protocol(ErrorKind::BodyTooLarge, 0)));
        assert_eq!(wrapped.status(), 413);
        assert_eq!(HttpError::from(io::Error::new(io::ErrorKind::InvalidData, "bad")).status(), 400);
        assert_eq!(HttpError::from(io::Error::other("disk")).status(), 500);
        let r: Result<Response, HttpError> = Err(HttpError::conflict("taken"));
        assert_eq!(r.into_response().status(), 409);
        assert_eq!((201, "made").into_response().status(), 201);
        assert_eq!("hi".into_response().content_type(), Some("text/plain; charset=utf-8"));
    }

    #[test]
    #[cfg(feature = "json")]
    fn details_for_clients_carry_no_markup() {
        assert_eq!(client_safe("missing field `id`"), "missing field `id`");
        assert_eq!(client_safe("unknown variant `<b>\"x\"`"), "unknown variant `?b??x?`");
        assert_eq!(client_safe("a\r\nSet-Cookie: x\u{7f}é"), "a??Set-Cookie: x??");
        let long = client_safe(&"a".repeat(1000));
        assert_eq!(long.len(), DETAIL_MAX + 3);
    }
}
