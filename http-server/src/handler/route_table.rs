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
    /// Patterns with wildcards by the literal segments they start with (see
    /// [`Pattern::literal_prefix_key`]): a path is matched only against the patterns keyed by
    /// one of its own segment prefixes.
    by_prefix: HashMap<String, Vec<usize>>,
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
            by_prefix: HashMap::new(),
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
        } else if let Some(prefix) = pattern.literal_prefix_key() {
            self.by_prefix.entry(prefix).or_default().push(index);
        } else {
            self.wild_first.push(index);
        }
    }

    /// Removes a pattern with all its values, which are returned (empty when absent).
    pub fn remove(&mut self, pattern: &Pattern) -> Vec<(Methods, T)> {
        let Some(i) = self.entries.iter().position(|e| e.pattern == *pattern) else { return Vec::new() };
        let entry = self.entries.remove(i);
        self.exact.clear();
        self.by_prefix.clear();
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
        // Inside a key, `/` only separates segments (see `path_key`): each prefix ending at
        // one names the patterns that start with those literal segments.
        let segments = &key[1..];
        let mut ends = segments.match_indices('/').map(|(i, _)| i).chain(std::iter::once(segments.len()));
        let candidates = std::iter::from_fn(|| {
            let end = ends.next()?;
            Some(self.by_prefix.get(&segments[..end]).map(Vec::as_slice).unwrap_or_default())
        })
        .flatten()
        .chain(&self.wild_first);
        for &i in candidates {
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
mod tests;
