//! A bearer-token check (RFC 6750) as middleware: `Authorization: Bearer <token>` compared
//! with the tokens given, in time that does not depend on where they differ; 401 with
//! `WWW-Authenticate` otherwise.

use std::sync::Arc;

use http_utils::Method;

use super::auth::{applies, assert_quotable, WRITES};
use crate::handler::context::{Context, Middleware, Next};
use crate::handler::middleware::constant_time_eq;
use crate::handler::response::Response;

/// How tokens are checked.
#[derive(Clone)]
enum Check {
    Tokens(Vec<Vec<u8>>),
    With(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

/// Middleware that lets a request through only with a valid bearer token
/// (`Authorization: Bearer <token>`, RFC 6750); others get `401` with
/// `WWW-Authenticate: Bearer realm="..."` (and `error="invalid_token"` when a token was sent
/// but is not valid), the handler not run. Every method is checked unless
/// [`writes_only`](BearerAuth::writes_only) or [`methods`](BearerAuth::methods) say
/// otherwise. Register it after [`Cors`](crate::Cors) (preflights carry no credentials),
/// for the whole server ([`Server::wrap_with`](crate::Server::wrap_with)) or a prefix
/// ([`Server::scope`](crate::Server::scope)).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use http_server::{test, BearerAuth, Response, Server};
/// use http_utils::Method;
/// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
/// server.route([Method::Get, Method::Post], "/notes", |_cx| Response::text("ok")).unwrap();
/// server.wrap_with(BearerAuth::new(["s3cret"]).writes_only());
/// assert_eq!(test::get(&server, "/notes").status(), 200);
/// let refused = test::request(&server, Method::Post, "/notes").send();
/// assert_eq!(refused.status(), 401);
/// assert_eq!(refused.header("www-authenticate"), Some("Bearer realm=\"api\""));
/// let ok = test::request(&server, Method::Post, "/notes").header("Authorization", "Bearer s3cret").send();
/// assert_eq!(ok.status(), 200);
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct BearerAuth {
    check: Check,
    /// Only these methods are checked; `None`: every one.
    methods: Option<Vec<Method>>,
    challenge: String,
}

impl BearerAuth {
    /// Accepts any of `tokens`.
    pub fn new<S: AsRef<str>>(tokens: impl IntoIterator<Item = S>) -> BearerAuth {
        let tokens = tokens.into_iter().map(|t| t.as_ref().as_bytes().to_vec()).collect();
        BearerAuth::checked(Check::Tokens(tokens))
    }

    /// Accepts the tokens `check` accepts (a lookup of your own; it gets the token as sent).
    pub fn with(check: impl Fn(&str) -> bool + Send + Sync + 'static) -> BearerAuth {
        BearerAuth::checked(Check::With(Arc::new(check)))
    }

    fn checked(check: Check) -> BearerAuth {
        BearerAuth { check, methods: None, challenge: "Bearer realm=\"api\"".to_owned() }
    }

    /// Checks only requests that may change something: every method but `GET`, `HEAD` and
    /// `OPTIONS`.
    pub fn writes_only(self) -> BearerAuth {
        self.methods(WRITES)
    }

    /// Checks only requests with these methods (other methods, `CONNECT` and extension
    /// methods included, pass unchecked: list them when they matter).
    pub fn methods(mut self, methods: impl IntoIterator<Item = Method>) -> BearerAuth {
        self.methods = Some(methods.into_iter().collect());
        self
    }

    /// The realm named in `WWW-Authenticate` (`api` by default).
    ///
    /// # Panics
    /// When `realm` holds a quote, a backslash or a control character.
    pub fn realm(mut self, realm: &str) -> BearerAuth {
        assert_quotable("BearerAuth", realm);
        self.challenge = format!("Bearer realm=\"{realm}\"");
        self
    }

    fn valid(&self, token: &str) -> bool {
        match &self.check {
            Check::Tokens(tokens) => {
                // Every token is compared, each in time that depends on lengths only.
                tokens.iter().fold(false, |found, t| found | constant_time_eq(t, token.as_bytes()))
            }
            Check::With(check) => check(token),
        }
    }

    fn refuse(&self, cx: &Context<'_>, sent: bool) -> Response {
        let challenge = if sent {
            format!("{}, error=\"invalid_token\"", self.challenge)
        } else {
            self.challenge.clone()
        };
        cx.error_response(401, "Unauthorized").with_header("WWW-Authenticate", &challenge)
    }
}

impl Middleware for BearerAuth {
    fn call(&self, cx: &mut Context<'_>, next: Next<'_>) -> Response {
        if !applies(self.methods.as_deref(), cx.request().method()) {
            return next.run(cx);
        }
        match bearer_token(cx.request().headers().get("authorization")) {
            Some(token) if self.valid(token) => next.run(cx),
            Some(_) => self.refuse(cx, true),
            None => self.refuse(cx, false),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` field (the scheme in any case).
fn bearer_token(field: Option<&str>) -> Option<&str> {
    let field = field?.trim_start();
    let (scheme, rest) = field.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim_matches(' ');
    (!token.is_empty() && !token.contains(' ')).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_fields() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer   abc.def-1_~+/=")), Some("abc.def-1_~+/="));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(Some("Bearer a b")), None);
        assert_eq!(bearer_token(None), None);
        let auth = BearerAuth::new(["one", "two"]);
        assert!(auth.valid("two") && !auth.valid("tw") && !auth.valid("three"));
        assert!(BearerAuth::with(|t| t.starts_with("k-")).valid("k-1"));
    }
}
