//! Route patterns: `/hello/{name}`, `/files/{path...}`, literal segments; matching a request
//! path with decoded captures, and comparing how specific two patterns are (after Go 1.22's
//! `ServeMux`).
//!
//! See [`Pattern`] for the syntax, matching and specificity rules.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use http_utils::percent_decode_bytes;

/// One segment of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// A decoded literal; `""` stands for a trailing `/`.
    Literal(String),
    /// `{name}`: one non-empty segment.
    One(Arc<str>),
    /// `{name...}`: one or more segments, to the end.
    Rest(Arc<str>),
}

impl Segment {
    /// Literal 0, `{name}` 1, `{name...}` 2: lower is more specific.
    fn rank(&self) -> u8 {
        match self {
            Segment::Literal(_) => 0,
            Segment::One(_) => 1,
            Segment::Rest(_) => 2,
        }
    }
}

/// Why a pattern was refused by [`Pattern::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern does not start with `/`.
    NotAbsolute,
    /// `//` inside the pattern: an empty segment that is not the trailing `/`.
    EmptySegment,
    /// A control character, space, `?` or `#` in the pattern.
    InvalidCharacter,
    /// `{}` or `{...}`: a wildcard without a name.
    EmptyName,
    /// A wildcard name that is not ASCII letters, digits and `_` (not starting with a digit).
    InvalidName(String),
    /// The same wildcard name twice.
    DuplicateName(String),
    /// `{name...}` that is not the last segment.
    RestNotLast,
    /// `{$}` that is not the last segment.
    EndNotLast,
    /// A brace inside a segment (`/a{b}`, `/{a}b`): a wildcard must be a whole segment.
    PartialWildcard,
    /// A `.` or `..` segment, which no cleaned request path has.
    DotSegment,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::NotAbsolute => f.write_str("a route pattern must start with '/'"),
            PatternError::EmptySegment => f.write_str("empty segment ('//') in a route pattern"),
            PatternError::InvalidCharacter => {
                f.write_str("control character, space, '?' or '#' in a route pattern")
            }
            PatternError::EmptyName => f.write_str("wildcard without a name in a route pattern"),
            PatternError::InvalidName(n) => write!(f, "invalid wildcard name {n:?} in a route pattern"),
            PatternError::DuplicateName(n) => write!(f, "wildcard name {n:?} used twice in a route pattern"),
            PatternError::RestNotLast => {
                f.write_str("'{name...}' must be the last segment of a route pattern")
            }
            PatternError::EndNotLast => f.write_str("'{$}' must be the last segment of a route pattern"),
            PatternError::PartialWildcard => {
                f.write_str("a wildcard must be a whole segment of a route pattern")
            }
            PatternError::DotSegment => f.write_str("'.' or '..' segment in a route pattern"),
        }
    }
}

impl std::error::Error for PatternError {}

/// How the paths two patterns match relate ([`Pattern::relation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// No path matches both.
    Disjoint,
    /// Both match exactly the same paths (`/a/{x}` and `/a/{y}`).
    Same,
    /// The first matches a strict subset of the second's paths: it wins.
    MoreSpecific,
    /// The first matches a strict superset of the second's paths: the second wins.
    LessSpecific,
    /// Some paths match both, and each matches paths the other does not (`/a/{x}`, `/{y}/b`).
    Overlapping,
}

impl Relation {
    /// True when two routes with these patterns (and a method in common) cannot both be
    /// registered: neither is more specific, yet some path matches both.
    pub fn conflicts(self) -> bool {
        matches!(self, Relation::Same | Relation::Overlapping)
    }

    /// The relation seen from the other pattern.
    pub fn reverse(self) -> Relation {
        match self {
            Relation::MoreSpecific => Relation::LessSpecific,
            Relation::LessSpecific => Relation::MoreSpecific,
            other => other,
        }
    }
}

