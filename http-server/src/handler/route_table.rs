//! A routing table: route [`Pattern`]s, each with values for sets of methods; lookups that pick
//! the most specific match, answer "method not allowed" with the `Allow` list, and list every
//! match in order so that a handler can pass a request on to the next.
//!
//! See [`RouteTable`] for an example and the rules.

use std::collections::HashMap;
use std::fmt;

use http_utils::Method;

use crate::handler::route::{path_key, Captures, Pattern, PatternError};

/// The methods a route value answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Methods {
    /// Every method.
    Any,
    /// These methods (`GET` also answers `HEAD` unless the pattern has a `HEAD` of its own).
    Only(Vec<Method>),
}

impl Methods {
    fn intersects(&self, other: &Methods) -> bool {
        match (self, other) {
            (Methods::Any, _) | (_, Methods::Any) => true,
            (Methods::Only(a), Methods::Only(b)) => a.iter().any(|m| b.contains(m)),
        }
    }
}

impl From<Method> for Methods {
    fn from(m: Method) -> Methods {
        Methods::Only(vec![m])
    }
}

impl From<Vec<Method>> for Methods {
    fn from(list: Vec<Method>) -> Methods {
        Methods::Only(list)
    }
}

impl From<&[Method]> for Methods {
    fn from(list: &[Method]) -> Methods {
        Methods::Only(list.to_vec())
    }
}

impl<const N: usize> From<[Method; N]> for Methods {
    fn from(list: [Method; N]) -> Methods {
        Methods::Only(list.to_vec())
    }
}

/// Why [`RouteTable::insert`] refused a route.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteError {
    /// The pattern already has a value for one of these methods.
    Duplicate {
        /// The pattern.
        pattern: String,
        /// A method both registrations name (`*` for [`Methods::Any`]).
        method: String,
    },
    /// The pattern conflicts with another one that shares a method: they match the same
    /// paths, or overlap with neither more specific.
    Conflict {
        /// The pattern being added.
        pattern: String,
        /// The pattern already in the table.
        existing: String,
    },
    /// An empty method list.
    NoMethods,
    /// The pattern itself is not valid (from [`Server::route`](crate::Server::route)).
    InvalidPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        error: PatternError,
    },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::Duplicate { pattern, method } => write!(f, "route {pattern} already has a {method} handler"),
            RouteError::Conflict { pattern, existing } => write!(
                f,
                "route {pattern} conflicts with {existing}: some paths match both and neither is more specific"
            ),
            RouteError::NoMethods => f.write_str("a route needs at least one method"),
            RouteError::InvalidPattern { pattern, error } => write!(f, "invalid route pattern {pattern:?}: {error}"),
        }
    }
}

impl std::error::Error for RouteError {}

/// A pattern and its values by method.
#[derive(Debug, Clone)]
struct Entry<T> {
    pattern: Pattern,
    values: Vec<(Methods, T)>,
}

impl<T> Entry<T> {
    fn methods_union_intersects(&self, methods: &Methods) -> bool {
        self.values.iter().any(|(m, _)| m.intersects(methods))
    }

    /// The value for `method`: an exact entry first, then `GET` for `HEAD`, then `Any`.
    fn value_for(&self, method: &Method) -> Option<&T> {
        let named = |m: &Method| {
            self.values.iter().find(|(ms, _)| matches!(ms, Methods::Only(l) if l.contains(m))).map(|(_, v)| v)
        };
        named(method)
            .or_else(|| if *method == Method::Head { named(&Method::Get) } else { None })
            .or_else(|| self.values.iter().find(|(ms, _)| *ms == Methods::Any).map(|(_, v)| v))
    }
}

/// One match of a lookup: the value, the pattern, and what the pattern captured.
#[derive(Debug)]
pub struct Route<'a, T> {
    /// The value registered for the pattern and method.
    pub value: &'a T,
    /// The pattern that matched.
    pub pattern: &'a Pattern,
    /// The wildcards' values.
    pub captures: Captures,
}

