//! `Headers`: an ordered, case-insensitive multimap of header fields (the egg's attribute a-list).

use std::fmt;

use crate::error::{Error, ErrorKind};
use crate::token::{is_field_vchar, is_tchar};

/// One field: the ranges of its name and its value in the shared buffer.
#[derive(Clone, Copy)]
struct Entry {
    start: u32,
    name_end: u32,
    value_start: u32,
    end: u32,
    /// Where the name as the program wrote it starts (it is as long as the name), or
    /// [`AS_STORED`] when it was written in lower case or came from the wire.
    written: u32,
}

/// [`Entry::written`] of a name that is written as stored.
const AS_STORED: u32 = u32::MAX;

/// Header fields in the order they arrived, with lower-case names (like the egg's
/// `http:read-request-attributes`) and validated values.
///
/// A name added by a program also keeps the case it was written in, for the wire
/// ([`iter_as_written`](Headers::iter_as_written)): some peers compare names
/// case-sensitively. Names read from the wire are lower case.
///
/// All names and values live in one buffer, so a parsed head costs two allocations however many
/// fields it has. Lookups are case-insensitive. Values never contain CR, LF or NUL, and have no
/// leading or trailing whitespace.
///
/// ```
/// use http_utils::Headers;
/// let mut h = Headers::new();
/// h.append("Content-Type", "text/plain").unwrap();
/// h.append("Accept", "a").unwrap();
/// h.append("accept", "b").unwrap();
/// assert_eq!(h.get("content-type"), Some("text/plain"));
/// assert_eq!(h.get_all("ACCEPT").collect::<Vec<_>>(), ["a", "b"]);
/// assert!(h.append("X", "bad\r\nvalue").is_err());
/// assert_eq!(h.iter().next(), Some(("content-type", "text/plain")));
/// ```
#[derive(Clone, Default)]
pub struct Headers {
    buf: String,
    entries: Vec<Entry>,
    /// Where the fields read for every request are (kept as entries are added and removed).
    known: Index,
}

/// Trims optional whitespace (SP and HTAB) from both ends.
pub(crate) fn trim_ows(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&c| c != b' ' && c != b'\t').unwrap_or(b.len());
    let end = b.iter().rposition(|&c| c != b' ' && c != b'\t').map_or(start, |p| p + 1);
    &b[start..end]
}

impl Headers {
    /// An empty set of headers.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// An empty set with room for `fields` fields of `bytes` total.
    pub fn with_capacity(fields: usize, bytes: usize) -> Headers {
        Headers {
            buf: String::with_capacity(bytes),
            entries: Vec::with_capacity(fields),
            known: Index::default(),
        }
    }

    /// Finds the known names again (after entries were removed).
    fn reindex(&mut self) {
        let mut known = Index::default();
        for (i, e) in self.entries.iter().enumerate() {
            known.note_name(self.name_of(e).as_bytes(), i);
        }
        self.known = known;
    }

    /// Notes the entry just pushed if its name is a known one.
    #[inline]
    fn note_last(&mut self) {
        if let Some((i, e)) = self.entries.len().checked_sub(1).zip(self.entries.last()) {
            let name = self.buf.as_bytes().get(e.start as usize..e.name_end as usize);
            self.known.note_name(name.unwrap_or_default(), i);
        }
    }

    /// The entries where fields named `name` can be: for a known name only the span it has,
    /// otherwise all.
    #[inline]
    fn candidates(&self, name: &[u8]) -> &[Entry] {
        match known::which(name) {
            Some(k) => {
                let (from, to) = self.known.span(k, self.entries.len());
                self.entries.get(from..to).unwrap_or_default()
            }
            None => &self.entries,
        }
    }

