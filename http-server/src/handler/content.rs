//! What a body becomes: the content parsers' results ([`Content`], the parts of a form), the
//! arguments a resource gets ([`Args`]), and the egg's predefined text and urlencoded
//! parsers.

use std::any::Any;
use std::fmt;
use std::io::{self, Read};
use std::ops::Deref;
use std::sync::Arc;

use http_utils::Headers;

/// A content parser (the egg's `http:content-parser`): given the declared size (if any), the
/// request's header fields and a reader over the body (bounded by
/// [`Limits::max_body`](http_utils::Limits)), returns the parsed value and the raw bytes.
pub type ContentParser =
    Arc<dyn Fn(Option<u64>, &Headers, &mut dyn Read) -> io::Result<(Content, Vec<u8>)> + Send + Sync>;

/// What a content parser made of a body.
#[derive(Clone)]
#[non_exhaustive]
pub enum Content {
    /// A body read as text (the egg's default parser). Invalid UTF-8 is replaced.
    Text(String),
    /// Decoded `application/x-www-form-urlencoded` pairs.
    Form(Vec<(String, String)>),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// The parts of a `multipart/form-data` body ([`multipart_parser`](crate::multipart_parser)).
    Multipart(Vec<FormPart>),
    /// A JSON document ([`json_parser`](crate::json_parser); feature `json`).
    #[cfg(feature = "json")]
    Json(serde_json::Value),
    /// Anything a custom parser returns.
    Other(Arc<dyn Any + Send + Sync>),
}

impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Content::Text(s) => f.debug_tuple("Text").field(s).finish(),
            Content::Form(p) => f.debug_tuple("Form").field(p).finish(),
            Content::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Content::Multipart(p) => f.debug_tuple("Multipart").field(p).finish(),
            #[cfg(feature = "json")]
            Content::Json(v) => f.debug_tuple("Json").field(v).finish(),
            Content::Other(_) => f.write_str("Other(..)"),
        }
    }
}

impl Content {
    /// The text of a `Text` content.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The pairs of a `Form` content.
    pub fn as_form(&self) -> Option<&[(String, String)]> {
        match self {
            Content::Form(p) => Some(p),
            _ => None,
        }
    }

    /// The parts of a `Multipart` content.
    pub fn as_multipart(&self) -> Option<&[FormPart]> {
        match self {
            Content::Multipart(p) => Some(p),
            _ => None,
        }
    }

    /// The document of a `Json` content.
    #[cfg(feature = "json")]
    pub fn as_json(&self) -> Option<&serde_json::Value> {
        match self {
            Content::Json(v) => Some(v),
            _ => None,
        }
    }

    /// The value of an `Other` content, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        match self {
            Content::Other(v) => v.downcast_ref(),
            _ => None,
        }
    }
}

/// The decoded arguments a resource handler receives: the query arguments followed by the
/// pairs of a urlencoded body (the egg's a-list).
///
/// ```
/// let args = http_server::Args::from(vec![("a".to_string(), "1".to_string())]);
/// assert_eq!(args.get("a"), Some("1"));
/// assert_eq!(args.get("b"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args(Vec<(String, String)>);

impl Args {
    /// No arguments.
    pub fn new() -> Args {
        Args(Vec::new())
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Adds a pair at the end.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// The pairs.
    pub fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }
}

impl Deref for Args {
    type Target = [(String, String)];
    fn deref(&self) -> &[(String, String)] {
        &self.0
    }
}

impl From<Vec<(String, String)>> for Args {
    fn from(v: Vec<(String, String)>) -> Args {
        Args(v)
    }
}

/// One part of a `multipart/form-data` body, as [`multipart_parser`](crate::multipart_parser) keeps it.
///
/// `filename` is what the sender wrote: never use it as a path.
#[derive(Clone, PartialEq, Eq)]
pub struct FormPart {
    /// The form field name (`Content-Disposition: form-data; name=...`).
    pub name: Option<String>,
    /// The file name, for file fields.
    pub filename: Option<String>,
    /// The part's `Content-Type`, if it has one.
    pub content_type: Option<String>,
    /// The part's content.
    pub data: Vec<u8>,
}

impl FormPart {
    /// The content's length in bytes.
    pub fn size(&self) -> usize {
        self.data.len()
    }

    /// The content as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

impl fmt::Debug for FormPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormPart")
            .field("name", &self.name)
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("size", &self.data.len())
            .finish()
    }
}

/// Reads a body whole (the reader is already bounded by the body limit).
fn read_all(size: Option<u64>, body: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut raw = Vec::with_capacity(size.unwrap_or(0).min(64 * 1024) as usize);
    body.read_to_end(&mut raw)?;
    Ok(raw)
}

/// The egg's default content parser: the body as text.
pub fn text_parser(
    size: Option<u64>,
    _headers: &Headers,
    body: &mut dyn Read,
) -> io::Result<(Content, Vec<u8>)> {
    let raw = read_all(size, body)?;
    Ok((Content::Text(String::from_utf8_lossy(&raw).into_owned()), raw))
}

/// The predefined parser for `application/x-www-form-urlencoded`: the decoded pairs.
pub fn urlencoded_parser(
    size: Option<u64>,
    _headers: &Headers,
    body: &mut dyn Read,
) -> io::Result<(Content, Vec<u8>)> {
    let raw = read_all(size, body)?;
    let pairs = http_utils::decode_form(&String::from_utf8_lossy(&raw));
    Ok((Content::Form(pairs), raw))
}
