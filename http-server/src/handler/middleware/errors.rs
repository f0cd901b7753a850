//! Errors as a JSON API speaks them, as middleware: every error answer the chain sees — an
//! [`HttpError`] a handler or a layer returned, the server's own 404, 405, 413, 415, 500,
//! 503 — rendered as `application/problem+json` (RFC 9457) or as JSON of the program's own
//! shape, its status and header fields (`Allow`, `WWW-Authenticate`, `Retry-After`) kept.
//!
//! ```text
//!   request ──► the rest of the chain ──► response
//!                                            │ error()? (HttpError, the server's own)
//!                                            │ or a bare 4xx/5xx (no body, no type)
//!                                            ▼
//!                    the status and fields kept; body and type from the renderer
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::handler::context::{Context, Middleware, Next};
use crate::handler::into_response::{HttpError, IntoResponse};
use crate::handler::response::{Response, ResponseBody};

/// What makes an error's body.
type Render = Arc<dyn Fn(&HttpError) -> Response + Send + Sync>;

/// Middleware that renders error answers as JSON ([`Server::wrap_with`](crate::Server::wrap_with),
/// or [`Server::scope`](crate::Server::scope) for an API under a prefix).
///
/// It renders every response of the chain inside it that [`Response::error`] names (an
/// [`HttpError`] returned by a handler or a layer, and the server's own error answers: 404,
/// 405, 413 and 400 for a body refused, 415, 416, 500 for a panic, 501, 503, a
/// [`BearerAuth`](crate::BearerAuth) 401), and every bare error a handler returned
/// (`Response::new(404)`: status 400 or more, no body, no content type). A handler's own
/// error with a body of its own stays as it is. The status and the header fields stay
/// (`Allow` of a 405, `WWW-Authenticate` of a 401, `Retry-After` of a 503); the content
/// type and the body are replaced.
///
/// - [`JsonErrors::problem`]: `application/problem+json` (RFC 9457) with `type`
///   (`about:blank`), `title` (the status's reason phrase), `status`, and `detail` (the
///   error's message, when it says more than the title). The body is ASCII: quotes,
///   backslashes, control characters, `<`, `>`, `&`, `'` and everything beyond ASCII are
///   `\u` escapes, so no byte of a message reaches a client unescaped (and a browser that
///   sniffs the body finds no markup).
/// - [`JsonErrors::shaped`] (feature `json`): `application/json` of whatever the closure
///   makes of the error (`{"error": "...", "status": 404}`).
/// - [`JsonErrors::with`]: any response the closure makes of the error; its content type,
///   body and fields are taken, the status stays the error's.
///
/// Register it first (outermost), so that the early answers of the layers after it (a 401)
/// are rendered too. Not rendered: the answers the chain never sees (a request that could
/// not be parsed, a 408 while the connection waits, see [`Server::wrap`](crate::Server::wrap));
/// those keep the error-response handler's page.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use http_server::{test, HttpError, JsonErrors, Response, Server};
/// use http_utils::Method;
/// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
/// server.wrap_with(JsonErrors::problem());
/// server.route(Method::Get, "/notes/{id}", |cx| -> Result<Response, HttpError> {
///     let id: u64 = cx.param_as("id")?;
///     Err(HttpError::not_found(format!("no note {id}")))
/// }).unwrap();
/// let r = test::get(&server, "/notes/7");
/// assert_eq!(r.status(), 404);
/// assert_eq!(r.header("content-type"), Some("application/problem+json"));
/// assert_eq!(r.text(), r#"{"type":"about:blank","title":"Not Found","status":404,"detail":"no note 7"}"#);
/// let r = test::request(&server, Method::Delete, "/notes/7").send();
/// assert_eq!(r.status(), 405);
/// assert_eq!(r.header("allow"), Some("GET, HEAD"));
/// assert_eq!(r.text(), r#"{"type":"about:blank","title":"Method Not Allowed","status":405}"#);
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct JsonErrors {
    render: Render,
}

impl JsonErrors {
    /// Problem details (RFC 9457), `application/problem+json`.
    pub fn problem() -> JsonErrors {
        JsonErrors {
            render: Arc::new(|e: &HttpError| {
                Response::bytes("application/problem+json", problem_body(e.status(), e.message()))
            }),
        }
    }

    /// `application/json` of the value `shape` makes of the error (anything `Serialize`).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{test, JsonErrors, Server};
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.wrap_with(JsonErrors::shaped(|e| serde_json::json!({"error": e.message(), "status": e.status()})));
    /// let r = test::get(&server, "/nowhere");
    /// assert_eq!(r.header("content-type"), Some("application/json"));
    /// assert_eq!(r.text(), r#"{"error":"Not Found","status":404}"#);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "json")]
    pub fn shaped<V, F>(shape: F) -> JsonErrors
    where
        F: Fn(&HttpError) -> V + Send + Sync + 'static,
        V: serde::Serialize,
    {
        JsonErrors { render: Arc::new(move |e: &HttpError| Response::json(&shape(e))) }
    }

