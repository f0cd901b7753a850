//! The parts of serving a directory that decide, rather than do: the content type of a file,
//! the safe mapping of a URL path onto the file system, validators (`ETag`), conditional
//! requests (`If-None-Match`, `If-Modified-Since`, 304) and byte ranges (`Range`, `If-Range`,
//! 206 and 416).
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use http_server::static_files::{content_type_for, etag, evaluate_range, is_not_modified, ByteRange, EtagKind};
//!
//! assert_eq!(content_type_for("app/index.HTML".as_ref()), "text/html; charset=utf-8");
//!
//! let modified = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let tag = etag(1234, modified, EtagKind::Strong);
//! assert!(is_not_modified(Some(&format!("\"x\", {tag}")), None, &tag, modified));
//! assert!(is_not_modified(None, Some("Tue, 14 Nov 2023 22:13:20 GMT"), &tag, modified));
//!
//! assert_eq!(evaluate_range("bytes=-100", None, 1234, &tag, modified), ByteRange::Satisfiable { start: 1134, end: 1233 });
//! assert_eq!(evaluate_range("bytes=5000-", None, 1234, &tag, modified), ByteRange::Unsatisfiable);
//! assert_eq!(evaluate_range("bytes=0-1,5-9", None, 1234, &tag, modified), ByteRange::Ignore);
//! ```
//!
//! ## Untrusted input
//! The URL path goes through [`resolve`], which refuses `..` in any spelling (`%2e%2e`,
//! `.%2e`), backslashes and NUL, and then checks the canonical result (every symbolic link
//! followed) against the canonical root: nothing outside the root is ever returned, whatever
//! links inside it point to. Header values are parsed strictly; a malformed `Range` is ignored
//! (the whole file is sent) and a malformed date or entity tag never matches.

/// [`StaticDir`](crate::StaticDir): the handler that does the serving.
pub(crate) mod dir;
/// Opening the file a URL path names: beneath the root in the kernel on Linux.
mod open;
use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use http_utils::percent_decode_bytes;

/// The `Content-Type` for a file, by its extension (case-insensitive); text types carry
/// `charset=utf-8`. Unknown extensions get `application/octet-stream`.
///
/// ```
/// use http_server::static_files::content_type_for;
/// assert_eq!(content_type_for("a/b.css".as_ref()), "text/css; charset=utf-8");
/// assert_eq!(content_type_for("logo.PNG".as_ref()), "image/png");
/// assert_eq!(content_type_for("noext".as_ref()), "application/octet-stream");
/// ```
pub fn content_type_for(path: &Path) -> &'static str {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return "application/octet-stream";
    };
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" | "cjs" => "text/javascript; charset=utf-8",
        "txt" | "text" | "log" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "md" | "markdown" => "text/markdown; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "bmp" => "image/bmp",
        "ico" => "image/x-icon",
        "tif" | "tiff" => "image/tiff",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "ogv" => "video/ogg",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "m4a" => "audio/mp4",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        _ => "application/octet-stream",
    }
}

/// Why [`resolve`] found no file to serve.
#[derive(Debug)]
#[non_exhaustive]
pub enum StaticError {
    /// The URL path is not acceptable: a `..` segment (in any encoding), a backslash, a NUL,
    /// or bytes that are not UTF-8 once decoded. Answer 400.
    InvalidPath,
    /// Nothing to serve there: no such file, not a regular file, a directory without
    /// `index.html`, or a hidden name (a segment starting with `.`). Answer 404.
    NotFound,
    /// The path leads outside the root through a symbolic link. Answer 404, as for a missing
    /// file, so that nothing about the outside is revealed.
    OutsideRoot,
    /// The file or the root could not be examined (permissions, a root that does not exist).
    /// Answer 403 for permissions, 500 otherwise ([`StaticError::status`]).
    Io(io::Error),
}

impl StaticError {
    /// The status code to answer with.
    pub fn status(&self) -> u16 {
        match self {
            StaticError::InvalidPath => 400,
            StaticError::NotFound | StaticError::OutsideRoot => 404,
            StaticError::Io(e) if e.kind() == io::ErrorKind::PermissionDenied => 403,
            StaticError::Io(_) => 500,
        }
    }
}

impl fmt::Display for StaticError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StaticError::InvalidPath => f.write_str("invalid path for a static file"),
            StaticError::NotFound => f.write_str("no such static file"),
            StaticError::OutsideRoot => f.write_str("static file path leads outside the root"),
            StaticError::Io(e) => write!(f, "static file i/o error: {e}"),
        }
    }
}

