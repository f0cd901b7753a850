//! Typed bodies and queries (feature `serde`): a request body read into any `Deserialize`
//! type, from JSON ([`Context::json`]) or a urlencoded form ([`Context::form`]), and the
//! query string ([`Context::query`]), with the errors a client should get.

use serde::de::DeserializeOwned;

use crate::handler::context::Context;
use crate::handler::into_response::{client_safe, HttpError};
use http_utils::{is_json_media_type, Body};

impl Context<'_> {
    /// The body, read (bounded by the body limit) and kept as the request's body, or as the
    /// request holds it already (a second typed read, [`parse_content`](Context::parse_content)).
    fn body_bytes(&mut self) -> Result<&[u8], HttpError> {
        if !matches!(self.request().body(), Body::Bytes(_)) {
            let raw = self.take_body()?;
            self.request_mut().set_body(Body::Bytes(raw));
        }
        Ok(self.request().body().as_bytes().unwrap_or_default())
    }

    fn content_type(&self) -> &str {
        self.request().headers().get("content-type").unwrap_or("")
    }

    /// The body as JSON, deserialized into `T`.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{HttpError, Response, Server};
    /// use http_utils::Method;
    /// #[derive(serde::Deserialize, serde::Serialize)]
    /// struct Note { title: String, stars: u8 }
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.route(Method::Post, "/notes", |cx| -> Result<Response, HttpError> {
    ///     let note: Note = cx.json()?;
    ///     Ok(Response::json(&note).with_status(201))
    /// }).unwrap();
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// 415 when `Content-Type` is not JSON (`application/json` or `application/*+json`);
    /// 413 past the body limit; 400, naming the problem, for a body that is not JSON or
    /// does not fit `T`.
    pub fn json<T: DeserializeOwned>(&mut self) -> Result<T, HttpError> {
        if !is_json_media_type(self.content_type()) {
            return Err(HttpError::unsupported_media_type(
                "expected a JSON body (Content-Type: application/json)",
            ));
        }
        let raw = self.body_bytes()?;
        serde_json::from_slice(raw).map_err(HttpError::from)
    }

    /// The body as an `application/x-www-form-urlencoded` form, deserialized into `T`.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{HttpError, Response, Server};
    /// use http_utils::Method;
    /// #[derive(serde::Deserialize)]
    /// struct Login { user: String, remember: Option<bool> }
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.route(Method::Post, "/login", |cx| -> Result<Response, HttpError> {
    ///     let login: Login = cx.form()?;
    ///     Ok(Response::text(format!("hello {}", login.user)))
    /// }).unwrap();
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// 415 when `Content-Type` is not `application/x-www-form-urlencoded`; 413 past the
    /// body limit; 400, naming the problem, for a form that does not fit `T`.
    pub fn form<T: DeserializeOwned>(&mut self) -> Result<T, HttpError> {
        let ct = self.content_type().split(';').next().unwrap_or("").trim();
        if !ct.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(HttpError::unsupported_media_type(
                "expected a form (Content-Type: application/x-www-form-urlencoded)",
            ));
        }
        let raw = self.body_bytes()?;
        serde_urlencoded::from_bytes(raw)
            .map_err(|e| HttpError::bad_request(format!("invalid form: {}", client_safe(&e.to_string()))))
    }

    /// The query string (`?a=1&b=x`, percent-decoded, `+` as a space) deserialized into
    /// `T`; no query at all reads as an empty one, so a `T` whose fields are all `Option`
    /// or `#[serde(default)]` always fits. It borrows the context only for the call: the
    /// body can be read after it.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{test, HttpError, Response, Server};
    /// use http_utils::Method;
    /// #[derive(serde::Deserialize)]
    /// struct Page { offset: Option<u32>, limit: Option<u32> }
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.route(Method::Get, "/notes", |cx| -> Result<Response, HttpError> {
    ///     let page: Page = cx.query()?;
    ///     Ok(Response::text(format!("{} {}", page.offset.unwrap_or(0), page.limit.unwrap_or(20))))
    /// }).unwrap();
    /// assert_eq!(test::get(&server, "/notes?limit=5").text(), "0 5");
    /// assert_eq!(test::get(&server, "/notes?limit=many").status(), 400);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// 400, naming the problem (a missing field, a value that does not parse), for a query
    /// that does not fit `T`; the peer's bytes are not repeated beyond printable ASCII
    /// without markup.
    pub fn query<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        let query = self.request().query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map_err(|e| HttpError::bad_request(format!("invalid query: {}", client_safe(&e.to_string()))))
    }
}