/// The answer of [`RouteTable::lookup`].
#[derive(Debug)]
pub enum Lookup<'a, T> {
    /// The most specific route for the method and path.
    Found(Route<'a, T>),
    /// Routes match the path but not the method: the methods they take, sorted, with `HEAD`
    /// wherever `GET` is (the `Allow` list of a 405).
    MethodNotAllowed(Vec<Method>),
    /// No route matches the path.
    NotFound,
}

/// Route patterns with values per method.
///
/// ```
/// use http_server::{Lookup, Methods, Pattern, RouteTable};
/// use http_utils::Method;
///
/// let mut table = RouteTable::new();
/// table.insert(Pattern::parse("/hello/{name}").unwrap(), Method::Get, "hello").unwrap();
/// table.insert(Pattern::parse("/hello/world").unwrap(), Method::Get, "world").unwrap();
/// table.insert(Pattern::parse("/echo").unwrap(), [Method::Get, Method::Post], "echo").unwrap();
/// table.insert(Pattern::parse("/{any...}").unwrap(), Methods::Any, "fallback").unwrap();
///
/// match table.lookup(&Method::Get, "/hello/ann") {
///     Lookup::Found(route) => {
///         assert_eq!(*route.value, "hello");
///         assert_eq!(route.captures.get("name"), Some("ann"));
///     }
///     other => panic!("{other:?}"),
/// }
/// // The most specific pattern wins; the others follow, for handlers that pass a request on.
/// let order: Vec<&str> = table.matches(&Method::Get, "/hello/world").map(|r| *r.value).collect();
/// assert_eq!(order, ["world", "hello", "fallback"]);
/// ```
///
/// ## Rules
/// - A lookup considers the patterns that match the path, most specific first (see
///   [`Pattern::relation`]); the first one with a value for the method wins. A `HEAD` request
///   uses the `GET` value when the pattern has no `HEAD` of its own; [`Methods::Any`] takes
///   every method.
/// - When patterns match the path but none takes the method, the answer is
///   [`Lookup::MethodNotAllowed`] with the methods they take, sorted, `HEAD` included with
///   `GET` (the `Allow` header of a 405).
/// - Registering a pattern that conflicts with one already there ([`Relation::conflicts`]:
///   the same paths under another spelling, or an overlap where neither is more specific)
///   fails when the two share a method. Patterns of equal specificity with disjoint methods
///   coexist.
/// - Exact patterns (no wildcard) are found with one hash lookup; patterns with wildcards
///   are indexed by their first literal segment, so a table of many routes costs little per
///   request.
///
/// [`Relation::conflicts`]: crate::Relation::conflicts
#[derive(Debug, Clone)]
pub struct RouteTable<T> {
    entries: Vec<Entry<T>>,
    /// Exact patterns by lookup key (several when spellings differ and methods do not).
    exact: HashMap<String, Vec<usize>>,
    /// Patterns with wildcards by their first literal segment.
    by_first: HashMap<String, Vec<usize>>,
    /// Patterns with wildcards that start with one.
    wild_first: Vec<usize>,
}

impl<T> Default for RouteTable<T> {
    fn default() -> RouteTable<T> {
        RouteTable::new()
    }
}

impl<T> RouteTable<T> {
    /// An empty table.
    pub fn new() -> RouteTable<T> {
        RouteTable {
            entries: Vec::new(),
            exact: HashMap::new(),
            by_first: HashMap::new(),
            wild_first: Vec::new(),
        }
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the table has no route.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The patterns, in registration order.
    pub fn patterns(&self) -> impl Iterator<Item = &Pattern> + '_ {
        self.entries.iter().map(|e| &e.pattern)
    }

