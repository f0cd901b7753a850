//! [`RequestBuilder`]: a request put together a call at a time (`client.get(url).header(..)
//! .query(..).send()`), and the methods of [`Client`] that start one.

use std::fmt;
use std::time::Duration;

use http_utils::{encode_form, Body, Method, Request, Version};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::proxy::base64;
use crate::response::Response;

/// A request being put together, made by [`Client::get`], [`Client::post`] and the other
/// method-named calls, or by [`Client::request`]. Nothing is sent until
/// [`send`](RequestBuilder::send).
///
/// A mistake on the way (a header name or value that is not allowed, a body that cannot be
/// serialized) is kept and returned by `send`, so the calls chain without a `?` each.
///
/// ```no_run
/// use std::time::Duration;
/// let client = http_client::Client::new();
/// let resp = client
///     .get("http://localhost:4242/search")
///     .query(&[("q", "rust http"), ("page", "2")]) // ?q=rust+http&page=2
///     .header("Accept", "text/html")
///     .bearer_auth("t0ken")
///     .timeout(Duration::from_secs(5))
///     .send()?;
/// println!("{} {}", resp.status(), resp.text()?);
/// # Ok::<(), http_client::Error>(())
/// ```
///
/// An error status (4xx, 5xx) is a [`Response`], as any other;
/// [`Response::error_for_status`] turns it into an [`Error::Status`] when that is what the
/// program wants.
#[must_use = "a request builder does nothing until `send` is called"]
pub struct RequestBuilder {
    client: Client,
    request: Result<Request>,
    timeout: Option<Duration>,
    try_timeout: Option<Duration>,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RequestBuilder");
        match &self.request {
            Ok(req) => d.field("method", req.method()).field("url", &crate::urls::redact_url(req.url())),
            Err(e) => d.field("error", e),
        };
        d.field("timeout", &self.timeout).field("try_timeout", &self.try_timeout).finish()
    }
}

impl RequestBuilder {
    pub(crate) fn new(client: Client, method: Method, url: &str) -> RequestBuilder {
        RequestBuilder { client, request: Ok(Request::new(method, url)), timeout: None, try_timeout: None }
    }

    /// Applies `f` to the request, unless an earlier call failed.
    fn map(mut self, f: impl FnOnce(&mut Request) -> Result<()>) -> RequestBuilder {
        if let Ok(req) = &mut self.request {
            if let Err(e) = f(req) {
                self.request = Err(e);
            }
        }
        self
    }

    /// Adds a header field (a second field of the same name is added beside the first).
    /// A name or value that may not be sent makes [`send`](Self::send) fail with
    /// [`Error::InvalidHeader`].
    pub fn header(self, name: &str, value: &str) -> RequestBuilder {
        self.map(|req| req.headers_mut().append(name, value).map_err(Error::InvalidHeader))
    }

    /// Sets a header field, replacing every field of that name.
    pub fn set_header(self, name: &str, value: &str) -> RequestBuilder {
        self.map(|req| req.headers_mut().set(name, value).map_err(Error::InvalidHeader))
    }

    /// Appends `pairs` to the URL's query, each name and value encoded as in a form
    /// (`a b&c` becomes `a+b%26c`), after the query the URL already has. A fragment stays at
    /// the end (it is never sent).
    ///
    /// ```
    /// let client = http_client::Client::new();
    /// let req = client.get("http://example.com/s?x=1#top").query(&[("q", "a b&c")]).build().unwrap();
    /// assert_eq!(req.url(), "http://example.com/s?x=1&q=a+b%26c#top");
    /// ```
    pub fn query<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> RequestBuilder {
        if pairs.is_empty() {
            return self;
        }
        let encoded = encode_form(pairs);
        self.map(|req| {
            req.set_url(with_query(req.url(), &encoded));
            Ok(())
        })
    }

    /// Sets `Authorization: Basic` with `user` and `password` as given (not percent-decoded).
    ///
    /// ```
    /// let req = http_client::Client::new().get("http://h/").basic_auth("Aladdin", "open sesame").build().unwrap();
    /// assert_eq!(req.headers().get("authorization"), Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
    /// ```
    pub fn basic_auth(self, user: &str, password: &str) -> RequestBuilder {
        let creds = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
        self.set_header("Authorization", &creds)
    }

