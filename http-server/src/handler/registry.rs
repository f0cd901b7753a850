//! The table a request is dispatched through: resources, method handlers, content parsers,
//! the fallback and error-page handlers, and the hooks. It can change while the server runs.
//!
//! Readers take a snapshot (an `Arc` of the whole table) once per request, so a handler never
//! holds a lock. Writers copy the table, change the copy and swap it in; changes are rare and
//! small next to requests.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::ops::Deref;
use std::sync::{Arc, RwLock};

use http_utils::{Headers, Method};

use crate::handler::context::Context;
use crate::handler::hooks::{ErrorEvent, LogRecord};
use crate::handler::parsers::FormPart;
use crate::handler::response::Response;
use crate::handler::route_table::RouteTable;

/// A handler with the whole context: the request, its arguments, the body as a stream and
/// the low-level writer. Method handlers, resources registered with
/// [`Server::add_context_resource`](crate::Server::add_context_resource) and the fallback
/// handler have this shape.
pub type Handler = Arc<dyn Fn(&mut Context<'_>) -> Response + Send + Sync>;

/// A content parser (the egg's `http:content-parser`): given the declared size (if any), the
/// request's header fields and a reader over the body (bounded by
/// [`Limits::max_body`](http_utils::Limits)), returns the parsed value and the raw bytes.
pub type ContentParser =
    Arc<dyn Fn(Option<u64>, &Headers, &mut dyn Read) -> io::Result<(Content, Vec<u8>)> + Send + Sync>;

/// A status handler: shapes every response with its status code, the server's own included
/// (see [`Server::set_status_handler`](crate::Server::set_status_handler)).
pub type StatusHandler = Arc<dyn Fn(&mut Context<'_>, Response) -> Response + Send + Sync>;

/// The error-response handler (the egg's `http:error-response-handler`): code and message to
/// an HTML body.
pub type ErrorPage = Arc<dyn Fn(u16, &str) -> String + Send + Sync>;

/// The URL transformation (the egg's `http:url-transformation`), applied to the request
/// target before the resource lookup.
pub type UrlTransform = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The log hook: called after each response.
pub type LogHook = Arc<dyn Fn(&LogRecord<'_>) + Send + Sync>;

/// The error hook: called when a handler panics or the server meets an error worth knowing.
pub type ErrorHook = Arc<dyn Fn(&ErrorEvent<'_>) + Send + Sync>;

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

/// One path or several: what [`Server::add_resource`](crate::Server::add_resource) and
/// friends take (the egg's string, symbol or list of paths).
pub trait ResourcePaths {
    /// The paths.
    fn into_paths(self) -> Vec<String>;
}

impl ResourcePaths for &str {
    fn into_paths(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl ResourcePaths for String {
    fn into_paths(self) -> Vec<String> {
        vec![self]
    }
}

impl ResourcePaths for &String {
    fn into_paths(self) -> Vec<String> {
        vec![self.clone()]
    }
}

impl<S: AsRef<str>, const N: usize> ResourcePaths for [S; N] {
    fn into_paths(self) -> Vec<String> {
        self.iter().map(|s| s.as_ref().to_owned()).collect()
    }
}

impl<S: AsRef<str>> ResourcePaths for &[S] {
    fn into_paths(self) -> Vec<String> {
        self.iter().map(|s| s.as_ref().to_owned()).collect()
    }
}

impl<S: AsRef<str>> ResourcePaths for Vec<S> {
    fn into_paths(self) -> Vec<String> {
        self.iter().map(|s| s.as_ref().to_owned()).collect()
    }
}

/// The dispatch table.
#[derive(Clone)]
pub(crate) struct Table {
    /// Resources at exact (decoded) paths: one hash lookup, tried first.
    pub resources: HashMap<String, Handler>,
    /// Resources with patterns (and exact ones limited to some methods).
    pub routes: RouteTable<Handler>,
    /// The routes whose handlers read their body from the socket
    /// ([`Server::streaming_route`](crate::Server::streaming_route)).
    pub streaming: RouteTable<()>,
    pub status_handlers: HashMap<u16, StatusHandler>,
    pub methods: HashMap<Method, Handler>,
    pub parsers: HashMap<String, ContentParser>,
    pub default_parser: ContentParser,
    pub fallback: Handler,
    pub error_page: ErrorPage,
    pub url_transform: Option<UrlTransform>,
    pub startup_hook: Option<Arc<dyn Fn() + Send + Sync>>,
    pub error_hook: Option<ErrorHook>,
    pub log_hook: Option<LogHook>,
    /// The predefined handlers, to tell them from a user's.
    predefined: (Handler, Handler),
}

impl Table {
    /// True when a request with `method` and `path` (as sent) is answered by the server's
    /// own 404 or 405 whatever its body: the predefined resource handler serves the method,
    /// no resource or route takes the path with that method, the fallback is the predefined
    /// one, and no URL transformation is set. Such a request needs no body read first.
    pub(crate) fn refuses_outright(&self, method: &Method, path: &str) -> bool {
        let Some(h) = self.methods.get(method) else { return false };
        if self.url_transform.is_some() || path.contains('%') || !Arc::ptr_eq(h, &self.predefined.0) {
            return false;
        }
        if self.resources.contains_key(path) {
            return false;
        }
        match self.routes.lookup(method, path) {
            crate::handler::route_table::Lookup::Found(_) => false,
            crate::handler::route_table::Lookup::MethodNotAllowed(_) => true,
            crate::handler::route_table::Lookup::NotFound => Arc::ptr_eq(&self.fallback, &self.predefined.1),
        }
    }

    /// True when the request goes to a streaming route (its handler reads the body).
    pub(crate) fn streams_body(&self, method: &Method, path: &str) -> bool {
        !self.streaming.is_empty()
            && matches!(self.streaming.lookup(method, path), crate::handler::route_table::Lookup::Found(_))
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

fn default_fallback(cx: &mut Context<'_>) -> Response {
    cx.error_response(404, "Not Found")
}

impl Table {
    pub(crate) fn new() -> Table {
        let mut methods: HashMap<Method, Handler> = HashMap::new();
        let resources: Handler = Arc::new(crate::handler::dispatch::resource_handler);
        let fallback: Handler = Arc::new(default_fallback);
        methods.insert(Method::Get, resources.clone());
        methods.insert(Method::Post, resources.clone());
        let mut parsers: HashMap<String, ContentParser> = HashMap::new();
        parsers.insert("application/x-www-form-urlencoded".to_owned(), Arc::new(urlencoded_parser));
        parsers.insert("multipart/form-data".to_owned(), Arc::new(crate::handler::parsers::multipart_parser));
        #[cfg(feature = "json")]
        parsers.insert("application/json".to_owned(), Arc::new(crate::handler::parsers::json_parser));
        Table {
            resources: HashMap::new(),
            routes: RouteTable::new(),
            streaming: RouteTable::new(),
            status_handlers: HashMap::new(),
            methods,
            parsers,
            default_parser: Arc::new(text_parser),
            fallback: fallback.clone(),
            error_page: Arc::new(crate::handler::response::default_error_page),
            url_transform: None,
            startup_hook: None,
            error_hook: None,
            log_hook: None,
            predefined: (resources, fallback),
        }
    }

    /// The error page for `code`, by the error-response handler; the default page if that
    /// handler panics.
    pub(crate) fn error_page(&self, code: u16, message: &str) -> String {
        let f = &self.error_page;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(code, message)))
            .unwrap_or_else(|_| crate::handler::response::default_error_page(code, message))
    }

    /// The parser for a `Content-Type` value (its media type, lower-cased, parameters
    /// dropped), or the default.
    pub(crate) fn parser_for(&self, content_type: Option<&str>) -> ContentParser {
        if let Some(ct) = content_type {
            let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if let Some(p) = self.parsers.get(&media) {
                return p.clone();
            }
        }
        self.default_parser.clone()
    }
}

/// The shared, changeable table.
pub(crate) struct Registry(RwLock<Arc<Table>>);

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry(RwLock::new(Arc::new(Table::new())))
    }

    pub(crate) fn snapshot(&self) -> Arc<Table> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut Table) -> R) -> R {
        let mut guard = match self.0.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(Arc::make_mut(&mut guard))
    }
}