    /// The response `render` makes of the error: its content type, body and header fields
    /// replace the error's content type and body and join its fields; the status stays
    /// the error's. For a body that is not JSON too (a plain-text API).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{test, JsonErrors, Response, Server};
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.wrap_with(JsonErrors::with(|e| {
    ///     Response::bytes("application/vnd.api+json", format!(r#"{{"errors":[{{"status":"{}"}}]}}"#, e.status()))
    /// }));
    /// let r = test::get(&server, "/nowhere");
    /// assert_eq!(r.status(), 404);
    /// assert_eq!(r.text(), r#"{"errors":[{"status":"404"}]}"#);
    /// # Ok(()) }
    /// ```
    pub fn with<R, F>(render: F) -> JsonErrors
    where
        F: Fn(&HttpError) -> R + Send + Sync + 'static,
        R: IntoResponse,
    {
        JsonErrors { render: Arc::new(move |e: &HttpError| render(e).into_response()) }
    }

    /// The response rendered for `response`, or `response` itself when it is not an error
    /// to render.
    fn render(&self, mut response: Response) -> Response {
        let Some(error) = error_of(&response) else { return response };
        let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.render)(&error)));
        let Ok(mut made) = made else {
            // A renderer that panics leaves the answer as it was (the panic reached the
            // log through the panic hook).
            return response;
        };
        response.content_type = made.content_type.take();
        for (name, value) in made.headers().iter_as_written() {
            let _ = response.headers.append(name, value);
        }
        response.with_body(made.take_body())
    }
}

impl Middleware for JsonErrors {
    fn call(&self, cx: &mut Context<'_>, next: Next<'_>) -> Response {
        let response = next.run(cx);
        self.render(response)
    }
}

/// The error a response answers: the one it keeps, or, for a bare error status, one made
/// of the status.
fn error_of(r: &Response) -> Option<HttpError> {
    if let Some(e) = r.error() {
        return Some(e);
    }
    let bare = r.status() >= 400 && r.content_type().is_none() && matches!(r.body(), ResponseBody::Empty);
    let reason = match r.status() {
        s if (400..600).contains(&s) => http_utils::reason_phrase(s),
        _ => "",
    };
    let message = if reason.is_empty() { "Error" } else { reason };
    (bare && r.takeover().is_none()).then(|| HttpError::new(r.status(), Cow::Borrowed(message)))
}

/// The problem details (RFC 9457) of an error: `type`, `title`, `status`, and `detail`
/// when the message says more than the title.
fn problem_body(status: u16, message: &str) -> String {
    let title = match http_utils::reason_phrase(status) {
        "" => "Error",
        phrase => phrase,
    };
    let mut out = String::with_capacity(80 + message.len());
    out.push_str("{\"type\":\"about:blank\",\"title\":");
    push_json_string(&mut out, title);
    let _ = write!(out, ",\"status\":{status}");
    let detail = message.trim();
    if !detail.is_empty() && detail != title {
        out.push_str(",\"detail\":");
        push_json_string(&mut out, detail);
    }
    out.push('}');
    out
}

/// Appends `s` as a JSON string of ASCII only: printable ASCII but `"`, `\`, `<`, `>`, `&`,
/// `'` as is, everything else a `\u` escape (UTF-16, surrogate pairs beyond the BMP).
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if (c == ' ' || c.is_ascii_graphic()) && !matches!(c, '"' | '\\' | '<' | '>' | '&' | '\'') {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_bodies() {
        assert_eq!(
            problem_body(404, "Not Found"),
            r#"{"type":"about:blank","title":"Not Found","status":404}"#
        );
        assert_eq!(
            problem_body(409, "name \"x\" taken"),
            r#"{"type":"about:blank","title":"Conflict","status":409,"detail":"name \u0022x\u0022 taken"}"#
        );
        assert_eq!(
            problem_body(599, "a\r\n<b>é😀\u{7f}\\"),
            r#"{"type":"about:blank","title":"Error","status":599,"detail":"a\u000d\u000a\u003cb\u003e\u00e9\ud83d\ude00\u007f\u005c"}"#
        );
        assert_eq!(problem_body(400, "  "), r#"{"type":"about:blank","title":"Bad Request","status":400}"#);
    }

    #[test]
    fn what_is_rendered() {
        let renderer = JsonErrors::problem();
        let bare = renderer.render(Response::new(418).with_header("X-A", "1"));
        assert_eq!(bare.content_type(), Some("application/problem+json"));
        assert_eq!(bare.headers().get("x-a"), Some("1"));
        assert_eq!(bare.status(), 418);
        let own = renderer.render(Response::text("mine").with_status(404));
        assert_eq!(own.content_type(), Some("text/plain; charset=utf-8"));
        assert!(error_of(&Response::new(204)).is_none());
        assert!(error_of(&Response::redirect(302, "/x")).is_none());
        let with = JsonErrors::with(|e| Response::text(e.message().to_owned()).with_header("X-B", "2"));
        let r = with.render(HttpError::forbidden("no").into_response());
        assert_eq!((r.status(), r.headers().get("x-b")), (403, Some("2")));
        assert_eq!(r.body().as_bytes(), Some(&b"no"[..]));
        let panicky = JsonErrors::with(|_| -> Response { panic!("renderer") });
        assert_eq!(panicky.render(Response::new(500)).status(), 500);
    }
}