/// A parsed route pattern.
///
/// ```
/// use http_server::Pattern;
/// let pattern: Pattern = "/users/{id}/files/{path...}".parse().unwrap();
/// let captures = pattern.matches("/users/ann%20b/files/docs/a%2Fb.txt").unwrap();
/// assert_eq!(captures.get("id"), Some("ann b"));
/// assert_eq!(captures.get("path"), Some("docs/a/b.txt"));
/// assert_eq!(captures.raw("path"), Some("docs/a%2Fb.txt"));
/// assert!(pattern.matches("/users/ann").is_none());
/// ```
///
/// ## Syntax
/// A pattern starts with `/` and is a list of segments separated by `/`:
///
/// | segment | matches |
/// | --- | --- |
/// | `hello` (literal; `%XX` escapes allowed) | the one segment `hello`, after decoding |
/// | `{name}` | any one non-empty segment; captured as `name`, decoded |
/// | `{name...}` (last only) | the rest of the path, one or more segments (possibly empty: `/files/` gives `""`) |
/// | `{$}` (last only) | the end of the path after a `/`; `/a/{$}` is the same as `/a/` |
///
/// A pattern matches whole paths: `/files/` matches only `/files/` (use `/files/{rest...}` for
/// everything below it) and `/` only `/`. Names are ASCII letters, digits and `_`, not starting
/// with a digit, and unique within a pattern.
///
/// ## Matching
/// The request path (the target's path, still percent-encoded, without the query) is split at
/// `/` first and each segment decoded after, so `%2F` stays inside its segment: `/a%2Fb` is one
/// segment `a/b`, never two. Captures are decoded (bytes that are not UTF-8 become U+FFFD); the
/// raw text is there too ([`Captures::raw`]), for callers that must tell `%2F` from `/`.
///
/// ## Specificity
/// [`Pattern::relation`] compares the sets of paths two patterns match, as Go 1.22 does: a
/// pattern that matches a strict subset of another's paths is more specific; a literal is more
/// specific than `{name}` in the same position, and `{name}` than `{name...}`. Two patterns that
/// match the same paths, or overlap with neither inside the other (`/a/{x}` and `/{y}/b`),
/// conflict; the [`RouteTable`](crate::RouteTable) refuses them when they share a method.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    segments: Vec<Segment>,
    ranks: Vec<u8>,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl std::hash::Hash for Pattern {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.source.hash(state);
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Pattern, PatternError> {
        Pattern::parse(s)
    }
}

impl TryFrom<&str> for Pattern {
    type Error = PatternError;

    fn try_from(s: &str) -> Result<Pattern, PatternError> {
        Pattern::parse(s)
    }
}

/// True for a wildcard name: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Decodes one raw segment; borrowed when it holds no escape.
fn decode(raw: &str) -> Cow<'_, str> {
    if raw.contains('%') {
        Cow::Owned(String::from_utf8_lossy(&percent_decode_bytes(raw.as_bytes())).into_owned())
    } else {
        Cow::Borrowed(raw)
    }
}

/// Appends a decoded segment to a lookup key, escaping what would make keys ambiguous.
fn push_key_segment(key: &mut String, decoded: &str) {
    for c in decoded.chars() {
        match c {
            '%' => key.push_str("%25"),
            '/' => key.push_str("%2F"),
            c => key.push(c),
        }
    }
}

/// The lookup key of a request path: its segments decoded, with `%` and `/` inside a segment
/// escaped again. Two paths have the same key exactly when their decoded segments are equal.
/// `None` when the path does not start with `/`.
pub(crate) fn path_key(path: &str) -> Option<Cow<'_, str>> {
    let rest = path.strip_prefix('/')?;
    if !path.contains('%') {
        return Some(Cow::Borrowed(path));
    }
    let mut key = String::with_capacity(path.len());
    for raw in rest.split('/') {
        key.push('/');
        push_key_segment(&mut key, &decode(raw));
    }
    Some(Cow::Owned(key))
}

impl Pattern {
    /// Parses a pattern.
    ///
    /// ```
    /// use http_server::{Pattern, PatternError};
    /// assert!(Pattern::parse("/hello/{name}").is_ok());
    /// assert_eq!(Pattern::parse("/a/{x}/{x}").unwrap_err(), PatternError::DuplicateName("x".into()));
    /// assert_eq!(Pattern::parse("/{path...}/edit").unwrap_err(), PatternError::RestNotLast);
    /// assert_eq!(Pattern::parse("/a/{}").unwrap_err(), PatternError::EmptyName);
    /// ```
    ///
    /// # Errors
    /// A [`PatternError`] saying what is wrong.
    pub fn parse(source: &str) -> Result<Pattern, PatternError> {
        let Some(body) = source.strip_prefix('/') else {
            return Err(PatternError::NotAbsolute);
        };
        if source.chars().any(|c| c.is_control() || c == ' ' || c == '?' || c == '#') {
            return Err(PatternError::InvalidCharacter);
        }
        let raw: Vec<&str> = body.split('/').collect();
        let mut segments = Vec::with_capacity(raw.len());
        let mut names: Vec<&str> = Vec::new();
        for (i, seg) in raw.iter().enumerate() {
            let last = i + 1 == raw.len();
            let segment = if seg.is_empty() {
                if !last {
                    return Err(PatternError::EmptySegment);
                }
                Segment::Literal(String::new())
            } else if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                if inner.contains(['{', '}']) {
                    return Err(PatternError::PartialWildcard);
                }
                let (name, rest) = match inner.strip_suffix("...") {
                    Some(name) => (name, true),
                    None => (inner, false),
                };
                if name == "$" && !rest {
                    if !last {
                        return Err(PatternError::EndNotLast);
                    }
                    Segment::Literal(String::new())
                } else {
                    if name.is_empty() {
                        return Err(PatternError::EmptyName);
                    }
                    if !is_name(name) {
                        return Err(PatternError::InvalidName(name.to_owned()));
                    }
                    if names.contains(&name) {
                        return Err(PatternError::DuplicateName(name.to_owned()));
                    }
                    names.push(name);
                    if rest {
                        if !last {
                            return Err(PatternError::RestNotLast);
                        }
                        Segment::Rest(name.into())
                    } else {
                        Segment::One(name.into())
                    }
                }
            } else if seg.contains(['{', '}']) {
                return Err(PatternError::PartialWildcard);
            } else {
                let decoded = decode(seg).into_owned();
                if decoded == "." || decoded == ".." {
                    return Err(PatternError::DotSegment);
                }
                Segment::Literal(decoded)
            };
            segments.push(segment);
        }
        let ranks = segments.iter().map(Segment::rank).collect();
        Ok(Pattern { source: source.to_owned(), segments, ranks })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the pattern has no wildcard: it matches one path only.
    pub fn is_exact(&self) -> bool {
        self.ranks.iter().all(|&r| r == 0)
    }

