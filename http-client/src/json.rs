//! Typed JSON bodies of responses (feature `json`): [`Response::json`]. The request side is
//! [`RequestBuilder::json`](crate::RequestBuilder::json).

use http_utils::is_json_media_type;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::response::Response;

impl Response {
    /// The body read whole (at most the client's body cap, as [`bytes`](Response::bytes)) and
    /// parsed as JSON into a `T` (feature `json`). A response without `Content-Type` is
    /// parsed all the same; one that names another type is refused, so that an HTML error page
    /// is not reported as a JSON syntax error. The status is not looked at: chain
    /// [`error_for_status`](Response::error_for_status) first to refuse 4xx and 5xx.
    ///
    /// ```
    /// use http_client::{Response, ResponseHead};
    /// #[derive(serde::Deserialize)]
    /// struct Actor { name: String }
    /// let mut head = ResponseHead::new(200);
    /// head.headers.append("Content-Type", "application/activity+json").unwrap();
    /// let resp = Response::from_parts(head, "http://h/actor", r#"{"name":"egg"}"#).unwrap();
    /// let actor: Actor = resp.json().unwrap();
    /// assert_eq!(actor.name, "egg");
    /// ```
    ///
    /// # Errors
    /// [`Error::NotJson`] for a `Content-Type` that is not JSON, `Error::Json` for a body that
    /// is not JSON or not a `T`, and every error of [`bytes`](Response::bytes).
    pub fn json<T: DeserializeOwned>(self) -> Result<T> {
        if let Some(ct) = self.header("content-type") {
            if !is_json_media_type(ct) {
                return Err(Error::NotJson { content_type: ct.to_owned() });
            }
        }
        serde_json::from_slice(&self.bytes()?).map_err(Error::Json)
    }
}
