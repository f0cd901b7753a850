//! Writing response heads into a buffer: status line, `Date` (cached per second), `Server`,
//! the handler's fields, framing and `Connection`.

use std::borrow::Cow;

use http_utils::{response_has_body, DateCache, Headers, Method, Version};

/// How the body after a head is delimited, as the server decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFraming {
    /// No body is sent and no length is announced (1xx, 204, 304).
    NoBody,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// The body ends when the connection closes.
    UntilClose,
}

/// What the `Connection` field says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectionField {
    /// Nothing (the version's default holds).
    Omit,
    /// `Connection: close`.
    Close,
    /// `Connection: keep-alive` (for HTTP/1.0 peers).
    KeepAlive,
    /// `Connection: upgrade` (a `101`).
    Upgrade,
}

/// What a worker keeps to write response heads of one server: the `Date` and `Server`
/// lines every head carries, formatted once a second, and the last head written without
/// fields of the handler's (a server answering alike request after request copies that
/// head whole).
pub(crate) struct HeadCache {
    /// The `Server` name, cleaned of bytes a field value cannot have (see [`cleaned`]);
    /// empty: no `Server` field.
    server: String,
    date: DateCache,
    secs: u64,
    /// `\r\nDate: ...\r\nServer: ...\r\n` (without `Server` when the name is empty);
    /// empty until the first head.
    lines: Vec<u8>,
    last: LastHead,
}

impl HeadCache {
    /// A cache for heads with `server` (cleaned) as their `Server` field.
    pub(crate) fn new(server: &str) -> HeadCache {
        HeadCache {
            server: server.to_owned(),
            date: DateCache::default(),
            secs: 0,
            lines: Vec::new(),
            last: LastHead::default(),
        }
    }

    /// Formats the lines again if the second changed since.
    #[inline]
    fn refresh(&mut self, secs: u64) {
        if self.lines.is_empty() || self.secs != secs {
            self.lines.clear();
            self.lines.extend_from_slice(b"\r\nDate: ");
            self.lines.extend_from_slice(self.date.at(secs).as_bytes());
            self.lines.extend_from_slice(b"\r\n");
            if !self.server.is_empty() {
                self.lines.extend_from_slice(b"Server: ");
                self.lines.extend_from_slice(self.server.as_bytes());
                self.lines.extend_from_slice(b"\r\n");
            }
            self.secs = secs;
            self.last.key = None;
        }
    }
}

/// What decides a head with no fields of the handler's, but for its reason phrase, its
/// `Content-Type` and the `Date` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HeadKey {
    version: Version,
    status: u16,
    framing: BodyFraming,
    connection: ConnectionField,
}

/// A head written without fields of the handler's, and what it was made of.
#[derive(Default)]
struct LastHead {
    /// `None` when nothing is kept (or the `Date` line changed since).
    key: Option<HeadKey>,
    /// `None`: the status's standard phrase.
    reason: Option<String>,
    content_type: KeptType,
    bytes: Vec<u8>,
}

/// The `Content-Type` of a kept head: a static one is known again by its address, without
/// comparing its bytes.
#[derive(Default)]
enum KeptType {
    #[default]
    None,
    Static(&'static str),
    Owned(String),
}

impl KeptType {
    #[inline]
    fn is(&self, ct: Option<&Cow<'static, str>>) -> bool {
        match (self, ct) {
            (KeptType::None, None) => true,
            (KeptType::Static(kept), Some(Cow::Borrowed(s))) => std::ptr::eq(*kept, *s) || kept == s,
            (KeptType::Static(kept), Some(ct)) => *kept == ct.as_ref(),
            (KeptType::Owned(kept), Some(ct)) => kept == ct.as_ref(),
            _ => false,
        }
    }

    fn keep(&mut self, ct: Option<&Cow<'static, str>>) {
        match (&mut *self, ct) {
            (_, None) => *self = KeptType::None,
            (_, Some(Cow::Borrowed(s))) => *self = KeptType::Static(s),
            (KeptType::Owned(kept), Some(ct)) => {
                kept.clear();
                kept.push_str(ct);
            }
            (_, Some(ct)) => *self = KeptType::Owned(ct.to_string()),
        }
    }
}

impl LastHead {
    /// Heads longer than this are not kept.
    const KEEP_AT_MOST: usize = 1024;

    fn key(head: &Head<'_>) -> HeadKey {
        HeadKey {
            version: head.version,
            status: head.status,
            framing: head.framing,
            connection: head.connection,
        }
    }

    /// The kept head, if it is `head`'s.
    #[inline]
    fn of(&self, head: &Head<'_>) -> Option<&[u8]> {
        let same = self.key == Some(LastHead::key(head))
            && self.reason.as_deref() == head.reason
            && self.content_type.is(head.content_type);
        same.then_some(self.bytes.as_slice())
    }

