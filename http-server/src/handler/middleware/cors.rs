//! Cross-origin resource sharing (the Fetch standard's CORS protocol) as middleware:
//! preflights answered, the response headers a browser checks added to every response for
//! an allowed origin, the server's own answers included.
//!
//! ```text
//!   request with Origin ── allowed? ── no ──► the rest of the chain; Vary: Origin only
//!        │                   │ yes
//!        │                   ├─ OPTIONS + Access-Control-Request-Method (a preflight):
//!        │                   │     204 with Allow-Origin, -Methods, -Headers, -Max-Age
//!        │                   └─ else: the rest of the chain, then Allow-Origin,
//!        │                          -Credentials, -Expose-Headers on its response
//!   without Origin ──► the rest of the chain; Vary: Origin unless every origin gets `*`
//! ```

use std::sync::Arc;
use std::time::Duration;

use http_utils::{Headers, Method};

use crate::handler::context::{Context, Middleware, Next};
use crate::handler::response::Response;

/// Which origins may read responses.
#[derive(Clone)]
enum Origins {
    /// Exact origins (`https://app.example:8443`), compared without regard to ASCII case.
    List(Vec<String>),
    /// Any origin: `Access-Control-Allow-Origin: *`.
    Any,
    /// Those a function accepts.
    Check(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

/// Which request headers a preflight may announce.
#[derive(Clone)]
enum AllowHeaders {
    List(String),
    /// Whatever the preflight asks for (valid field names only).
    Mirror,
}

/// CORS middleware ([`Server::wrap_with`](crate::Server::wrap_with)): lets pages of other
/// origins call the server from a browser.
///
/// Nothing is allowed until origins are named ([`allow_origin`](Cors::allow_origin),
/// [`allow_any_origin`](Cors::allow_any_origin), [`allow_origin_if`](Cors::allow_origin_if)).
/// Methods default to `GET, HEAD, POST, PUT, PATCH, DELETE`; request headers beyond the
/// CORS-safelisted ones to none. For a request from an allowed origin it:
/// - answers a preflight (`OPTIONS` with `Access-Control-Request-Method`) itself: `204`
///   with `Access-Control-Allow-Origin`, `-Allow-Methods`, `-Allow-Headers`,
///   `-Allow-Credentials` and `-Max-Age` as configured;
/// - adds `Access-Control-Allow-Origin` (the origin itself, or `*` for any origin without
///   credentials), `-Allow-Credentials` and `-Expose-Headers` to every other response,
///   the server's own 404, 405, 413, 503, static files and a stream's head included.
///
/// A preflight from an origin not allowed goes on to the server like any `OPTIONS` and gets
/// no CORS header (the browser then refuses the request). Every response gets `Vary: Origin`
/// when what it says depends on the origin. Register it before authentication
/// ([`BearerAuth`](crate::BearerAuth)): a preflight carries no credentials.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// use http_server::{test, Cors, Response, Server};
/// use http_utils::Method;
/// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
/// server.route(Method::Put, "/notes/{id}", |_cx| Response::new(204)).unwrap();
/// server.wrap_with(
///     Cors::new()
///         .allow_origin("https://app.example")
///         .allow_headers(["content-type", "authorization"])
///         .allow_credentials(true)
///         .max_age(Duration::from_secs(600)),
/// );
/// let preflight = test::request(&server, Method::Options, "/notes/1")
///     .header("Origin", "https://app.example")
///     .header("Access-Control-Request-Method", "PUT")
///     .header("Access-Control-Request-Headers", "content-type")
///     .send();
/// assert_eq!(preflight.status(), 204);
/// assert_eq!(preflight.header("access-control-allow-origin"), Some("https://app.example"));
/// assert_eq!(preflight.header("access-control-allow-headers"), Some("content-type, authorization"));
/// let other = test::request(&server, Method::Put, "/notes/1").header("Origin", "https://evil.example").send();
/// assert_eq!(other.header("access-control-allow-origin"), None);
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct Cors {
    origins: Origins,
    methods: String,
    headers: AllowHeaders,
    expose: Option<String>,
    credentials: bool,
    max_age: Option<String>,
}

impl Default for Cors {
    fn default() -> Cors {
        Cors::new()
    }
}

impl Cors {
    /// A configuration that allows no origin yet; the default methods and no extra headers.
    pub fn new() -> Cors {
        Cors {
            origins: Origins::List(Vec::new()),
            methods: "GET, HEAD, POST, PUT, PATCH, DELETE".to_owned(),
            headers: AllowHeaders::List(String::new()),
            expose: None,
            credentials: false,
            max_age: None,
        }
    }

    /// Allows `origin` (scheme, host and port as a browser sends it: `https://app.example`,
    /// `http://localhost:3000`, no path); may be called for several.
    ///
    /// # Panics
    /// When `origin` holds a space, a comma, a control character or non-ASCII (it could
    /// never match), or after [`allow_any_origin`](Cors::allow_any_origin).
    pub fn allow_origin(mut self, origin: &str) -> Cors {
        assert!(
            !origin.is_empty() && origin.bytes().all(|b| b.is_ascii_graphic() && b != b','),
            "Cors::allow_origin: {origin:?} is not an origin (scheme://host[:port])"
        );
        match &mut self.origins {
            Origins::List(list) => list.push(origin.trim_end_matches('/').to_owned()),
            _ => panic!("Cors::allow_origin after allow_any_origin or allow_origin_if"),
        }
        self
    }

    /// Allows each of `origins` (see [`allow_origin`](Cors::allow_origin)).
    ///
    /// # Panics
    /// As [`allow_origin`](Cors::allow_origin).
    pub fn allow_origins<S: AsRef<str>>(self, origins: impl IntoIterator<Item = S>) -> Cors {
        origins.into_iter().fold(self, |cors, o| cors.allow_origin(o.as_ref()))
    }

    /// Allows every origin: `Access-Control-Allow-Origin: *`, for public, credential-free
    /// APIs.
    ///
    /// # Panics
    /// With [`allow_credentials`](Cors::allow_credentials): every site could then act with
    /// the user's cookies; name the origins instead.
    pub fn allow_any_origin(mut self) -> Cors {
        assert!(!self.credentials, "Cors: credentials with any origin would let every site act as the user");
        self.origins = Origins::Any;
        self
    }

    /// Allows the origins `check` accepts (it gets the `Origin` field as sent); the response
    /// names the origin itself.
    pub fn allow_origin_if(mut self, check: impl Fn(&str) -> bool + Send + Sync + 'static) -> Cors {
        self.origins = Origins::Check(Arc::new(check));
        self
    }

    /// The methods a preflight allows (`Access-Control-Allow-Methods`).
    pub fn allow_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Cors {
        self.methods = join(methods.into_iter().map(|m| m.as_str().to_owned()));
        self
    }

    /// The request headers a preflight allows (`Access-Control-Allow-Headers`), beyond the
    /// CORS-safelisted ones (`Content-Type` with `application/json` is not one of them).
    ///
    /// # Panics
    /// When a name is not a valid field name.
    pub fn allow_headers<S: AsRef<str>>(mut self, names: impl IntoIterator<Item = S>) -> Cors {
        self.headers = AllowHeaders::List(field_names(names, "allow_headers"));
        self
    }

    /// Allows whatever request headers a preflight announces.
    pub fn allow_any_header(mut self) -> Cors {
        self.headers = AllowHeaders::Mirror;
        self
    }

    /// The response headers a page may read beyond the safelisted ones
    /// (`Access-Control-Expose-Headers`).
    ///
    /// # Panics
    /// When a name is not a valid field name.
    pub fn expose_headers<S: AsRef<str>>(mut self, names: impl IntoIterator<Item = S>) -> Cors {
        let list = field_names(names, "expose_headers");
        self.expose = (!list.is_empty()).then_some(list);
        self
    }

    /// Whether pages may send cookies and `Authorization` (`Access-Control-Allow-Credentials:
    /// true`); off by default.
    ///
    /// # Panics
    /// After [`allow_any_origin`](Cors::allow_any_origin).
    pub fn allow_credentials(mut self, on: bool) -> Cors {
        assert!(
            !(on && matches!(self.origins, Origins::Any)),
            "Cors: credentials with any origin would let every site act as the user"
        );
        self.credentials = on;
        self
    }

    /// How long a browser may keep a preflight's answer (`Access-Control-Max-Age`).
    pub fn max_age(mut self, age: Duration) -> Cors {
        self.max_age = Some(age.as_secs().to_string());
        self
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    fn allowed<'o>(&self, origin: &'o str) -> Option<&'o str> {
        let ok = match &self.origins {
            Origins::Any => return Some("*"),
            Origins::List(list) => list.iter().any(|o| o.eq_ignore_ascii_case(origin)),
            Origins::Check(check) => check(origin),
        };
        ok.then_some(origin)
    }

    /// True when responses differ by origin (so caches must keep them apart).
    fn varies(&self) -> bool {
        !matches!(self.origins, Origins::Any)
    }

    fn preflight(&self, allow_origin: &str, requested_headers: Option<&str>) -> Response {
        let mut r = Response::new(204);
        let h = r.headers_mut();
        let _ = h.append("Access-Control-Allow-Origin", allow_origin);
        if self.credentials {
            let _ = h.append("Access-Control-Allow-Credentials", "true");
        }
        let _ = h.append("Access-Control-Allow-Methods", &self.methods);
        match (&self.headers, requested_headers) {
            (AllowHeaders::List(list), _) if !list.is_empty() => {
                let _ = h.append("Access-Control-Allow-Headers", list);
            }
            (AllowHeaders::Mirror, Some(asked)) if is_name_list(asked) => {
                let _ = h.append("Access-Control-Allow-Headers", asked);
            }
            _ => {}
        }
        if let Some(age) = &self.max_age {
            let _ = h.append("Access-Control-Max-Age", age);
        }
        if self.varies() {
            let _ = h.append("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
        }
        r
    }

    /// Adds the headers of an allowed origin's response.
    fn allow(&self, headers: &mut Headers, allow_origin: &str) {
        let _ = headers.set("Access-Control-Allow-Origin", allow_origin);
        if self.credentials {
            let _ = headers.set("Access-Control-Allow-Credentials", "true");
        }
        if let Some(expose) = &self.expose {
            let _ = headers.set("Access-Control-Expose-Headers", expose);
        }
    }
}

impl Middleware for Cors {
    fn call(&self, cx: &mut Context<'_>, next: Next<'_>) -> Response {
        let headers = cx.request().headers();
        let Some(origin) = headers.get("origin") else {
            return self.vary(next.run(cx));
        };
        let Some(allow_origin) = self.allowed(origin) else {
            return self.vary(next.run(cx));
        };
        let allow_origin = allow_origin.to_owned();
        if cx.request().method() == &Method::Options && headers.contains("access-control-request-method") {
            return self.preflight(&allow_origin, headers.get("access-control-request-headers"));
        }
        let mut response = next.run(cx);
        self.allow(response.headers_mut(), &allow_origin);
        self.vary(response)
    }
}

impl Cors {
    /// Adds `Origin` to the response's `Vary` when responses differ by origin.
    fn vary(&self, mut response: Response) -> Response {
        if self.varies() {
            let h = response.headers_mut();
            if !h.has_token("vary", "origin") && !h.has_token("vary", "*") {
                let _ = h.append("Vary", "Origin");
            }
        }
        response
    }
}

/// The items joined with `", "`.
fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// Field names, checked and joined.
fn field_names<S: AsRef<str>>(names: impl IntoIterator<Item = S>, what: &str) -> String {
    join(names.into_iter().map(|n| {
        let n = n.as_ref().trim();
        assert!(is_token(n), "Cors::{what}: {n:?} is not a field name");
        n.to_owned()
    }))
}

/// True for a field name (an RFC 9110 token).
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// True for a comma-separated list of field names (what a preflight may announce).
fn is_name_list(s: &str) -> bool {
    s.len() <= 4096 && s.split(',').all(|n| is_token(n.trim_matches([' ', '\t'])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_lists() {
        let c = Cors::new().allow_origins(["https://a.example", "http://localhost:3000/"]);
        assert_eq!(c.allowed("https://A.example"), Some("https://A.example"));
        assert_eq!(c.allowed("http://localhost:3000"), Some("http://localhost:3000"));
        assert_eq!(c.allowed("https://b.example"), None);
        assert_eq!(c.allowed("null"), None);
        assert_eq!(Cors::new().allowed("https://a.example"), None);
        assert_eq!(Cors::new().allow_any_origin().allowed("null"), Some("*"));
        let c = Cors::new().allow_origin_if(|o| o.ends_with(".example"));
        assert_eq!(c.allowed("https://x.example"), Some("https://x.example"));
        assert!(is_name_list("content-type, x-a,authorization"));
        assert!(!is_name_list("content-type, x a"));
        assert!(!is_name_list("a,,b"));
        assert_eq!(Cors::new().allow_methods([Method::Get, Method::Put]).methods, "GET, PUT");
    }

    #[test]
    #[should_panic(expected = "credentials with any origin")]
    fn any_origin_with_credentials_is_refused() {
        let _ = Cors::new().allow_credentials(true).allow_any_origin();
    }

    #[test]
    #[should_panic(expected = "not an origin")]
    fn an_origin_with_a_newline_is_refused() {
        let _ = Cors::new().allow_origin("https://a.example\r\nX: y");
    }
}