    /// Adds `value` for `methods` on `pattern`.
    ///
    /// ```
    /// use http_server::{Methods, Pattern, RouteError, RouteTable};
    /// use http_utils::Method;
    /// let mut t = RouteTable::new();
    /// let p = |s| Pattern::parse(s).unwrap();
    /// t.insert(p("/a/{x}"), Method::Get, 1).unwrap();
    /// t.insert(p("/a/{x}"), Method::Post, 2).unwrap(); // same pattern, another method
    /// t.insert(p("/a/{y}"), Method::Put, 3).unwrap(); // same paths, disjoint methods
    /// assert!(matches!(t.insert(p("/a/{x}"), Method::Get, 4), Err(RouteError::Duplicate { .. })));
    /// assert!(matches!(t.insert(p("/{z}/b"), Methods::Any, 5), Err(RouteError::Conflict { .. })));
    /// ```
    ///
    /// # Errors
    /// [`RouteError::Duplicate`] when the pattern already has a value for one of the methods,
    /// [`RouteError::Conflict`] when another pattern conflicts with it on a shared method,
    /// [`RouteError::NoMethods`] for an empty list. The table is unchanged then.
    pub fn insert(
        &mut self,
        pattern: Pattern,
        methods: impl Into<Methods>,
        value: T,
    ) -> Result<(), RouteError> {
        let methods = methods.into();
        if methods == Methods::Only(Vec::new()) {
            return Err(RouteError::NoMethods);
        }
        let mut same_entry = None;
        for (i, entry) in self.entries.iter().enumerate() {
            if entry.pattern == pattern {
                if let Some((m, _)) = entry.values.iter().find(|(m, _)| m.intersects(&methods)) {
                    return Err(RouteError::Duplicate {
                        pattern: pattern.as_str().to_owned(),
                        method: first_common(m, &methods),
                    });
                }
                same_entry = Some(i);
            } else if pattern.relation(&entry.pattern).conflicts() && entry.methods_union_intersects(&methods)
            {
                return Err(RouteError::Conflict {
                    pattern: pattern.as_str().to_owned(),
                    existing: entry.pattern.as_str().to_owned(),
                });
            }
        }
        match same_entry {
            Some(i) => self.entries[i].values.push((methods, value)),
            None => {
                let index = self.entries.len();
                self.index(&pattern, index);
                self.entries.push(Entry { pattern, values: vec![(methods, value)] });
            }
        }
        Ok(())
    }

    fn index(&mut self, pattern: &Pattern, index: usize) {
        if let Some(key) = pattern.exact_key() {
            self.exact.entry(key).or_default().push(index);
        } else if let Some(first) = pattern.first_key() {
            self.by_first.entry(first).or_default().push(index);
        } else {
            self.wild_first.push(index);
        }
    }

    /// Removes a pattern with all its values, which are returned (empty when absent).
    pub fn remove(&mut self, pattern: &Pattern) -> Vec<(Methods, T)> {
        let Some(i) = self.entries.iter().position(|e| e.pattern == *pattern) else { return Vec::new() };
        let entry = self.entries.remove(i);
        self.exact.clear();
        self.by_first.clear();
        self.wild_first.clear();
        let patterns: Vec<Pattern> = self.entries.iter().map(|e| e.pattern.clone()).collect();
        for (index, p) in patterns.iter().enumerate() {
            self.index(p, index);
        }
        entry.values
    }

    /// The value of `pattern` (spelled exactly as registered) for `method`, as a lookup would
    /// pick it (with `HEAD` falling back to `GET`, and [`Methods::Any`]).
    pub fn get(&self, pattern: &Pattern, method: &Method) -> Option<&T> {
        self.entries.iter().find(|e| e.pattern == *pattern)?.value_for(method)
    }

    /// Indexes of the entries whose pattern matches `path`, with their captures, most
    /// specific first.
    fn matching(&self, path: &str) -> Vec<(usize, Captures)> {
        let mut found = Vec::new();
        let Some(key) = path_key(path) else { return found };
        if let Some(list) = self.exact.get(key.as_ref()) {
            found.extend(list.iter().map(|&i| (i, Captures::default())));
        }
        // Inside a key, `/` only separates segments (see `path_key`).
        let first = key[1..].split('/').next().unwrap_or("");
        let by_first = self.by_first.get(first).map(Vec::as_slice).unwrap_or_default();
        for &i in by_first.iter().chain(&self.wild_first) {
            if let Some(c) = self.entries[i].pattern.matches(path) {
                found.push((i, c));
            }
        }
        if found.len() > 1 {
            found.sort_by(|(a, _), (b, _)| {
                self.entries[*a].pattern.ranks().cmp(self.entries[*b].pattern.ranks()).then(a.cmp(b))
            });
        }
        found
    }