    /// Keeps `bytes`, the head written for `head`.
    fn keep(&mut self, head: &Head<'_>, bytes: &[u8]) {
        self.key = None;
        if bytes.len() > LastHead::KEEP_AT_MOST {
            return;
        }
        self.bytes.clear();
        self.bytes.extend_from_slice(bytes);
        match (&mut self.reason, head.reason) {
            (Some(kept), Some(r)) => {
                kept.clear();
                kept.push_str(r);
            }
            (kept, r) => *kept = r.map(str::to_owned),
        }
        self.content_type.keep(head.content_type);
        self.key = Some(LastHead::key(head));
    }
}

pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `s` keeping only bytes allowed in a reason phrase or field value (HTAB, SP,
/// visible ASCII, obs-text); others become `?`.
/// `s` with every byte not allowed in a reason phrase or field value (see [`push_clean`])
/// replaced, borrowed when there is none: for values cleaned once, when they are set.
pub(crate) fn cleaned(s: std::borrow::Cow<'static, str>) -> std::borrow::Cow<'static, str> {
    if s.bytes().all(allowed) {
        return s;
    }
    let mut out = Vec::with_capacity(s.len());
    push_clean(&mut out, &s);
    std::borrow::Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[inline]
fn allowed(b: u8) -> bool {
    b == b'\t' || b == b' ' || b >= 0x21 && b != 0x7f
}

#[inline]
fn push_clean(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(allowed) {
        // The common case: copied at once.
        out.extend_from_slice(s.as_bytes());
    } else {
        out.extend(s.bytes().map(|b| if allowed(b) { b } else { b'?' }));
    }
}

/// How a response is framed on the wire: the one decision for every response the server
/// writes (a handler's, an error page, a head the handler wrote itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub framing: BodyFraming,
    pub connection: ConnectionField,
    /// Whether body bytes follow the head (not for HEAD, 1xx, 204, 304, 2xx to CONNECT).
    pub send_body: bool,
    /// The body runs until the connection closes: it must close after it.
    pub until_close: bool,
}

/// Decides the framing of a response with `status` and a body of `len` bytes (`None`:
/// unknown) to a request with `method` and `request_version`, from a server speaking
/// `protocol` (the status line always carries it). A body of unknown length is chunked when
/// the writer can chunk it (`chunks`) and the peer speaks HTTP/1.1; otherwise it runs until
/// the connection closes. `closing`: the connection closes after this response anyway.
pub(crate) fn plan(
    protocol: Version,
    request_version: Version,
    method: &Method,
    status: u16,
    len: Option<u64>,
    chunks: bool,
    closing: bool,
) -> Plan {
    let send_body = response_has_body(method, status);
    let bodiless_status = !response_has_body(&Method::Get, status)
        || (*method == Method::Connect && (200..300).contains(&status));
    let chunked_ok = chunks && request_version == Version::Http11 && protocol == Version::Http11;
    let mut until_close = false;
    let framing = if bodiless_status {
        BodyFraming::NoBody
    } else {
        match len {
            Some(n) => BodyFraming::Length(n),
            None if *method == Method::Head => BodyFraming::NoBody,
            None if chunked_ok => BodyFraming::Chunked,
            None => {
                until_close = true;
                BodyFraming::UntilClose
            }
        }
    };
    let connection = if closing || until_close {
        ConnectionField::Close
    } else if request_version == Version::Http10 {
        ConnectionField::KeepAlive
    } else {
        ConnectionField::Omit
    };
    Plan { framing, connection, send_body, until_close }
}

/// Everything a response head is made of.
pub(crate) struct Head<'a> {
    /// The `Date`, in seconds since the Unix epoch.
    pub date: u64,
    pub version: Version,
    pub status: u16,
    /// A reason phrase of the handler's; `None`: the standard phrase of `status` (so a
    /// kept head is known to fit without comparing phrases).
    pub reason: Option<&'a str>,
    /// Cleaned of bytes a field value cannot have (see [`cleaned`]).
    pub content_type: Option<&'a Cow<'static, str>>,
    pub headers: &'a Headers,
    pub framing: BodyFraming,
    pub connection: ConnectionField,
}

/// Header fields the server owns; a handler's copies are dropped so they cannot contradict
/// the framing.
fn is_managed(name: &str) -> bool {
    matches!(name, "content-length" | "transfer-encoding" | "connection" | "date" | "server" | "keep-alive")
}

/// Serialises `head` into `out`, with the `Date` and `Server` lines of `cache`.
pub(crate) fn write_head(out: &mut Vec<u8>, cache: &mut HeadCache, head: &Head<'_>) {
    cache.refresh(head.date);
    if !head.headers.is_empty() {
        return write_parts(out, head, &cache.lines);
    }
    if let Some(bytes) = cache.last.of(head) {
        out.extend_from_slice(bytes);
        return;
    }
    let start = out.len();
    write_parts(out, head, &cache.lines);
    cache.last.keep(head, out.get(start..).unwrap_or_default());
}

/// Writes `head` piece by piece, with `lines` (`Date` and `Server`) after the status line.
fn write_parts(out: &mut Vec<u8>, head: &Head<'_>, lines: &[u8]) {
    // Room for a typical head, so that the pieces below rarely grow the buffer.
    out.reserve(256);
    out.extend_from_slice(head.version.as_str().as_bytes());
    let status = head.status.clamp(100, 999);
    out.extend_from_slice(&[
        b' ',
        b'0' + (status / 100) as u8,
        b'0' + (status / 10 % 10) as u8,
        b'0' + (status % 10) as u8,
        b' ',
    ]);
    push_clean(out, head.reason.unwrap_or_else(|| http_utils::reason_phrase(head.status)));
    out.extend_from_slice(lines);
    if let Some(ct) = head.content_type {
        // Cleaned when it was set.
        out.extend_from_slice(b"Content-Type: ");
        out.extend_from_slice(ct.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // Names go out as the program wrote them (`X-Request-Id`, `x-custom`); which fields the
    // server writes itself is decided on the lower-case name.
    for ((lower, _), (name, value)) in head.headers.iter().zip(head.headers.iter_as_written()) {
        if is_managed(lower) {
            continue;
        }
        // Names and values were validated when they were added.
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    match head.framing {
        BodyFraming::NoBody | BodyFraming::UntilClose => {}
        BodyFraming::Length(n) => {
            out.extend_from_slice(b"Content-Length: ");
            push_u64(out, n);
            out.extend_from_slice(b"\r\n");
        }
        BodyFraming::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
    }
    match head.connection {
        ConnectionField::Omit => {}
        ConnectionField::Close => out.extend_from_slice(b"Connection: close\r\n"),
        ConnectionField::KeepAlive => out.extend_from_slice(b"Connection: keep-alive\r\n"),
        ConnectionField::Upgrade => out.extend_from_slice(b"Connection: upgrade\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_bytes() {
        let mut h = Headers::new();
        h.append("X-A", "1").unwrap();
        h.append("Content-Length", "99").unwrap();
        let mut out = Vec::new();
        write_head(
            &mut out,
            &mut HeadCache::new("t"),
            &Head {
                date: 784111777,
                version: Version::Http11,
                status: 200,
                reason: Some("OK\r\nEvil: 1"),
                content_type: Some(&cleaned("text/plain".into())),
                headers: &h,
                framing: BodyFraming::Length(13),
                connection: ConnectionField::Close,
            },
        );
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("HTTP/1.1 200 OK??Evil: 1\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), "{s}");
        assert!(s.ends_with("\r\nServer: t\r\nContent-Type: text/plain\r\nX-A: 1\r\nContent-Length: 13\r\nConnection: close\r\n\r\n"), "{s}");
        assert_eq!(s.matches("Content-Length").count(), 1);
    }

    /// Heads written one after another, each differing from the one before in one thing,
    /// come out as the same head written piece by piece (nothing stale from the head kept).
    #[test]
    fn a_kept_head_is_used_only_for_the_same_head() {
        let none = Headers::new();
        let mut one = Headers::new();
        one.append("X-A", "1").unwrap();
        let base = Head {
            date: 784111777,
            version: Version::Http11,
            status: 200,
            reason: None,
            content_type: Some(&Cow::Borrowed("text/html")),
            headers: &none,
            framing: BodyFraming::Length(22),
            connection: ConnectionField::Omit,
        };
        let heads = [
            Head { ..base },
            Head { ..base },
            Head { date: 784111778, ..base },
            Head { version: Version::Http10, ..base },
            Head { status: 404, ..base },
            Head { reason: Some("Fine"), ..base },
            Head { reason: Some("OK"), ..base },
            Head { content_type: Some(&Cow::Borrowed("text/plain")), ..base },
            Head { content_type: Some(&Cow::Owned("text/html".to_owned())), ..base },
            Head { content_type: None, ..base },
            Head { framing: BodyFraming::Length(23), ..base },
            Head { framing: BodyFraming::Chunked, ..base },
            Head { connection: ConnectionField::Close, ..base },
            Head { headers: &one, ..base },
            Head { ..base },
        ];
        // Each after the first head, so that the one kept is the first's.
        let mut cache = HeadCache::new("s");
        for (i, head) in heads.iter().flat_map(|h| [&heads[0], h]).enumerate() {
            let mut kept = b"before".to_vec();
            write_head(&mut kept, &mut cache, head);
            let mut fresh = b"before".to_vec();
            let mut alone = HeadCache::new("s");
            alone.refresh(head.date);
            write_parts(&mut fresh, head, &alone.lines);
            assert_eq!(String::from_utf8_lossy(&kept), String::from_utf8_lossy(&fresh), "head {i}");
        }
        // Each cache writes its own server's name; none at all for an empty one.
        let mut out = Vec::new();
        write_head(&mut out, &mut HeadCache::new(""), &base);
        assert!(!String::from_utf8_lossy(&out).contains("Server:"));
    }

    #[test]
    fn values_are_cleaned_once() {
        assert!(matches!(cleaned("text/plain".into()), std::borrow::Cow::Borrowed("text/plain")));
        assert_eq!(cleaned("text/plain\r\nEvil: 1".into()), "text/plain??Evil: 1");
        let r = crate::Response::new(200).with_content_type("a\nb\x7f");
        assert_eq!(r.content_type(), Some("a?b?"));
    }

    #[test]
    fn numbers() {
        for n in [0u64, 7, 10, 12345, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