    /// Sets `Authorization: Bearer <token>`.
    pub fn bearer_auth(self, token: &str) -> RequestBuilder {
        self.set_header("Authorization", &format!("Bearer {token}"))
    }

    /// A deadline for this request as a whole, in place of the client's
    /// [`Timeouts::overall`](crate::Timeouts): it starts when [`send`](Self::send) is called
    /// and spans every try a retry interceptor makes ([`intercept::Retry`](crate::intercept::Retry)),
    /// the waits between them, the redirects, and the reading of the body to its end. When it
    /// passes the request fails with [`TimeoutKind::Deadline`](crate::TimeoutKind), and no
    /// retry starts after it. The client's timeouts for each phase (connect, read, write)
    /// still apply; the error names the one that ran out. To bound each try instead, so that
    /// a retry gets its turn, use [`try_timeout`](Self::try_timeout).
    pub fn timeout(mut self, timeout: Duration) -> RequestBuilder {
        self.timeout = Some(timeout);
        self
    }

    /// A timeout for each try of this request, beside the overall [`timeout`](Self::timeout):
    /// a try (connecting, sending, redirects, up to the final response's head) that takes
    /// longer fails with [`TimeoutKind::Try`](crate::TimeoutKind), which a retry interceptor
    /// ([`intercept::Retry`](crate::intercept::Retry)) retries while the overall deadline
    /// leaves time. Once the head has arrived the try is over: the body is read within the
    /// overall deadline. Without a retry interceptor it is one more bound on the one try.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use http_client::{intercept::Retry, Client};
    /// let client = Client::builder().interceptor(Retry::new().attempts(3).interceptor()).build()?;
    /// // Each try gets 2 s; all of them together, and the body, 10 s.
    /// let resp = client
    ///     .get("http://localhost:4242/slow")
    ///     .try_timeout(Duration::from_secs(2))
    ///     .timeout(Duration::from_secs(10))
    ///     .send()?;
    /// println!("{} after {} tries", resp.status(), resp.attempts());
    /// # Ok::<(), http_client::Error>(())
    /// ```
    pub fn try_timeout(mut self, timeout: Duration) -> RequestBuilder {
        self.try_timeout = Some(timeout);
        self
    }

    /// The HTTP version to send (HTTP/1.1 unless set).
    pub fn version(self, version: Version) -> RequestBuilder {
        self.map(|req| {
            req.set_version(version);
            Ok(())
        })
    }

    /// The body: bytes, text, or [`Body::stream`] (sent chunked when its length is unknown).
    pub fn body(self, body: impl Into<Body>) -> RequestBuilder {
        let body = body.into();
        self.map(|req| {
            req.set_body(body);
            Ok(())
        })
    }

    /// A body of urlencoded `pairs` (`name=value&...`), with
    /// `Content-Type: application/x-www-form-urlencoded` unless one was set.
    ///
    /// ```
    /// let req = http_client::Client::new().post("http://h/").form(&[("name", "a b")]).build().unwrap();
    /// assert_eq!(req.body().as_bytes(), Some(&b"name=a+b"[..]));
    /// ```
    pub fn form<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> RequestBuilder {
        let body = encode_form(pairs);
        self.typed_body("application/x-www-form-urlencoded", body.into_bytes())
    }

    /// A body of `value` as JSON, with `Content-Type: application/json` unless one was set
    /// (feature `json`). A value that cannot be serialized (a map with keys that are not
    /// strings...) makes [`send`](Self::send) fail with `Error::Json`.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Note<'a> { title: &'a str, stars: u8 }
    /// let req = http_client::Client::new()
    ///     .post("http://h/notes")
    ///     .json(&Note { title: "egg", stars: 5 })
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(req.headers().get("content-type"), Some("application/json"));
    /// assert_eq!(req.body().as_bytes(), Some(&br#"{"title":"egg","stars":5}"#[..]));
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> RequestBuilder {
        match serde_json::to_vec(value) {
            Ok(bytes) => self.typed_body("application/json", bytes),
            Err(e) => self.map(|_| Err(Error::Json(e))),
        }
    }

    fn typed_body(self, content_type: &'static str, bytes: Vec<u8>) -> RequestBuilder {
        self.map(|req| {
            if !req.headers().contains("content-type") {
                req.headers_mut().append("Content-Type", content_type).map_err(Error::InvalidHeader)?;
            }
            req.set_body(bytes);
            Ok(())
        })
    }