    /// Every route matching `method` and `path`, most specific first: the first is what
    /// [`lookup`](RouteTable::lookup) finds, the rest are tried in turn when a handler passes
    /// the request on ("next"). Patterns that match the path without taking the method are
    /// left out.
    pub fn matches<'a>(&'a self, method: &Method, path: &str) -> impl Iterator<Item = Route<'a, T>> + 'a {
        let method = method.clone();
        self.matching(path).into_iter().filter_map(move |(i, captures)| {
            let entry = &self.entries[i];
            entry.value_for(&method).map(|value| Route { value, pattern: &entry.pattern, captures })
        })
    }

    /// The most specific route for `method` and `path` (the path of the request target,
    /// still percent-encoded, without the query), or why there is none.
    pub fn lookup(&self, method: &Method, path: &str) -> Lookup<'_, T> {
        // The fast path: an exact pattern with the method is the most specific match.
        if let Some(key) = path_key(path) {
            if let Some(list) = self.exact.get(key.as_ref()) {
                for &i in list {
                    let entry = &self.entries[i];
                    if let Some(value) = entry.value_for(method) {
                        return Lookup::Found(Route {
                            value,
                            pattern: &entry.pattern,
                            captures: Captures::default(),
                        });
                    }
                }
            }
        }
        let mut matching = self.matching(path);
        if matching.is_empty() {
            return Lookup::NotFound;
        }
        if let Some(pos) = matching.iter().position(|(i, _)| self.entries[*i].value_for(method).is_some()) {
            let (i, captures) = matching.swap_remove(pos);
            let entry = &self.entries[i];
            if let Some(value) = entry.value_for(method) {
                return Lookup::Found(Route { value, pattern: &entry.pattern, captures });
            }
        }
        Lookup::MethodNotAllowed(self.allow_list(matching.iter().map(|(i, _)| *i)))
    }

    /// The methods the routes matching `path` take, sorted, with `HEAD` wherever `GET` is;
    /// `None` when a matching route takes every method ([`Methods::Any`]). Empty when nothing
    /// matches. For `Allow` headers and `OPTIONS`.
    pub fn allowed_methods(&self, path: &str) -> Option<Vec<Method>> {
        let matching = self.matching(path);
        let any =
            matching.iter().any(|(i, _)| self.entries[*i].values.iter().any(|(m, _)| *m == Methods::Any));
        (!any).then(|| self.allow_list(matching.iter().map(|(i, _)| *i)))
    }

    fn allow_list(&self, entries: impl Iterator<Item = usize>) -> Vec<Method> {
        let mut out: Vec<Method> = Vec::new();
        for i in entries {
            for (methods, _) in &self.entries[i].values {
                if let Methods::Only(list) = methods {
                    for m in list {
                        if !out.contains(m) {
                            out.push(m.clone());
                        }
                    }
                }
            }
        }
        if out.contains(&Method::Get) && !out.contains(&Method::Head) {
            out.push(Method::Head);
        }
        out.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        out
    }
}