impl std::error::Error for StaticError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StaticError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Maps a "not there" error to `NotFound`, anything else to `Io`. A name too long for the
/// file system names nothing there either: the client chose it, so it is no server error.
fn lookup_error(e: io::Error) -> StaticError {
    // ENOTDIR (a file used as a directory) and ENAMETOOLONG have no stable io::ErrorKind on
    // older toolchains.
    const ENOTDIR: i32 = 20;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const NAME_TOO_LONG: i32 = 36;
    #[cfg(windows)]
    const NAME_TOO_LONG: i32 = 206; // ERROR_FILENAME_EXCED_RANGE
    #[cfg(not(any(target_os = "linux", target_os = "android", windows)))]
    const NAME_TOO_LONG: i32 = 63; // the BSDs and macOS
    let name_too_long = e.raw_os_error() == Some(NAME_TOO_LONG);
    if e.kind() == io::ErrorKind::NotFound
        || (cfg!(unix) && e.raw_os_error() == Some(ENOTDIR))
        || name_too_long
    {
        StaticError::NotFound
    } else {
        StaticError::Io(e)
    }
}

/// The decoded, checked segments of a URL path: no `..`, backslash or NUL; `.` and empty
/// segments dropped; a hidden name (a segment starting with `.`) is not there.
fn safe_segments(url_path: &str) -> Result<Vec<String>, StaticError> {
    let decoded =
        String::from_utf8(percent_decode_bytes(url_path.as_bytes())).map_err(|_| StaticError::InvalidPath)?;
    if decoded.contains(['\0', '\\']) {
        return Err(StaticError::InvalidPath);
    }
    let mut out = Vec::new();
    let mut hidden = false;
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err(StaticError::InvalidPath),
            // Dotfiles and dot directories (`.env`, `.git/`) are never served. The segments
            // are those of the decoded path, so `%2F.env` is caught as well as `.env`.
            s if s.starts_with('.') => hidden = true,
            s => {
                // Belt and braces: a segment must be one plain path component.
                let mut comps = Path::new(s).components();
                if !matches!((comps.next(), comps.next()), (Some(Component::Normal(_)), None)) {
                    return Err(StaticError::InvalidPath);
                }
                out.push(s.to_owned());
            }
        }
    }
    if hidden {
        return Err(StaticError::NotFound);
    }
    Ok(out)
}

/// The file under `root` that `url_path` names, canonical (every symbolic link resolved), or
/// why there is none. A directory maps to its `index.html`.
///
/// Pass the path still percent-encoded (for a route `/files/{path...}`, the capture's
/// [`raw`](crate::Captures::raw) value): it is decoded here, once. The path may start with `/`
/// or not; `.` and empty segments are ignored. A segment starting with `.` (a dotfile or dot
/// directory such as `.env` or `.git`, in any encoding) gives [`StaticError::NotFound`].
///
/// The result is checked against the canonical root after every link is followed, so a link
/// inside the root that points outside it gives [`StaticError::OutsideRoot`]; links that stay
/// inside work. (Someone who can change the tree under the root between this check and the
/// open could still swap a link; the root must not be writable by untrusted parties.)
///
/// ```
/// use http_server::static_files::{resolve, StaticError};
/// let root = std::env::temp_dir();
/// assert!(matches!(resolve(&root, "/../etc/passwd"), Err(StaticError::InvalidPath)));
/// assert!(matches!(resolve(&root, "/%2e%2e/etc/passwd"), Err(StaticError::InvalidPath)));
/// assert!(matches!(resolve(&root, "/no-such-file-here.txt"), Err(StaticError::NotFound)));
/// assert!(matches!(resolve(&root, "/a%2F.env"), Err(StaticError::NotFound)));
/// ```
///
/// # Errors
/// [`StaticError::InvalidPath`], [`StaticError::NotFound`], [`StaticError::OutsideRoot`], and
/// [`StaticError::Io`] when the root or the file cannot be examined.
pub fn resolve(root: &Path, url_path: &str) -> Result<PathBuf, StaticError> {
    let segments = safe_segments(url_path)?;
    let root = root.canonicalize().map_err(StaticError::Io)?;
    let mut joined = root.clone();
    joined.extend(&segments);
    let mut target = joined.canonicalize().map_err(lookup_error)?;
    if !target.starts_with(&root) {
        return Err(StaticError::OutsideRoot);
    }
    let mut meta = target.metadata().map_err(lookup_error)?;
    if meta.is_dir() {
        target = target.join("index.html").canonicalize().map_err(lookup_error)?;
        if !target.starts_with(&root) {
            return Err(StaticError::OutsideRoot);
        }
        meta = target.metadata().map_err(lookup_error)?;
    }
    if !meta.is_file() {
        return Err(StaticError::NotFound);
    }
    Ok(target)
}

