//! What a handler reads by name or type without holding the context: path parameters,
//! owned or parsed ([`Context::param`], [`Context::param_as`]), and the application's state
//! ([`Context::state`]).

use crate::handler::context::Context;
use crate::handler::into_response::HttpError;

impl<'a> Context<'a> {
    /// The value the matched route pattern captured for `{name}` or `{name...}`, decoded,
    /// as an owned `String`: the context is free again at once, so the body can be read
    /// after it ([`json`](Context::json), [`read_body`](Context::read_body)).
    /// [`captures`](Context::captures) borrows the values without a copy;
    /// [`param_as`](Context::param_as) parses one.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{HttpError, Response, Server};
    /// use http_utils::Method;
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server
    ///     .route(Method::Get, "/hello/{name}", |cx| {
    ///         Response::text(format!("Hello, {}!", cx.param("name").unwrap_or_default()))
    ///     })
    ///     .unwrap();
    /// server
    ///     .route(Method::Put, "/notes/{id}", |cx| -> Result<Response, HttpError> {
    ///         let id = cx.param("id").unwrap_or_default();
    ///         let body = cx.read_body()?;
    ///         Ok(Response::text(format!("{id}: {} bytes", body.len())))
    ///     })
    ///     .unwrap();
    /// # Ok(()) }
    /// ```
    pub fn param(&self, name: &str) -> Option<String> {
        self.captures.get(name).map(str::to_owned)
    }

    /// The value captured for `{name}`, parsed into `T` (any [`FromStr`](std::str::FromStr)
    /// type: numbers, `String`, `uuid::Uuid`...).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use http_server::{test, HttpError, Response, Server};
    /// use http_utils::Method;
    /// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
    /// server.route(Method::Get, "/notes/{id}", |cx| -> Result<Response, HttpError> {
    ///     let id: u64 = cx.param_as("id")?;
    ///     Ok(Response::text(format!("note {id}")))
    /// }).unwrap();
    /// assert_eq!(test::get(&server, "/notes/7").text(), "note 7");
    /// let bad = test::get(&server, "/notes/seven");
    /// assert_eq!((bad.status(), bad.text().trim()), (400, "invalid path parameter `id`"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// 400 naming the parameter (not repeating its value, nor the parser's message) when the
    /// value does not parse; 500 when the route has no `{name}` (a mistake in the program).
    pub fn param_as<T: std::str::FromStr>(&self, name: &str) -> Result<T, HttpError> {
        let Some(value) = self.captures.get(name) else {
            return Err(HttpError::internal(format!("the route has no parameter `{name}`")));
        };
        value.parse().map_err(|_| HttpError::bad_request(format!("invalid path parameter `{name}`")))
    }

    /// The value of type `T` the server was given with
    /// [`ServerBuilder::state`](crate::ServerBuilder::state): state every handler shares
    /// without an `Arc` of its own. The reference lives as long as the context, not just
    /// this borrow, so the body can be read while it is held.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::sync::Mutex;
    /// use http_server::{HttpError, Response, Server};
    /// use http_utils::Method;
    ///
    /// #[derive(Default)]
    /// struct Notes(Mutex<Vec<String>>);
    /// let server = Server::builder().port(0).bind("127.0.0.1").state(Notes::default()).build()?;
    /// server.route(Method::Post, "/notes", |cx| -> Result<Response, HttpError> {
    ///     let notes = cx.state::<Notes>();
    ///     let text = String::from_utf8(cx.read_body()?).map_err(|_| HttpError::bad_request("not UTF-8"))?;
    ///     notes.0.lock().unwrap().push(text);
    ///     Ok(Response::new(201))
    /// }).unwrap();
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    /// When the server holds no value of type `T`: a mistake in the program, found by the
    /// first request that reaches the handler (answered 500, the panic reported to the
    /// error hook and the log, naming the type). [`try_state`](Context::try_state) returns
    /// an `Option` instead.
    #[track_caller]
    pub fn state<T: Send + Sync + 'static>(&self) -> &'a T {
        match self.site.state.get::<T>() {
            Some(value) => value,
            None => crate::handler::state::missing::<T>(),
        }
    }

    /// Like [`state`](Context::state), `None` when the server holds no value of type `T`.
    pub fn try_state<T: Send + Sync + 'static>(&self) -> Option<&'a T> {
        self.site.state.get::<T>()
    }
}