    /// The request as it stands, without sending it (for [`Client::send`], an interceptor, or
    /// a look at what would go out). A per-request [`timeout`](Self::timeout) and
    /// [`try_timeout`](Self::try_timeout) are not part of a [`Request`] and are dropped.
    ///
    /// # Errors
    /// The first mistake of the calls before: [`Error::InvalidHeader`], `Error::Json`.
    pub fn build(self) -> Result<Request> {
        self.request
    }

    /// Sends the request through the client ([`Client::send`]: default headers,
    /// interceptors, redirects, cookies, gzip) and returns the response with its body still to
    /// be read. A 4xx or 5xx answer is a response, not an error.
    ///
    /// # Errors
    /// The first mistake of the calls before, then every error of [`Client::send`].
    pub fn send(self) -> Result<Response> {
        let req = self.request?;
        let overall = self.timeout.or(self.client.inner.timeouts.overall);
        self.client.send_tries(req, overall, self.try_timeout)
    }
}

/// `url` with `encoded` pairs added to its query, before any fragment.
fn with_query(url: &str, encoded: &str) -> String {
    let (base, fragment) = match url.find('#') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let sep = match base.find('?') {
        None => "?",
        Some(i) if i + 1 == base.len() || base.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{base}{sep}{encoded}{fragment}")
}

impl Client {
    /// Starts a request of `method` to `url`; see [`RequestBuilder`].
    ///
    /// ```no_run
    /// use http_client::{Client, Method};
    /// let resp = Client::new().request(Method::Options, "http://localhost:4242/").send()?;
    /// println!("{:?}", resp.header("allow"));
    /// # Ok::<(), http_client::Error>(())
    /// ```
    pub fn request(&self, method: Method, url: impl AsRef<str>) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, url.as_ref())
    }

    /// Starts a GET request; [`send`](RequestBuilder::send) gives the [`Response`], whatever
    /// its status. [`Client::get_text`] is the egg's `http:GET` (the body as text, an error
    /// for 4xx and 5xx).
    ///
    /// ```no_run
    /// let resp = http_client::Client::new().get("http://localhost:4242/").send()?;
    /// assert_eq!(resp.status(), 200);
    /// # Ok::<(), http_client::Error>(())
    /// ```
    pub fn get(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::Get, url)
    }

    /// Starts a POST request; see [`RequestBuilder`].
    pub fn post(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::Post, url)
    }

    /// Starts a PUT request; see [`RequestBuilder`].
    pub fn put(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::Put, url)
    }

    /// Starts a DELETE request; see [`RequestBuilder`].
    pub fn delete(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::Delete, url)
    }

    /// Starts a HEAD request; see [`RequestBuilder`].
    pub fn head(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::Head, url)
    }

    /// Starts a PATCH request; see [`RequestBuilder`].
    pub fn patch(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::Patch, url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_join_the_query_the_url_has() {
        for (url, out) in [
            ("http://h/p", "http://h/p?a=1"),
            ("http://h/p?", "http://h/p?a=1"),
            ("http://h/p?x=2", "http://h/p?x=2&a=1"),
            ("http://h/p?x=2&", "http://h/p?x=2&a=1"),
            ("http://h/p#f", "http://h/p?a=1#f"),
            ("http://h/p?x#f?g", "http://h/p?x&a=1#f?g"),
        ] {
            assert_eq!(with_query(url, "a=1"), out, "{url}");
        }
    }

    #[test]
    fn the_first_mistake_is_kept_for_send() {
        let client = Client::new();
        let err = client.get("http://h/").header("bad name", "v").header("ok", "v").build().unwrap_err();
        assert!(matches!(err, Error::InvalidHeader(_)), "{err:?}");
        let err = client.get("http://h/").header("x", "a\r\nb").send().unwrap_err();
        assert!(matches!(err, Error::InvalidHeader(_)), "{err:?}");
    }

    #[test]
    fn a_set_content_type_is_kept() {
        let req = Client::new()
            .post("http://h/")
            .header("Content-Type", "application/x-custom")
            .form(&[("a", "b")])
            .build()
            .unwrap();
        assert_eq!(req.headers().get("content-type"), Some("application/x-custom"));
        assert_eq!(req.method(), &Method::Post);
    }
}