/// Whether an entity tag is a strong or a weak validator (RFC 9110 §8.8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EtagKind {
    /// `"..."`: the bytes are the same whenever the tag is. Usable with `If-Range`.
    Strong,
    /// `W/"..."`: the content is equivalent. Enough for `If-None-Match`, not for ranges.
    Weak,
}

/// Seconds and nanoseconds since the epoch; times before it count as the epoch.
fn epoch_parts(t: SystemTime) -> (u64, u32) {
    t.duration_since(UNIX_EPOCH).map(|d| (d.as_secs(), d.subsec_nanos())).unwrap_or((0, 0))
}

/// An `ETag` value built from a file's length and modification time, quotes included.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use http_server::static_files::{etag, EtagKind};
/// let t = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
/// assert_eq!(etag(4096, t, EtagKind::Strong), "\"6553f100.5-1000\"");
/// assert_eq!(etag(4096, t, EtagKind::Weak), "W/\"6553f100.5-1000\"");
/// ```
pub fn etag(len: u64, modified: SystemTime, kind: EtagKind) -> String {
    let (secs, nanos) = epoch_parts(modified);
    let weak = if kind == EtagKind::Weak { "W/" } else { "" };
    format!("{weak}\"{secs:x}.{nanos:x}-{len:x}\"")
}

/// An entity tag split into weakness and opaque tag (with its quotes).
fn split_tag(tag: &str) -> (bool, &str) {
    match tag.strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, tag),
    }
}

/// The entity tags of an `If-None-Match`/`If-Match` list, as `(weak, opaque tag with
/// quotes)`. `None` for `*`. A malformed list yields the tags before the fault.
fn parse_tag_list(list: &str) -> Option<Vec<(bool, &str)>> {
    if list.trim() == "*" {
        return None;
    }
    let b = list.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b',') {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        let start = i;
        let weak = b[i..].starts_with(b"W/");
        if weak {
            i += 2;
        }
        if b.get(i) != Some(&b'"') {
            break;
        }
        let Some(close) = b[i + 1..].iter().position(|&c| c == b'"') else { break };
        let end = i + 1 + close + 1;
        // etagc: no controls, spaces or quotes (obs-text allowed).
        if !b[i + 1..end - 1].iter().all(|&c| c == 0x21 || (0x23..=0x7e).contains(&c) || c >= 0x80) {
            break;
        }
        if end < b.len() && !matches!(b[end], b' ' | b'\t' | b',') {
            break;
        }
        out.push((weak, &list[start + if weak { 2 } else { 0 }..end]));
        i = end;
    }
    Some(out)
}

/// True when the request's conditions say the client's copy is current, so a `GET` or `HEAD`
/// is answered 304 Not Modified (RFC 9110 §13.1.2, §13.1.3, §13.2.2):
///
/// - `If-None-Match` present: 304 when it is `*` or lists a tag equal to `etag` by the weak
///   comparison (`W/` ignored on both sides); `If-Modified-Since` is then not looked at.
/// - otherwise `If-Modified-Since`, when it is a valid HTTP date: 304 when the file was not
///   modified after it (compared in whole seconds).
///
/// For methods other than GET and HEAD these headers mean something else (412); this
/// function is for GET and HEAD only.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use http_server::static_files::is_not_modified;
/// let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// assert!(is_not_modified(Some("W/\"a\""), None, "\"a\"", t));
/// assert!(is_not_modified(Some("*"), None, "\"a\"", t));
/// assert!(!is_not_modified(Some("\"b\""), Some("Tue, 14 Nov 2023 22:13:20 GMT"), "\"a\"", t));
/// assert!(!is_not_modified(None, Some("not a date"), "\"a\"", t));
/// ```
pub fn is_not_modified(
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    etag: &str,
    modified: SystemTime,
) -> bool {
    if let Some(list) = if_none_match {
        let Some(tags) = parse_tag_list(list) else { return true };
        let (_, ours) = split_tag(etag);
        return tags.iter().any(|&(_, theirs)| theirs == ours);
    }
    match if_modified_since.map(|v| httpdate::parse_http_date(v.trim())) {
        Some(Ok(since)) => epoch_parts(modified).0 <= epoch_parts(since).0,
        _ => false,
    }
}

/// The outcome of a `Range` header against a representation of known length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteRange {
    /// Send bytes `start..=end` with 206 Partial Content and
    /// `Content-Range: bytes start-end/len` ([`content_range`]).
    Satisfiable {
        /// First byte, inclusive.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
    },
    /// Answer 416 Range Not Satisfiable with `Content-Range: bytes */len`
    /// ([`unsatisfied_range`]).
    Unsatisfiable,
    /// Send the whole representation with 200: the header is malformed, names another unit,
    /// asks for several ranges, or `If-Range` does not match.
    Ignore,
}

