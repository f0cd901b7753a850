//! Request methods: the standard ones and extension tokens.

use std::fmt;
use std::str::FromStr;

use crate::token::is_token;

/// An HTTP request method (the egg's METHOD symbol).
///
/// The methods of RFC 9110 and PATCH have their own variants; any other token is kept as
/// [`Method::Other`]. Methods are case-sensitive: `get` is an extension method, not GET.
///
/// ```
/// use http_utils::Method;
/// assert_eq!("GET".parse::<Method>().unwrap(), Method::Get);
/// assert_eq!("PROPFIND".parse::<Method>().unwrap().as_str(), "PROPFIND");
/// assert!("BAD METHOD".parse::<Method>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// CONNECT
    Connect,
    /// OPTIONS
    Options,
    /// TRACE
    Trace,
    /// PATCH (RFC 5789)
    Patch,
    /// Any other token (`PROPFIND`, `PURGE`...): made only by parsing, so it is always a
    /// valid token and can never put a space, CR or LF into a request line.
    Other(ExtensionMethod),
}

/// An extension method: a non-empty token (RFC 9110 §9.1) that is none of the standard
/// methods. It has no public constructor; make one with [`Method::extension`] or by parsing.
///
/// ```
/// use http_utils::Method;
/// let m = Method::extension("PURGE").unwrap();
/// assert!(matches!(&m, Method::Other(ext) if ext.as_str() == "PURGE"));
/// assert!(Method::extension("GET\r\nX: y").is_err());
/// ```
///
/// A method cannot be made from an arbitrary string:
///
/// ```compile_fail
/// let m = http_utils::Method::Other("GET / HTTP/1.1\r\nX-Evil: 1\r\n\r\nGET".to_string());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtensionMethod(Box<str>);

impl ExtensionMethod {
    /// The method as written on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExtensionMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The error of parsing a string that is not a method token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidMethod;

impl fmt::Display for InvalidMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid method token")
    }
}

impl std::error::Error for InvalidMethod {}

impl Method {
    /// Parses a method from raw bytes; `None` unless they form a non-empty token.
    pub fn from_bytes(b: &[u8]) -> Option<Method> {
        Some(match b {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"CONNECT" => Method::Connect,
            b"OPTIONS" => Method::Options,
            b"TRACE" => Method::Trace,
            b"PATCH" => Method::Patch,
            other if is_token(other) => {
                // is_token guarantees ASCII.
                Method::Other(ExtensionMethod(String::from_utf8_lossy(other).into()))
            }
            _ => return None,
        })
    }

    /// The method named `name`: a standard one, or an extension method when `name` is any
    /// other token (case-sensitive: `get` is an extension method).
    ///
    /// # Errors
    /// [`InvalidMethod`] unless `name` is a non-empty token (no spaces, controls, separators
    /// or non-ASCII).
    pub fn extension(name: &str) -> Result<Method, InvalidMethod> {
        name.parse()
    }

    /// The method as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Other(s) => s.as_str(),
        }
    }

    /// Safe methods (RFC 9110 §9.2.1): GET, HEAD, OPTIONS, TRACE.
    pub fn is_safe(&self) -> bool {
        matches!(self, Method::Get | Method::Head | Method::Options | Method::Trace)
    }

    /// Idempotent methods (RFC 9110 §9.2.2): the safe ones plus PUT and DELETE. A client may
    /// retry these on a fresh connection.
    pub fn is_idempotent(&self) -> bool {
        self.is_safe() || matches!(self, Method::Put | Method::Delete)
    }
}

impl FromStr for Method {
    type Err = InvalidMethod;
    fn from_str(s: &str) -> Result<Method, InvalidMethod> {
        Method::from_bytes(s.as_bytes()).ok_or(InvalidMethod)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
