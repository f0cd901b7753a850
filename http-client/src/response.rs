//! The response: status line, headers, and the body as a stream that hands its connection back
//! to the pool the moment the body is complete.

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;

use http_utils::io::BodyReader;
use http_utils::{Framing, Headers, Limits, Version};

use crate::conn::Conn;
use crate::error::{Error, Result};
use crate::pool::Pool;

/// Most bytes read on drop to finish an abandoned body so that its connection can be reused;
/// only bytes already received are read, so dropping never waits on the network.
const DRAIN_ON_DROP: u64 = 64 * 1024;

/// An HTTP response (what the egg's `http:send-request` returned: the status line, the headers
/// and the still-open connection, here as the body stream).
///
/// The body is read through [`Read`], or whole with [`text`](Response::text) and
/// [`bytes`](Response::bytes), which stop at the client's body cap. The connection goes back to
/// the client's pool as soon as the body has been read to its end (when the response allows
/// keep-alive); [`is_complete`](Response::is_complete) says when that has happened. A response
/// dropped before its body was read closes its connection, unless the rest of the body (up to
/// 64 KiB) had already arrived: dropping reads only what is there and never waits.
///
/// Errors while reading the body (a truncated body, broken chunking, a timeout) come out of
/// `read` as an [`io::Error`] that converts back into [`Error`] with `Error::from`.
pub struct Response {
    status: u16,
    reason: String,
    version: Version,
    headers: Headers,
    url: url::Url,
    body: ResponseBody,
}

impl Response {
    pub(crate) fn new(head: http_utils::ResponseHead, url: url::Url, body: ResponseBody) -> Response {
        Response {
            status: head.status,
            reason: head.reason,
            version: head.version,
            headers: head.headers,
            url,
            body,
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase as sent by the server.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The protocol version of the response.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The status line, as the egg returned it (`HTTP/1.1 200 OK`).
    pub fn status_line(&self) -> String {
        format!("{} {} {}", self.version, self.status, self.reason)
    }

    /// The header fields (names in lower case).
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The URL this response came from, after redirects.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// True once the whole body has been received (at once for bodiless responses such as
    /// 204, 304 and answers to HEAD).
    pub fn is_complete(&self) -> bool {
        self.body.is_complete()
    }

    /// The trailer fields of a chunked body, once the body has been read to its end and if it
    /// had any.
    pub fn trailers(&self) -> Option<&Headers> {
        self.body.trailers()
    }

    /// The body as bytes, at most the client's `Limits::max_body` bytes.
    ///
    /// # Errors
    /// [`Error::BodyTooLarge`] past the cap; framing errors and timeouts as they come.
    pub fn bytes(self) -> Result<Vec<u8>> {
        let cap = self.body.max_body;
        self.bytes_limited(cap)
    }

    /// The body as bytes, at most `cap` bytes.
    ///
    /// # Errors
    /// As [`Response::bytes`].
    pub fn bytes_limited(mut self, cap: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let n = (&mut self.body).take(cap.saturating_add(1)).read_to_end(&mut out).map_err(Error::from)?;
        if n as u64 > cap {
            return Err(Error::BodyTooLarge { limit: cap });
        }
        Ok(out)
    }

    /// The body as UTF-8 text, at most the client's body cap.
    ///
    /// # Errors
    /// As [`Response::bytes`], and [`Error::NotUtf8`].
    pub fn text(self) -> Result<String> {
        String::from_utf8(self.bytes()?).map_err(|_| Error::NotUtf8)
    }

    /// The body stream alone.
    pub fn into_body(self) -> ResponseBody {
        self.body
    }

    /// Reads and discards the rest of the body (at most `max` bytes), so that the connection
    /// can be reused. Returns true when the body was complete within `max`.
    ///
    /// # Errors
    /// As reading.
    pub fn drain(&mut self, max: u64) -> Result<bool> {
        Ok(http_utils::io::drain(&mut self.body, max)?)
    }
}

impl Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.body.read(buf)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("reason", &self.reason)
            .field("version", &self.version)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers)
            .field("complete", &self.body.is_complete())
            .finish()
    }
}

/// A response body being read from its connection.
pub struct ResponseBody {
    reader: Option<BodyReader<Conn>>,
    /// Where the connection goes when the body is done; `None` when it must be closed.
    pool: Option<Arc<Pool>>,
    complete: bool,
    framing: Framing,
    max_body: u64,
    trailers: Option<Headers>,
}

impl ResponseBody {
    pub(crate) fn new(
        conn: Conn,
        framing: Framing,
        limits: &Limits,
        pool: Option<Arc<Pool>>,
    ) -> ResponseBody {
        let pool = if framing == Framing::UntilClose { None } else { pool };
        let mut body = ResponseBody {
            reader: Some(BodyReader::new(conn, framing, limits)),
            pool,
            complete: false,
            framing,
            max_body: limits.max_body,
            trailers: None,
        };
        body.check_complete();
        body
    }

    /// True once the whole body has been received.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The trailer fields of a chunked body, once it is complete and if it had any.
    pub fn trailers(&self) -> Option<&Headers> {
        self.trailers.as_ref()
    }

    fn check_complete(&mut self) {
        if self.reader.as_ref().is_some_and(BodyReader::is_complete) {
            self.complete = true;
            self.release();
        }
    }

    /// Hands the connection back to the pool (when allowed) or closes it.
    fn release(&mut self) {
        let Some(mut reader) = self.reader.take() else { return };
        self.trailers = reader.take_trailers();
        let conn = reader.into_inner();
        if let Some(pool) = self.pool.take() {
            if conn.buffered().is_empty() {
                pool.put(conn);
            }
        }
    }
}

impl Read for ResponseBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(reader) = self.reader.as_mut() else { return Ok(0) };
        match reader.read(buf) {
            Ok(n) => {
                self.check_complete();
                Ok(n)
            }
            Err(e) => {
                // The connection's framing is lost: close it.
                self.reader = None;
                self.pool = None;
                Err(e)
            }
        }
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        // Only a connection that could be reused is worth finishing.
        let (Some(mut reader), Some(pool)) = (self.reader.take(), self.pool.take()) else { return };
        // Finish the body with the bytes that have already arrived, without waiting for more.
        if reader.get_mut().set_polling(true).is_err() {
            return;
        }
        let mut sink = [0u8; 4096];
        let mut drained = 0u64;
        let finished = loop {
            if reader.is_complete() {
                break true;
            }
            if drained >= DRAIN_ON_DROP {
                break false;
            }
            match reader.read(&mut sink) {
                Ok(0) => break reader.is_complete(),
                Ok(n) => drained += n as u64,
                // Nothing more has arrived yet (or the body is broken): close the connection.
                Err(_) => break false,
            }
        };
        if finished && reader.get_mut().set_polling(false).is_ok() {
            let conn = reader.into_inner();
            if conn.buffered().is_empty() {
                pool.put(conn);
            }
        }
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("framing", &self.framing)
            .field("complete", &self.complete)
            .finish()
    }
}