/// Digits as a number, saturating at `u64::MAX`; `None` unless 1*DIGIT.
fn parse_pos(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, c| n.saturating_mul(10).saturating_add(u64::from(c - b'0'))))
}

/// Parses a `Range` value for a representation of `len` bytes (RFC 9110 §14.2). Only a single
/// range is served; a list of several is answered with the whole representation.
///
/// ```
/// use http_server::static_files::{parse_range, ByteRange};
/// assert_eq!(parse_range("bytes=0-99", 1000), ByteRange::Satisfiable { start: 0, end: 99 });
/// assert_eq!(parse_range("bytes=900-", 1000), ByteRange::Satisfiable { start: 900, end: 999 });
/// assert_eq!(parse_range("bytes=-5000", 1000), ByteRange::Satisfiable { start: 0, end: 999 });
/// assert_eq!(parse_range("bytes=1000-", 1000), ByteRange::Unsatisfiable);
/// assert_eq!(parse_range("bytes=5-1", 1000), ByteRange::Ignore);
/// assert_eq!(parse_range("items=0-1", 1000), ByteRange::Ignore);
/// ```
pub fn parse_range(range: &str, len: u64) -> ByteRange {
    let Some((unit, set)) = range.trim().split_once('=') else { return ByteRange::Ignore };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return ByteRange::Ignore;
    }
    let specs: Vec<&str> = set.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    let [spec] = specs.as_slice() else { return ByteRange::Ignore };
    let Some((first, last)) = spec.split_once('-') else { return ByteRange::Ignore };
    if first.is_empty() {
        // A suffix: the last `n` bytes.
        let Some(n) = parse_pos(last) else { return ByteRange::Ignore };
        if n == 0 || len == 0 {
            return ByteRange::Unsatisfiable;
        }
        return ByteRange::Satisfiable { start: len - n.min(len), end: len - 1 };
    }
    let Some(start) = parse_pos(first) else { return ByteRange::Ignore };
    let end = if last.is_empty() {
        u64::MAX
    } else {
        match parse_pos(last) {
            Some(end) if end >= start => end,
            _ => return ByteRange::Ignore,
        }
    };
    if start >= len {
        return ByteRange::Unsatisfiable;
    }
    ByteRange::Satisfiable { start, end: end.min(len - 1) }
}

/// True when an `If-Range` value lets a range request be served as a range (RFC 9110
/// §13.1.5): an entity tag that is strong and equal to `etag` (itself strong), or an HTTP
/// date equal to the modification time (in whole seconds). Anything else means "send it
/// all".
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use http_server::static_files::if_range_allows;
/// let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// assert!(if_range_allows("\"a\"", "\"a\"", t));
/// assert!(!if_range_allows("W/\"a\"", "\"a\"", t));
/// assert!(if_range_allows("Tue, 14 Nov 2023 22:13:20 GMT", "\"a\"", t));
/// assert!(!if_range_allows("Tue, 14 Nov 2023 22:13:21 GMT", "\"a\"", t));
/// ```
pub fn if_range_allows(if_range: &str, etag: &str, modified: SystemTime) -> bool {
    let v = if_range.trim();
    if v.starts_with('"') || v.starts_with("W/") {
        let (their_weak, theirs) = split_tag(v);
        let (our_weak, ours) = split_tag(etag);
        return !their_weak && !our_weak && theirs == ours && theirs.len() >= 2 && theirs.ends_with('"');
    }
    match httpdate::parse_http_date(v) {
        Ok(date) => epoch_parts(date).0 == epoch_parts(modified).0,
        Err(_) => false,
    }
}

/// [`parse_range`] after checking `If-Range` ([`if_range_allows`]): a `Range` whose
/// `If-Range` does not match is ignored.
pub fn evaluate_range(
    range: &str,
    if_range: Option<&str>,
    len: u64,
    etag: &str,
    modified: SystemTime,
) -> ByteRange {
    match if_range {
        Some(v) if !if_range_allows(v, etag, modified) => ByteRange::Ignore,
        _ => parse_range(range, len),
    }
}

/// The `Content-Range` value of a 206: `bytes start-end/len`.
///
/// ```
/// assert_eq!(http_server::static_files::content_range(0, 99, 1000), "bytes 0-99/1000");
/// ```
pub fn content_range(start: u64, end: u64, len: u64) -> String {
    format!("bytes {start}-{end}/{len}")
}

/// The `Content-Range` value of a 416: `bytes */len`.
///
/// ```
/// assert_eq!(http_server::static_files::unsatisfied_range(1000), "bytes */1000");
/// ```
pub fn unsatisfied_range(len: u64) -> String {
    format!("bytes */{len}")
}

#[cfg(test)]
mod tests;
