//! HTTP Basic authentication (RFC 7617) as middleware: `Authorization: Basic
//! base64(user:password)` given to a check; 401 with `WWW-Authenticate: Basic realm="...",
//! charset="UTF-8"` otherwise, for a missing, malformed or refused credential alike.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http_utils::{Method, Request};

use super::auth::{applies, assert_quotable, WRITES};
use crate::handler::context::{Context, Middleware, Next};
use crate::handler::middleware::constant_time_eq;
use crate::handler::response::Response;

/// A check of a user and a password.
type Check = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

/// Middleware that lets a request through only with a user and password its check accepts
/// (`Authorization: Basic ...`, RFC 7617); others get `401` with `WWW-Authenticate: Basic
/// realm="...", charset="UTF-8"`, the handler not run. A field that is not Basic, base64
/// that does not decode, a credential without `:`, one that is not UTF-8 or holds a control
/// character are all answered so, never 400 and never a panic. Every method is checked
/// unless [`writes_only`](BasicAuth::writes_only) or [`methods`](BasicAuth::methods) say
/// otherwise. Basic credentials are the password itself: serve them over TLS only.
///
/// Register it after [`Cors`](crate::Cors) (preflights carry no credentials), for the
/// whole server ([`Server::wrap_with`](crate::Server::wrap_with)) or a prefix
/// ([`Server::scope`](crate::Server::scope)). A handler reads who it is with
/// [`BasicAuth::credentials`].
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use http_server::{test, BasicAuth, Response, Server};
/// use http_utils::Method;
/// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
/// server.route(Method::Get, "/admin", |cx| {
///     let (user, _) = BasicAuth::credentials(cx.request()).unwrap_or_default();
///     Response::text(format!("hello {user}"))
/// }).unwrap();
/// server.scope("/admin").wrap_with(BasicAuth::new("Aladdin", "open sesame").realm("admin"));
/// let refused = test::get(&server, "/admin");
/// assert_eq!(refused.status(), 401);
/// assert_eq!(refused.header("www-authenticate"), Some("Basic realm=\"admin\", charset=\"UTF-8\""));
/// let ok = test::request(&server, Method::Get, "/admin")
///     .header("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
///     .send();
/// assert_eq!(ok.text(), "hello Aladdin");
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct BasicAuth {
    check: Check,
    /// Only these methods are checked; `None`: every one.
    methods: Option<Vec<Method>>,
    challenge: String,
}

impl BasicAuth {
    /// Accepts one fixed user and password, compared in time that does not depend on where
    /// they differ ([`constant_time_eq`]).
    pub fn new(user: &str, password: &str) -> BasicAuth {
        let (user, password) = (user.as_bytes().to_vec(), password.as_bytes().to_vec());
        BasicAuth::with(move |u, p| {
            // Both compared whatever the first gave: `&`, not `&&`.
            constant_time_eq(&user, u.as_bytes()) & constant_time_eq(&password, p.as_bytes())
        })
    }

    /// Accepts the users and passwords `check` accepts (a lookup of your own: compare with
    /// [`constant_time_eq`], or check a password hash).
    ///
    /// ```
    /// use http_server::{constant_time_eq, BasicAuth};
    /// let users = [("ann", "pw1"), ("bob", "pw2")];
    /// let auth = BasicAuth::with(move |user, password| {
    ///     users.iter().any(|(u, p)| *u == user && constant_time_eq(p.as_bytes(), password.as_bytes()))
    /// });
    /// ```
    pub fn with(check: impl Fn(&str, &str) -> bool + Send + Sync + 'static) -> BasicAuth {
        BasicAuth {
            check: Arc::new(check),
            methods: None,
            challenge: "Basic realm=\"restricted\", charset=\"UTF-8\"".to_owned(),
        }
    }

    /// Checks only requests that may change something: every method but `GET`, `HEAD` and
    /// `OPTIONS`.
    pub fn writes_only(self) -> BasicAuth {
        self.methods(WRITES)
    }

    /// Checks only requests with these methods (other methods, `CONNECT` and extension
    /// methods included, pass unchecked: list them when they matter).
    pub fn methods(mut self, methods: impl IntoIterator<Item = Method>) -> BasicAuth {
        self.methods = Some(methods.into_iter().collect());
        self
    }

    /// The realm named in `WWW-Authenticate` (`restricted` by default): browsers show it
    /// and keep credentials per realm.
    ///
    /// # Panics
    /// When `realm` holds a quote, a backslash, a control character or non-ASCII.
    pub fn realm(mut self, realm: &str) -> BasicAuth {
        assert_quotable("BasicAuth", realm);
        self.challenge = format!("Basic realm=\"{realm}\", charset=\"UTF-8\"");
        self
    }

    /// The user and password of a request's `Authorization: Basic` field, when it holds a
    /// well-formed one (whether or not any check accepts it).
    pub fn credentials(request: &Request) -> Option<(String, String)> {
        basic_credentials(request.headers().get("authorization"))
    }
}

impl Middleware for BasicAuth {
    fn call(&self, cx: &mut Context<'_>, next: Next<'_>) -> Response {
        if !applies(self.methods.as_deref(), cx.request().method()) {
            return next.run(cx);
        }
        match BasicAuth::credentials(cx.request()) {
            Some((user, password)) if (self.check)(&user, &password) => next.run(cx),
            _ => cx.error_response(401, "Unauthorized").with_header("WWW-Authenticate", &self.challenge),
        }
    }
}

/// The user and password of an `Authorization: Basic <base64>` field (the scheme in any
/// case): base64 with padding, decoding to UTF-8 with a `:` after the user, no control
/// characters.
pub(crate) fn basic_credentials(field: Option<&str>) -> Option<(String, String)> {
    let field = field?.trim_matches([' ', '\t']);
    let (scheme, rest) = field.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim_start_matches(' ')).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    if text.chars().any(char::is_control) {
        return None;
    }
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(field: &str) -> Option<(String, String)> {
        basic_credentials(Some(field))
    }

    #[test]
    fn credentials_from_fields() {
        let pair = |u: &str, p: &str| Some((u.to_owned(), p.to_owned()));
        assert_eq!(creds("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), pair("Aladdin", "open sesame"));
        assert_eq!(creds("basic   QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), pair("Aladdin", "open sesame"));
        // RFC 7617 §2.1: "test" and "123£" in UTF-8.
        assert_eq!(creds("Basic dGVzdDoxMjPCow=="), pair("test", "123£"));
        // A password may hold colons; a user and a password may be empty.
        assert_eq!(creds(&format!("Basic {}", STANDARD.encode("u:a:b"))), pair("u", "a:b"));
        assert_eq!(creds(&format!("Basic {}", STANDARD.encode(":"))), pair("", ""));
        for bad in [
            "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            "Basic",
            "Basic ",
            "Basic !!!!",
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ", // padding missing
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==x",
            "Basic QWxhZGRpbg==", // "Aladdin": no colon
        ] {
            assert_eq!(creds(bad), None, "{bad}");
        }
        assert_eq!(creds(&format!("Basic {}", STANDARD.encode(b"a:\xff"))), None);
        assert_eq!(creds(&format!("Basic {}", STANDARD.encode("a:b\r\nc"))), None);
        assert_eq!(basic_credentials(None), None);
    }

    #[test]
    fn comparisons() {
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"", b"\0"));
        assert!(!constant_time_eq(b"a\0", b"a"));
        let auth = BasicAuth::new("ann", "pw");
        assert!((auth.check)("ann", "pw"));
        assert!(!(auth.check)("ann", "pw2") && !(auth.check)("an", "pw") && !(auth.check)("", ""));
    }
}