    /// The wildcard names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.segments.iter().filter_map(|s| match s {
            Segment::One(n) | Segment::Rest(n) => Some(&**n),
            Segment::Literal(_) => None,
        })
    }

    /// The lookup key of an exact pattern (see [`path_key`]); `None` with wildcards.
    pub(crate) fn exact_key(&self) -> Option<String> {
        let mut key = String::with_capacity(self.source.len());
        for seg in &self.segments {
            let Segment::Literal(text) = seg else { return None };
            key.push('/');
            push_key_segment(&mut key, text);
        }
        Some(key)
    }

    /// The lookup key of the literal segments the pattern starts with (all of them, up to
    /// its first wildcard; without the leading `/`): a prefix, ending at a segment boundary,
    /// of the [`path_key`] of every path it matches. `None` when it starts with a wildcard.
    pub(crate) fn literal_prefix_key(&self) -> Option<String> {
        let mut key = String::new();
        for (n, seg) in self.segments.iter().enumerate() {
            let Segment::Literal(text) = seg else {
                return (n > 0).then_some(key);
            };
            if n > 0 {
                key.push('/');
            }
            push_key_segment(&mut key, text);
        }
        Some(key)
    }

    /// The kind of each segment (literal, one, rest), for ordering matches: when two patterns
    /// both match a path, the one whose ranks are lexicographically smaller is at least as
    /// specific.
    pub(crate) fn ranks(&self) -> &[u8] {
        &self.ranks
    }

    /// Matches a request path (percent-encoded, without the query). `None` when it does not
    /// match, or does not start with `/`.
    ///
    /// ```
    /// use http_server::Pattern;
    /// let p = Pattern::parse("/hello/{name}").unwrap();
    /// assert_eq!(p.matches("/hello/w%C3%B6rld").unwrap().get("name"), Some("wörld"));
    /// assert!(p.matches("/hello/").is_none());
    /// assert!(p.matches("/hello/a/b").is_none());
    /// assert_eq!(p.matches("/hello/a%2Fb").unwrap().get("name"), Some("a/b"));
    /// ```
    pub fn matches(&self, path: &str) -> Option<Captures> {
        let rest = path.strip_prefix('/')?;
        // A first pass that allocates nothing turns most misses away cheaply (a table holds
        // many patterns that share a first segment).
        if !self.fits(rest) {
            return None;
        }
        let mut captures =
            Captures::with_capacity(self.segments.len() - self.ranks.iter().filter(|&&r| r == 0).count());
        // `pos` is where the next path segment starts; `None` once the last one was taken.
        let mut pos = Some(0);
        for seg in &self.segments {
            let start = pos?;
            if let Segment::Rest(name) = seg {
                let raw = &rest[start..];
                captures.push(name, decode(raw).into_owned(), raw);
                return Some(captures);
            }
            let (raw, next) = match rest[start..].find('/') {
                Some(i) => (&rest[start..start + i], Some(start + i + 1)),
                None => (&rest[start..], None),
            };
            match seg {
                Segment::Literal(text) => {
                    if decode(raw) != text.as_str() {
                        return None;
                    }
                }
                Segment::One(name) => {
                    if raw.is_empty() {
                        return None;
                    }
                    captures.push(name, decode(raw).into_owned(), raw);
                }
                Segment::Rest(_) => unreachable!("handled above"),
            }
            pos = next;
        }
        // Every path segment must be used.
        pos.is_none().then_some(captures)
    }

    /// True when `rest` (the path after its first `/`) has the segments this pattern needs and
    /// its literal segments are equal; allocates only to decode escaped literals.
    fn fits(&self, rest: &str) -> bool {
        let mut pos = Some(0);
        for seg in &self.segments {
            let Some(start) = pos else { return false };
            let (raw, next) = match rest[start..].find('/') {
                Some(i) => (&rest[start..start + i], Some(start + i + 1)),
                None => (&rest[start..], None),
            };
            match seg {
                Segment::Rest(_) => return true,
                Segment::Literal(text) => {
                    let equal = if raw.contains('%') { decode(raw) == text.as_str() } else { raw == text };
                    if !equal {
                        return false;
                    }
                }
                Segment::One(_) => {
                    if raw.is_empty() {
                        return false;
                    }
                }
            }
            pos = next;
        }
        pos.is_none()
    }

    /// How the paths this pattern matches relate to those `other` matches.
    ///
    /// ```
    /// use http_server::{Pattern, Relation};
    /// let p = |s| Pattern::parse(s).unwrap();
    /// assert_eq!(p("/hello/world").relation(&p("/hello/{name}")), Relation::MoreSpecific);
    /// assert_eq!(p("/files/{path...}").relation(&p("/files/{dir}")), Relation::LessSpecific);
    /// assert_eq!(p("/a/{x}").relation(&p("/{y}/b")), Relation::Overlapping);
    /// assert_eq!(p("/a/{x}").relation(&p("/a/{y}")), Relation::Same);
    /// assert_eq!(p("/a").relation(&p("/b")), Relation::Disjoint);
    /// ```
    pub fn relation(&self, other: &Pattern) -> Relation {
        let (mut narrower, mut wider) = (false, false);
        let mut a = self.segments.iter();
        let mut b = other.segments.iter();
        loop {
            let step = match (a.next(), b.next()) {
                (None, None) => break,
                (Some(Segment::Rest(_)), Some(Segment::Rest(_))) => break,
                // One side ends where the other needs at least one more segment.
                (None, Some(_)) | (Some(_), None) => return Relation::Disjoint,
                // A rest wildcard takes whatever the other side has left (one or more
                // segments): strictly more, since nothing else matches every such tail.
                (Some(Segment::Rest(_)), Some(_)) => {
                    wider = true;
                    break;
                }
                (Some(_), Some(Segment::Rest(_))) => {
                    narrower = true;
                    break;
                }
                (Some(Segment::Literal(x)), Some(Segment::Literal(y))) => {
                    if x != y {
                        return Relation::Disjoint;
                    }
                    Relation::Same
                }
                (Some(Segment::Literal(x)), Some(Segment::One(_))) => {
                    if x.is_empty() {
                        return Relation::Disjoint;
                    }
                    Relation::MoreSpecific
                }
                (Some(Segment::One(_)), Some(Segment::Literal(y))) => {
                    if y.is_empty() {
                        return Relation::Disjoint;
                    }
                    Relation::LessSpecific
                }
                (Some(Segment::One(_)), Some(Segment::One(_))) => Relation::Same,
            };
            match step {
                Relation::MoreSpecific => narrower = true,
                Relation::LessSpecific => wider = true,
                _ => {}
            }
        }
        match (narrower, wider) {
            (false, false) => Relation::Same,
            (true, false) => Relation::MoreSpecific,
            (false, true) => Relation::LessSpecific,
            (true, true) => Relation::Overlapping,
        }
    }
}