/// A method two sets share, for error messages.
fn first_common(a: &Methods, b: &Methods) -> String {
    match (a, b) {
        (Methods::Only(x), Methods::Only(y)) => {
            x.iter().find(|m| y.contains(m)).map(|m| m.as_str().to_owned()).unwrap_or_default()
        }
        (Methods::Only(x), Methods::Any) | (Methods::Any, Methods::Only(x)) => {
            x.first().map(|m| m.as_str().to_owned()).unwrap_or_default()
        }
        (Methods::Any, Methods::Any) => "*".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    fn found<'a>(
        t: &'a RouteTable<&'static str>,
        m: Method,
        path: &str,
    ) -> Option<(&'a str, Vec<(String, String)>)> {
        match t.lookup(&m, path) {
            Lookup::Found(r) => {
                Some((*r.value, r.captures.iter().map(|(a, b)| (a.to_owned(), b.to_owned())).collect()))
            }
            _ => None,
        }
    }

    fn value(t: &RouteTable<&'static str>, m: Method, path: &str) -> Option<&'static str> {
        match t.lookup(&m, path) {
            Lookup::Found(r) => Some(*r.value),
            _ => None,
        }
    }

    fn table() -> RouteTable<&'static str> {
        let mut t = RouteTable::new();
        t.insert(p("/"), Method::Get, "root").unwrap();
        t.insert(p("/hello/{name}"), Method::Get, "hello").unwrap();
        t.insert(p("/hello/world"), Method::Get, "world").unwrap();
        t.insert(p("/echo"), [Method::Get, Method::Post], "echo").unwrap();
        t.insert(p("/files/{path...}"), Method::Get, "files").unwrap();
        t.insert(p("/files/special/{name}"), Method::Get, "special").unwrap();
        t.insert(p("/items/{id}"), Method::Delete, "delete").unwrap();
        t.insert(p("/items/{id}"), Method::Put, "put").unwrap();
        t.insert(p("/any"), Methods::Any, "any").unwrap();
        t
    }

    #[test]
    fn most_specific_wins() {
        let t = table();
        let cases: &[(&str, Option<&str>)] = &[
            ("/", Some("root")),
            ("/hello/world", Some("world")),
            ("/hello/wor%6Cd", Some("world")),
            ("/hello/ann", Some("hello")),
            ("/hello/world/", None),
            ("/echo", Some("echo")),
            ("/files/a/b", Some("files")),
            ("/files/special/x", Some("special")),
            ("/files/special/x/y", Some("files")),
            ("/files/special/", Some("files")),
            ("/files/index", Some("files")),
            ("/hello/index", Some("hello")),
            ("/any", Some("any")),
            ("/nothing", None),
            ("*", None),
            ("", None),
        ];
        for &(path, want) in cases {
            assert_eq!(value(&t, Method::Get, path), want, "{path}");
        }
        assert_eq!(
            found(&t, Method::Get, "/hello/b%C3%B6b").unwrap().1,
            [("name".to_owned(), "böb".to_owned())]
        );
    }

    #[test]
    fn methods_head_and_405() {
        let t = table();
        assert_eq!(value(&t, Method::Post, "/echo"), Some("echo"));
        assert_eq!(value(&t, Method::Head, "/echo"), Some("echo"));
        assert_eq!(value(&t, Method::Head, "/hello/x"), Some("hello"));
        assert_eq!(value(&t, Method::Put, "/items/7"), Some("put"));
        assert_eq!(value(&t, Method::Other("PURGE".into()), "/any"), Some("any"));
        match t.lookup(&Method::Put, "/echo") {
            Lookup::MethodNotAllowed(allow) => assert_eq!(allow, [Method::Get, Method::Head, Method::Post]),
            other => panic!("{other:?}"),
        }
        match t.lookup(&Method::Get, "/items/7") {
            Lookup::MethodNotAllowed(allow) => assert_eq!(allow, [Method::Delete, Method::Put]),
            other => panic!("{other:?}"),
        }
        // The allow list covers every pattern that matches the path.
        match t.lookup(&Method::Post, "/files/special/x") {
            Lookup::MethodNotAllowed(allow) => assert_eq!(allow, [Method::Get, Method::Head]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(t.lookup(&Method::Get, "/nope/nope/nope"), Lookup::NotFound));
        assert_eq!(t.allowed_methods("/echo"), Some(vec![Method::Get, Method::Head, Method::Post]));
        assert_eq!(t.allowed_methods("/any"), None);
        assert_eq!(t.allowed_methods("/nope/nope/nope"), Some(vec![]));
    }

    #[test]
    fn explicit_head_beats_get() {
        let mut t = RouteTable::new();
        t.insert(p("/r"), Method::Get, "get").unwrap();
        t.insert(p("/r"), Method::Head, "head").unwrap();
        assert_eq!(value(&t, Method::Head, "/r"), Some("head"));
        assert_eq!(value(&t, Method::Get, "/r"), Some("get"));
        assert_eq!(t.get(&p("/r"), &Method::Head), Some(&"head"));
        assert_eq!(t.get(&p("/r"), &Method::Post), None);
    }

    #[test]
    fn next_walks_every_match_in_order() {
        let mut t = RouteTable::new();
        t.insert(p("/"), Method::Get, "root").unwrap();
        t.insert(p("/hello/{name}"), Method::Get, "hello").unwrap();
        t.insert(p("/hello/world"), Method::Get, "world").unwrap();
        t.insert(p("/{a}/{b}"), Method::Get, "two").unwrap();
        t.insert(p("/{all...}"), Methods::Any, "all").unwrap();
        t.insert(p("/files/{path...}"), Method::Post, "files").unwrap();
        t.insert(p("/files/special/{name}"), Method::Post, "special").unwrap();
        let order = |m: Method, path: &str| t.matches(&m, path).map(|r| *r.value).collect::<Vec<_>>();
        assert_eq!(order(Method::Get, "/hello/world"), ["world", "hello", "two", "all"]);
        assert_eq!(order(Method::Post, "/files/special/x"), ["special", "files", "all"]);
        assert_eq!(order(Method::Get, "/hello/index"), ["hello", "two", "all"]);
        // A pattern that matches the path without the method is skipped.
        assert_eq!(order(Method::Post, "/hello/world"), ["all"]);
        assert_eq!(order(Method::Get, "/files/special/x"), ["all"]);
        assert_eq!(order(Method::Get, "/"), ["root", "all"]);
        let first = t.matches(&Method::Post, "/files/special/x").next().unwrap();
        assert_eq!(first.pattern.as_str(), "/files/special/{name}");
        assert_eq!(first.captures.get("name"), Some("x"));
    }

    #[test]
    fn conflicts_and_duplicates() {
        let mut t = table();
        let err = t.insert(p("/hello/{other}"), Method::Get, "x").unwrap_err();
        assert_eq!(
            err,
            RouteError::Conflict { pattern: "/hello/{other}".into(), existing: "/hello/{name}".into() }
        );
        assert!(err.to_string().contains("conflicts"));
        let err = t.insert(p("/hello/{name}"), Method::Get, "again").unwrap_err();
        assert_eq!(err, RouteError::Duplicate { pattern: "/hello/{name}".into(), method: "GET".into() });
        assert_eq!(
            t.insert(p("/items/{id}"), [Method::Post, Method::Put], "x"),
            Err(RouteError::Duplicate { pattern: "/items/{id}".into(), method: "PUT".into() })
        );
        assert_eq!(
            t.insert(p("/echo"), Methods::Any, "x"),
            Err(RouteError::Duplicate { pattern: "/echo".into(), method: "GET".into() })
        );
        assert_eq!(t.insert(p("/x"), Vec::new(), "x"), Err(RouteError::NoMethods));
        // Same paths, another spelling: a conflict when a method is shared, fine otherwise.
        assert!(matches!(t.insert(p("/ech%6F"), Method::Post, "x"), Err(RouteError::Conflict { .. })));
        t.insert(p("/ech%6F"), Method::Put, "put-echo").unwrap();
        assert_eq!(value(&t, Method::Put, "/echo"), Some("put-echo"));
        assert_eq!(value(&t, Method::Post, "/echo"), Some("echo"));
        // Overlapping patterns (both match /a/b) must not share a method.
        let mut u = RouteTable::new();
        u.insert(p("/a/{x}"), Method::Get, "ax").unwrap();
        assert!(matches!(u.insert(p("/{y}/b"), Method::Get, "yb"), Err(RouteError::Conflict { .. })));
        u.insert(p("/{y}/b"), Method::Post, "yb").unwrap();
        assert!(matches!(u.insert(p("/{z}/{w}"), Methods::Any, "zw"), Ok(())));
        assert_eq!(u.len(), 3);
        assert!(RouteError::NoMethods.to_string().contains("method"));
    }

    #[test]
    fn overlapping_patterns_with_disjoint_methods() {
        let mut t = RouteTable::new();
        t.insert(p("/hello/{name}"), Method::Get, "hello").unwrap();
        t.insert(p("/files/{path...}"), Method::Get, "files").unwrap();
        for overlapping in ["/{section}/index", "/{section}/{page}/"] {
            let err = t.insert(p(overlapping), Method::Get, "x").unwrap_err();
            assert!(matches!(err, RouteError::Conflict { .. }), "{overlapping}: {err:?}");
        }
        // With another method they coexist, and each answers its own method.
        t.insert(p("/{section}/index"), Method::Post, "index").unwrap();
        assert_eq!(value(&t, Method::Post, "/hello/index"), Some("index"));
        assert_eq!(value(&t, Method::Get, "/hello/index"), Some("hello"));
        match t.lookup(&Method::Put, "/hello/index") {
            Lookup::MethodNotAllowed(allow) => assert_eq!(allow, [Method::Get, Method::Head, Method::Post]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn remove_and_reinsert() {
        let mut t = table();
        let n = t.len();
        let removed = t.remove(&p("/hello/world"));
        assert_eq!(removed.len(), 1);
        assert_eq!(t.len(), n - 1);
        assert_eq!(value(&t, Method::Get, "/hello/world"), Some("hello"));
        assert!(t.remove(&p("/hello/world")).is_empty());
        // Indexes are rebuilt: everything else is still found.
        assert_eq!(value(&t, Method::Get, "/echo"), Some("echo"));
        assert_eq!(value(&t, Method::Get, "/files/x"), Some("files"));
        assert_eq!(value(&t, Method::Get, "/any"), Some("any"));
        t.remove(&p("/hello/{name}"));
        assert!(matches!(t.lookup(&Method::Get, "/hello/x"), Lookup::NotFound));
        t.insert(p("/hello/{who}"), Method::Get, "again").unwrap();
        assert_eq!(value(&t, Method::Get, "/hello/x"), Some("again"));
        assert!(t.patterns().any(|q| q.as_str() == "/hello/{who}"));
        assert!(!t.is_empty());
    }

    #[test]
    fn encoded_first_segments() {
        let mut t = RouteTable::new();
        t.insert(p("/a%2Fb/{x}"), Method::Get, "slash").unwrap();
        t.insert(p("/100%25/{x}"), Method::Get, "percent").unwrap();
        t.insert(p("/a/{x}"), Method::Get, "a").unwrap();
        assert_eq!(value(&t, Method::Get, "/a%2Fb/1"), Some("slash"));
        assert_eq!(value(&t, Method::Get, "/a%2fb/1"), Some("slash"));
        assert_eq!(value(&t, Method::Get, "/a/b/1"), None);
        assert_eq!(value(&t, Method::Get, "/100%25/1"), Some("percent"));
        assert_eq!(value(&t, Method::Get, "/%61/1"), Some("a"));
        assert_eq!(value(&t, Method::Get, "/a/1"), Some("a"));
    }

    #[test]
    fn many_exact_routes() {
        let mut t = RouteTable::new();
        for i in 0..1000 {
            t.insert(p(&format!("/r{i}/x")), Method::Get, i).unwrap();
        }
        t.insert(p("/hello/{name}"), Method::Get, 5000).unwrap();
        for i in (0..1000).step_by(97) {
            match t.lookup(&Method::Get, &format!("/r{i}/x")) {
                Lookup::Found(r) => assert_eq!(*r.value, i),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(t.lookup(&Method::Get, "/hello/x"), Lookup::Found(r) if *r.value == 5000));
    }
}
