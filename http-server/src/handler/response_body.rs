//! The body of a response: bytes, a file, a reader or a writer.

use std::fmt;
use std::io::{self, Read, Write};

use http_utils::Headers;

/// A function that writes a streamed body; the server frames what it writes (chunked for
/// HTTP/1.1 peers, until close for HTTP/1.0 ones).
pub type BodyWriter = Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + Send>;

/// A function that writes a streamed body and returns trailer fields to send after it.
pub type TrailerWriter = Box<dyn FnOnce(&mut dyn Write) -> io::Result<Headers> + Send>;

/// The body of a [`Response`](crate::Response).
#[derive(Default)]
#[non_exhaustive]
pub enum ResponseBody {
    /// No body: `Content-Length: 0` (or nothing, for statuses that carry no body).
    #[default]
    Empty,
    /// Bytes that live forever (no copy, no allocation).
    Static(&'static [u8]),
    /// Bytes in memory.
    Bytes(Vec<u8>),
    /// Bytes read from a stream, sent with `Content-Length` when `length` is known, chunked
    /// otherwise.
    Stream {
        /// Where the bytes come from.
        reader: Box<dyn Read + Send>,
        /// The exact length, when known. A reader that ends early or runs long makes the
        /// server close the connection.
        length: Option<u64>,
    },
    /// Bytes of a file: `length` bytes from `offset` on. On Linux they go from the page cache
    /// to the socket without a copy (`sendfile`) over plain TCP; elsewhere, and over TLS, they
    /// are read and written. A file shorter than that makes the server close the connection
    /// after what it had.
    File {
        /// The open file.
        file: std::fs::File,
        /// Where the bytes start.
        offset: u64,
        /// How many bytes are sent.
        length: u64,
    },
    /// A function that writes the body (chunked).
    Writer(BodyWriter),
    /// A function that writes the body (chunked) and then returns the trailer fields sent
    /// after the last chunk (dropped when the body cannot be chunked, for HTTP/1.0 peers).
    WriterWithTrailers(TrailerWriter),
}

impl ResponseBody {
    /// The length when it is known before sending.
    pub fn len(&self) -> Option<u64> {
        match self {
            ResponseBody::Empty => Some(0),
            ResponseBody::Static(b) => Some(b.len() as u64),
            ResponseBody::Bytes(b) => Some(b.len() as u64),
            ResponseBody::Stream { length, .. } => *length,
            ResponseBody::File { length, .. } => Some(*length),
            ResponseBody::Writer(_) | ResponseBody::WriterWithTrailers(_) => None,
        }
    }

    /// True when the body is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The bytes of an in-memory body.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            ResponseBody::Empty => Some(&[]),
            ResponseBody::Static(b) => Some(b),
            ResponseBody::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseBody::Empty => f.write_str("Empty"),
            ResponseBody::Static(b) => write!(f, "Static({} bytes)", b.len()),
            ResponseBody::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            ResponseBody::Stream { length, .. } => write!(f, "Stream(length: {length:?})"),
            ResponseBody::File { offset, length, .. } => {
                write!(f, "File(offset: {offset}, length: {length})")
            }
            ResponseBody::Writer(_) => f.write_str("Writer"),
            ResponseBody::WriterWithTrailers(_) => f.write_str("WriterWithTrailers"),
        }
    }
}

impl From<&'static str> for ResponseBody {
    fn from(s: &'static str) -> ResponseBody {
        ResponseBody::Static(s.as_bytes())
    }
}

impl From<&'static [u8]> for ResponseBody {
    fn from(b: &'static [u8]) -> ResponseBody {
        ResponseBody::Static(b)
    }
}

impl From<String> for ResponseBody {
    fn from(s: String) -> ResponseBody {
        ResponseBody::Bytes(s.into_bytes())
    }
}

impl From<Vec<u8>> for ResponseBody {
    fn from(b: Vec<u8>) -> ResponseBody {
        ResponseBody::Bytes(b)
    }
}