/// The values a matched pattern captured, by wildcard name, in pattern order.
///
/// ```
/// use http_server::Pattern;
/// let c = Pattern::parse("/{a}/{b...}").unwrap().matches("/x%20y/p/q").unwrap();
/// assert_eq!(c.get("a"), Some("x y"));
/// assert_eq!(c.iter().collect::<Vec<_>>(), [("a", "x y"), ("b", "p/q")]);
/// assert_eq!(c.get("z"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captures {
    /// (name, decoded value, raw value)
    items: Vec<(Arc<str>, String, String)>,
}

impl Captures {
    fn with_capacity(n: usize) -> Captures {
        Captures { items: Vec::with_capacity(n) }
    }

    fn push(&mut self, name: &Arc<str>, decoded: String, raw: &str) {
        self.items.push((Arc::clone(name), decoded, raw.to_owned()));
    }

    /// The decoded value of the wildcard `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.items.iter().find(|(n, ..)| &**n == name).map(|(_, v, _)| v.as_str())
    }

    /// The value of the wildcard `name` as it stood in the path, still percent-encoded.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.items.iter().find(|(n, ..)| &**n == name).map(|(.., r)| r.as_str())
    }

    /// `(name, decoded value)` pairs in pattern order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.items.iter().map(|(n, v, _)| (&**n, v.as_str()))
    }

    /// Number of captures.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when the pattern had no wildcard.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests;