    /// Number of fields (a repeated name counts once per line).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn name_of(&self, e: &Entry) -> &str {
        &self.buf[e.start as usize..e.name_end as usize]
    }

    fn value_of(&self, e: &Entry) -> &str {
        &self.buf[e.value_start as usize..e.end as usize]
    }

    /// True when `e`'s name is `name`, compared case-insensitively (lengths first).
    #[inline]
    fn is_named(&self, e: &Entry, name: &[u8]) -> bool {
        (e.name_end - e.start) as usize == name.len()
            && self
                .buf
                .as_bytes()
                .get(e.start as usize..e.name_end as usize)
                // Stored names are lower case: a lower-case query matches them byte for byte.
                .is_some_and(|n| n == name || n.eq_ignore_ascii_case(name))
    }

    /// The first value of `name`, compared case-insensitively.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.candidates(name.as_bytes())
            .iter()
            .find(|e| self.is_named(e, name.as_bytes()))
            .map(|e| self.value_of(e))
    }

    /// Every value of `name`, in order.
    #[inline]
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.candidates(name.as_bytes())
            .iter()
            .filter(move |e| self.is_named(e, name.as_bytes()))
            .map(move |e| self.value_of(e))
    }

    /// Every value of `name` joined with `", "` (RFC 9110 §5.3), or `None` when absent.
    pub fn get_joined(&self, name: &str) -> Option<String> {
        let mut it = self.get_all(name);
        let mut out = it.next()?.to_owned();
        for v in it {
            out.push_str(", ");
            out.push_str(v);
        }
        Some(out)
    }

    /// True when `name` is present.
    #[inline]
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Iterates over `(lower-case name, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(move |e| (self.name_of(e), self.value_of(e)))
    }

    /// Iterates over `(name, value)` pairs in order, each name in the case a program wrote it
    /// in (lower case for names read from the wire): what goes on the wire.
    ///
    /// ```
    /// let mut h = http_utils::Headers::new();
    /// h.append("X-Request-ID", "7").unwrap();
    /// assert_eq!(h.iter_as_written().next(), Some(("X-Request-ID", "7")));
    /// assert_eq!(h.iter().next(), Some(("x-request-id", "7")));
    /// ```
    pub fn iter_as_written(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(move |e| (self.written_name_of(e), self.value_of(e)))
    }

    fn written_name_of(&self, e: &Entry) -> &str {
        if e.written == AS_STORED {
            return self.name_of(e);
        }
        let start = e.written as usize;
        &self.buf[start..start + (e.name_end - e.start) as usize]
    }

    /// Checks a name and value supplied by a program (not the wire): the name must be a token,
    /// the value free of control characters other than HTAB. Returns the trimmed value.
    fn validate<'v>(name: &str, value: &'v str) -> Result<&'v str, Error> {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(Error::protocol(ErrorKind::InvalidHeaderName, 0));
        }
        if let Some(p) = value.bytes().position(|c| !is_field_vchar(c)) {
            return Err(Error::protocol(ErrorKind::InvalidHeaderValue, p));
        }
        // trim_ows only removes ASCII bytes, so the result is still valid UTF-8 at char boundaries.
        let t = trim_ows(value.as_bytes());
        let start = t.as_ptr() as usize - value.as_ptr() as usize;
        Ok(&value[start..start + t.len()])
    }

    fn push_unchecked(&mut self, name: &str, value: &str) {
        let start = self.buf.len();
        let cased = name.bytes().any(|c| c.is_ascii_uppercase());
        self.buf.reserve(if cased { 2 } else { 1 } * name.len() + value.len());
        for c in name.bytes() {
            self.buf.push(c.to_ascii_lowercase() as char);
        }
        let name_end = self.buf.len() as u32;
        self.buf.push_str(value);
        let end = self.buf.len() as u32;
        let written = if cased {
            self.buf.push_str(name);
            end
        } else {
            AS_STORED
        };
        self.entries.push(Entry { start: start as u32, name_end, value_start: name_end, end, written });
        self.note_last();
    }

    /// Adds a field after the existing ones, keeping any earlier field of the same name.
    ///
    /// # Errors
    /// `InvalidHeaderName` unless `name` is a token; `InvalidHeaderValue` if `value` holds CR,
    /// LF, NUL or another control character.
    pub fn append(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let value = Self::validate(name, value)?;
        self.push_unchecked(name, value);
        Ok(())
    }

    /// Replaces every field named `name` by one with `value`.
    ///
    /// # Errors
    /// As [`Headers::append`]; on error nothing is changed.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let value = Self::validate(name, value)?;
        self.remove(name);
        self.push_unchecked(name, value);
        Ok(())
    }

    /// Removes every field named `name`; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.entries.len();
        let buf = &self.buf;
        self.entries.retain(|e| !buf[e.start as usize..e.name_end as usize].eq_ignore_ascii_case(name));
        let removed = before - self.entries.len();
        if removed > 0 && !self.compact_if_sparse() {
            self.reindex();
        }
        removed
    }

    /// Rebuilds the buffer (and the index) once more than half of it belongs to removed
    /// fields; true when it did.
    fn compact_if_sparse(&mut self) -> bool {
        let live: usize = self
            .entries
            .iter()
            .map(|e| {
                let name = (e.name_end - e.start) as usize;
                let cased = if e.written == AS_STORED { 0 } else { name };
                name + cased + (e.end - e.value_start) as usize
            })
            .sum();
        if self.buf.len() <= 2 * live + 256 {
            return false;
        }
        let mut fresh = Headers::with_capacity(self.entries.len(), live);
        for (n, v) in self.iter_as_written() {
            fresh.push_unchecked(n, v);
        }
        *self = fresh;
        true
    }

    /// Adds a field read from the wire. The caller has checked that `name` is a token and that
    /// `value` (already trimmed) holds only field-value bytes. Non-UTF-8 values are read as
    /// ISO-8859-1, the historical charset of HTTP fields.
    ///
    /// Returns `false` when the buffer would pass 4 GiB (the caller treats that as too large).
    /// The bytes its buffers hold room for.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.buf.capacity() + self.entries.capacity() * std::mem::size_of::<Entry>()
    }

    pub(crate) fn push_wire(&mut self, name: &[u8], value: &[u8]) -> bool {
        if self.buf.len() + 2 * (name.len() + value.len()) > u32::MAX as usize {
            return false;
        }
        let start = self.buf.len();
        // Token bytes are ASCII, so the first branch is always taken.
        match std::str::from_utf8(name) {
            Ok(s) => self.buf.push_str(s),
            Err(_) => self.buf.extend(name.iter().map(|&b| b as char)),
        }
        self.buf[start..].make_ascii_lowercase();
        let name_end = self.buf.len() as u32;
        match std::str::from_utf8(value) {
            Ok(s) => self.buf.push_str(s),
            Err(_) => self.buf.extend(value.iter().map(|&b| b as char)),
        }
        self.entries.push(Entry {
            start: start as u32,
            name_end,
            value_start: name_end,
            end: self.buf.len() as u32,
            written: AS_STORED,
        });
        self.note_last();
        true
    }

    /// `Content-Length` as a number. `Ok(None)` when absent.
    ///
    /// # Errors
    /// `InvalidContentLength` for anything but 1*DIGIT that fits in a `u64` (signs, spaces,
    /// empty values, overflow); `ConflictingContentLength` when repeated with different values
    /// (repeats of one value, on several lines or as a list, are accepted per RFC 9110 §8.6).
    pub fn content_length(&self) -> Result<Option<u64>, ErrorKind> {
        let mut found: Option<u64> = None;
        for v in self.get_all("content-length") {
            for part in v.split(',') {
                let n = parse_decimal(trim_ows(part.as_bytes())).ok_or(ErrorKind::InvalidContentLength)?;
                match found {
                    Some(prev) if prev != n => return Err(ErrorKind::ConflictingContentLength),
                    _ => found = Some(n),
                }
            }
        }
        Ok(found)
    }

    /// The transfer codings listed in every `Transfer-Encoding` field, lower-cased, in order,
    /// with parameters and empty list elements dropped.
    pub fn transfer_codings(&self) -> Vec<String> {
        self.get_all("transfer-encoding")
            .flat_map(|v| v.split(','))
            .map(|c| c.split(';').next().unwrap_or("").trim_matches([' ', '\t']).to_ascii_lowercase())
            .filter(|c| !c.is_empty())
            .collect()
    }

    /// True when any `Connection` field lists `token` (case-insensitive), such as `close` or
    /// `keep-alive`.
    #[inline]
    pub fn connection_has(&self, token: &str) -> bool {
        self.has_token("connection", token)
    }

    /// True when any field named `name` lists `token` in its comma-separated value.
    #[inline]
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        let token = token.as_bytes();
        self.get_all(name).any(|value| {
            value.as_bytes().split(|&c| c == b',').any(|t| trim_ows(t).eq_ignore_ascii_case(token))
        })
    }

    /// True when the request carries `Expect: 100-continue`.
    pub fn expects_continue(&self) -> bool {
        self.get("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// The `Host` field when it appears exactly once; `None` when absent or repeated.
    pub fn host(&self) -> Option<&str> {
        self.single("host").ok().flatten()
    }

    /// The value of `name` when it appears at most once: `Ok(None)` when absent, `Err(())`
    /// when repeated.
    #[inline]
    pub(crate) fn single(&self, name: &str) -> Result<Option<&str>, ()> {
        let mut found = None;
        for e in self.candidates(name.as_bytes()) {
            if self.is_named(e, name.as_bytes()) {
                if found.is_some() {
                    return Err(());
                }
                found = Some(e);
            }
        }
        Ok(found.map(|e| self.value_of(e)))
    }
}

/// Parses 1*DIGIT into a `u64`; `None` on anything else or on overflow.
pub(crate) fn parse_decimal(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(n)
}

/// Fields whose values are credentials: [`Headers`]' `Debug` output hides them.
const SECRET_FIELDS: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "set-cookie"];

/// Shows `(name, value)` pairs, with the values of `Authorization`, `Proxy-Authorization`,
/// `Cookie` and `Set-Cookie` hidden, so that a logged request or response never shows them.
///
/// ```
/// let mut h = http_utils::Headers::new();
/// h.append("Authorization", "Basic c2VjcmV0").unwrap();
/// h.append("Accept", "*/*").unwrap();
/// assert_eq!(format!("{h:?}"), r#"[("authorization", "<hidden>"), ("accept", "*/*")]"#);
/// ```
impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.iter().map(|(n, v)| (n, if SECRET_FIELDS.contains(&n) { "<hidden>" } else { v }));
        f.debug_list().entries(shown).finish()
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Headers) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Headers {}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a str);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl<N: AsRef<str>, V: AsRef<str>> TryFrom<&[(N, V)]> for Headers {
    type Error = Error;
    fn try_from(pairs: &[(N, V)]) -> Result<Headers, Error> {
        let mut h = Headers::new();
        for (n, v) in pairs {
            h.append(n.as_ref(), v.as_ref())?;
        }
        Ok(h)
    }
}

mod known;
#[cfg(test)]
mod tests;
mod wire;

use known::Index;

pub(crate) use wire::WireFields;
