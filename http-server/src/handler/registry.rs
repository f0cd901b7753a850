//! The table a request is dispatched through: resources, method handlers, content parsers,
//! the fallback and error-page handlers, and the hooks. It can change while the server runs.
//!
//! Readers take a snapshot (an `Arc` of the whole table) once per request, so a handler never
//! holds a lock. Writers copy the table, change the copy and swap it in; changes are rare and
//! small next to requests.

use crate::handler::quick_hash::QuickMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use http_utils::Method;

use crate::handler::content::{text_parser, urlencoded_parser, ContentParser};
use crate::handler::context::{Context, Handler, Table};
use crate::handler::method_table::MethodTable;
use crate::handler::response::Response;
use crate::handler::route_table::RouteTable;

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

fn default_fallback(cx: &mut Context<'_>) -> Response {
    cx.error_response(404, "Not Found")
}

impl Table {
    pub(crate) fn new() -> Table {
        let mut methods = MethodTable::default();
        let resources: Handler = Arc::new(crate::handler::dispatch::resource_handler);
        let fallback: Handler = Arc::new(default_fallback);
        methods.insert(Method::Get, resources.clone());
        methods.insert(Method::Post, resources.clone());
        let mut parsers: QuickMap<String, ContentParser> = QuickMap::default();
        parsers.insert("application/x-www-form-urlencoded".to_owned(), Arc::new(urlencoded_parser));
        parsers.insert("multipart/form-data".to_owned(), Arc::new(crate::handler::parsers::multipart_parser));
        #[cfg(feature = "json")]
        parsers.insert("application/json".to_owned(), Arc::new(crate::handler::parsers::json_parser));
        Table {
            resources: QuickMap::default(),
            routes: RouteTable::new(),
            streaming: RouteTable::new(),
            status_handlers: QuickMap::default(),
            middleware: Vec::new(),
            body_limits: Vec::new(),
            methods,
            parsers,
            default_parser: Arc::new(text_parser),
            fallback: fallback.clone(),
            error_page: Arc::new(crate::handler::response::default_error_page),
            url_transform: None,
            startup_hook: None,
            error_hook: None,
            log_hook: None,
            debug: false,
            predefined: (resources, fallback),
        }
    }
}

/// The shared, changeable table, with a count of its changes (so that a worker can keep
/// the table it took until it changes, without taking the lock for every request).
pub(crate) struct Registry {
    table: RwLock<Arc<Table>>,
    generation: AtomicU64,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry { table: RwLock::new(Arc::new(Table::new())), generation: AtomicU64::new(0) }
    }

    pub(crate) fn snapshot(&self) -> Arc<Table> {
        self.snapshot_with_generation().1
    }

    /// The table and how many changes it has had.
    pub(crate) fn snapshot_with_generation(&self) -> (u64, Arc<Table>) {
        let g = match self.table.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        (self.generation.load(Ordering::Acquire), g.clone())
    }

    /// How many changes the table has had.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut Table) -> R) -> R {
        let mut guard = match self.table.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let r = f(Arc::make_mut(&mut guard));
        self.generation.fetch_add(1, Ordering::Release);
        r
    }
}
