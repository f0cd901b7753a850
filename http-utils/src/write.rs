//! Writers for message heads (the egg's `http:write-response-header`) and the `Date` value.
//!
//! The writers append to a caller-owned `Vec<u8>` so that a head and a small body can go out
//! in one write. They cannot fail: header fields are validated when they enter [`Headers`],
//! and the two free-form strings (a request target and a reason phrase) are made safe here,
//! so a program can never split a message by putting CR or LF in them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::headers::Headers;
use crate::method::Method;
use crate::response::ResponseHead;
use crate::token::{is_field_vchar, is_target_char};
use crate::version::Version;

/// Appends every field as `name: value` CRLF, each name as the program wrote it (lower
/// case for names read from the wire).
fn write_fields(out: &mut Vec<u8>, headers: &Headers) {
    write_pairs(out, headers.iter_as_written());
}

/// Appends each pair as `name: value` CRLF.
fn write_pairs<'a>(out: &mut Vec<u8>, fields: impl Iterator<Item = (&'a str, &'a str)>) {
    for (name, value) in fields {
        out.reserve(name.len() + value.len() + 4);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends a request target, percent-encoding any byte that is not visible ASCII (spaces,
/// controls, non-ASCII); an empty target becomes `/`.
fn write_target(out: &mut Vec<u8>, target: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    if target.is_empty() {
        out.push(b'/');
    } else if target.bytes().all(is_target_char) {
        out.extend_from_slice(target.as_bytes());
    } else {
        for b in target.bytes() {
            if is_target_char(b) {
                out.push(b);
            } else {
                out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
            }
        }
    }
}

/// Appends a request head: request line, header fields and the empty line.
///
/// The target is written as given, except that bytes which may not appear in a request line
/// (spaces, controls, non-ASCII) are percent-encoded and an empty target is written as `/`.
/// Field names are written in the case the program gave them
/// ([`Headers::iter_as_written`]): some servers and middleboxes compare them
/// case-sensitively. `Host` goes first (RFC 9110 §7.2), the other fields in their order.
///
/// ```
/// use http_utils::{parse_request_head, write_request_head, Headers, Limits, Method, Version};
/// let mut headers = Headers::new();
/// headers.append("Host", "example.com").unwrap();
/// let mut out = Vec::new();
/// write_request_head(&mut out, &Method::Get, "/a b", Version::Http11, &headers);
/// assert_eq!(out, b"GET /a%20b HTTP/1.1\r\nHost: example.com\r\n\r\n");
/// let (req, _) = parse_request_head(&out, &Limits::default()).unwrap().complete().unwrap();
/// assert_eq!(req.headers(), &headers);
/// ```
pub fn write_request_head(
    out: &mut Vec<u8>,
    method: &Method,
    target: &str,
    version: Version,
    headers: &Headers,
) {
    let m = method.as_str();
    out.reserve(m.len() + target.len() + 12 + 32 * headers.len() + 2);
    out.extend_from_slice(m.as_bytes());
    out.push(b' ');
    write_target(out, target);
    out.push(b' ');
    out.extend_from_slice(version.as_str().as_bytes());
    out.extend_from_slice(b"\r\n");
    // Host first (RFC 9110 §7.2: a user agent SHOULD send it first), the rest in order.
    let is_host = |(n, _): &(&str, &str)| n.eq_ignore_ascii_case("host");
    write_pairs(out, headers.iter_as_written().filter(is_host));
    write_pairs(out, headers.iter_as_written().filter(|f| !is_host(f)));
    out.extend_from_slice(b"\r\n");
}

/// Appends a response head: status line, header fields and the empty line, exactly as given
/// (the core of the egg's `http:write-response-header`, for programs that write responses
/// themselves; http-server writes its own heads, with the fields it manages: `Date`,
/// `Server`, the framing and `Connection`).
///
/// Bytes of the reason phrase that may not appear in a field value (CR, LF and other
/// controls) are left out. A status outside 100–999 cannot be written and becomes 500.
///
/// ```
/// use http_utils::{write_response_head, ResponseHead};
/// let mut head = ResponseHead::new(404);
/// head.headers.append("Content-Length", "0").unwrap();
/// let mut out = Vec::new();
/// write_response_head(&mut out, &head);
/// assert_eq!(out, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
/// ```
pub fn write_response_head(out: &mut Vec<u8>, head: &ResponseHead) {
    out.reserve(15 + head.reason.len() + 32 * head.headers.len() + 2);
    out.extend_from_slice(head.version.as_str().as_bytes());
    let status = if (100..=999).contains(&head.status) { head.status } else { 500 };
    // Status codes are three digits.
    let digits = [
        b' ',
        b'0' + (status / 100) as u8,
        b'0' + (status / 10 % 10) as u8,
        b'0' + (status % 10) as u8,
        b' ',
    ];
    out.extend_from_slice(&digits);
    let reason = head.reason.as_bytes();
    if reason.iter().all(|&c| is_field_vchar(c)) {
        out.extend_from_slice(reason);
    } else {
        out.extend(reason.iter().copied().filter(|&c| is_field_vchar(c)));
    }
    out.extend_from_slice(b"\r\n");
    write_fields(out, &head.headers);
    out.extend_from_slice(b"\r\n");
}

/// The last second an HTTP date can show (9999-12-31T23:59:59Z).
const MAX_DATE_SECS: u64 = 253_402_300_799;

/// Seconds since the epoch, clamped to what an HTTP date can show.
fn date_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()).min(MAX_DATE_SECS)
}

/// Formats a time as an HTTP date (IMF-fixdate, RFC 9110 §5.6.7), as used by `Date`,
/// `Expires` and `Last-Modified`. Times before 1970 or after 9999 are clamped to those years.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
/// assert_eq!(http_utils::http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
/// ```
pub fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(date_secs(t)))
}

/// Length of an IMF-fixdate.
const DATE_LEN: usize = 29;

/// A `Date` value formatted at most once per second.
///
/// Each worker thread keeps its own (it is `&mut`, so there is no lock to contend for) and
/// passes the current time in; the cache only formats again when the second changes.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use http_utils::DateCache;
/// let mut dates = DateCache::new();
/// let t = UNIX_EPOCH + Duration::from_millis(784_111_777_250);
/// assert_eq!(dates.get(t), "Sun, 06 Nov 1994 08:49:37 GMT");
/// assert_eq!(dates.get(t + Duration::from_millis(700)), "Sun, 06 Nov 1994 08:49:37 GMT");
/// assert_eq!(dates.get(t + Duration::from_millis(800)), "Sun, 06 Nov 1994 08:49:38 GMT");
/// ```
#[derive(Debug, Clone)]
pub struct DateCache {
    secs: u64,
    text: String,
}

impl Default for DateCache {
    fn default() -> DateCache {
        DateCache::new()
    }
}

impl DateCache {
    /// An empty cache; the first [`get`](DateCache::get) formats.
    pub fn new() -> DateCache {
        DateCache { secs: u64::MAX, text: String::with_capacity(DATE_LEN) }
    }

    /// The HTTP date of `now`, formatted again only when its second differs from the last call's.
    pub fn get(&mut self, now: SystemTime) -> &str {
        self.at(date_secs(now))
    }

    /// The HTTP date of `unix_secs` seconds since the Unix epoch, formatted again only when
    /// it differs from the last call's.
    ///
    /// ```
    /// let mut dates = http_utils::DateCache::new();
    /// assert_eq!(dates.at(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    /// ```
    pub fn at(&mut self, unix_secs: u64) -> &str {
        let secs = unix_secs;
        if secs != self.secs {
            let s = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
            if s.len() == DATE_LEN {
                self.text.clear();
                self.text.push_str(&s);
                self.secs = secs;
            }
        }
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use crate::parse::{parse_request_head, parse_response_head};
    use proptest::prelude::*;

    fn headers(fields: &[(&str, &str)]) -> Headers {
        Headers::try_from(fields).unwrap()
    }

    #[test]
    fn request_heads() {
        let mut out = Vec::new();
        let h = headers(&[("X-Y", "1, 2"), ("Host", "a")]);
        write_request_head(&mut out, &Method::extension("PROPFIND").unwrap(), "/x?y=1", Version::Http10, &h);
        assert_eq!(out, b"PROPFIND /x?y=1 HTTP/1.0\r\nHost: a\r\nX-Y: 1, 2\r\n\r\n");
        let cases: &[(&str, &str)] = &[
            ("", "/"),
            ("*", "*"),
            ("http://h/p", "http://h/p"),
            ("/a b", "/a%20b"),
            ("/x\r\nEvil: 1", "/x%0D%0AEvil:%201"),
            ("/caf\u{e9}", "/caf%C3%A9"),
            ("/\x7f\0", "/%7F%00"),
        ];
        for (target, wire) in cases {
            out.clear();
            write_request_head(&mut out, &Method::Get, target, Version::Http11, &Headers::new());
            assert_eq!(out, format!("GET {wire} HTTP/1.1\r\n\r\n").as_bytes(), "{target:?}");
            let (req, used) = parse_request_head(&out, &Limits::default()).unwrap().complete().unwrap();
            assert_eq!((req.url(), used), (*wire, out.len()));
        }
    }

    #[test]
    fn response_heads() {
        let cases: &[(u16, &str, &str)] = &[
            (200, "OK", "HTTP/1.1 200 OK\r\n"),
            (204, "", "HTTP/1.1 204 \r\n"),
            (599, "Custom Thing", "HTTP/1.1 599 Custom Thing\r\n"),
            (200, "Bad\r\nX-Injected: 1", "HTTP/1.1 200 BadX-Injected: 1\r\n"),
            (200, "caf\u{e9}\ttab", "HTTP/1.1 200 caf\u{e9}\ttab\r\n"),
            (42, "Nope", "HTTP/1.1 500 Nope\r\n"),
            (1000, "Nope", "HTTP/1.1 500 Nope\r\n"),
            (100, "Continue", "HTTP/1.1 100 Continue\r\n"),
            (999, "", "HTTP/1.1 999 \r\n"),
        ];
        for (status, reason, line) in cases {
            let head = ResponseHead {
                version: Version::Http11,
                status: *status,
                reason: reason.to_string(),
                headers: Headers::new(),
            };
            let mut out = Vec::new();
            write_response_head(&mut out, &head);
            assert_eq!(out, format!("{line}\r\n").as_bytes(), "{status} {reason:?}");
            let (parsed, used) = parse_response_head(&out, &Limits::default()).unwrap().complete().unwrap();
            assert_eq!(used, out.len());
            assert_eq!(parsed.status, if (100..=999).contains(status) { *status } else { 500 });
        }
        let mut head = ResponseHead::new(200);
        head.version = Version::Http10;
        head.headers = headers(&[("Content-Length", "5"), ("Connection", "keep-alive")]);
        let mut out = b"previous".to_vec();
        write_response_head(&mut out, &head);
        assert_eq!(out, b"previousHTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n");
    }

    #[test]
    fn dates() {
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(UNIX_EPOCH - Duration::from_secs(5)), "Thu, 01 Jan 1970 00:00:00 GMT");
        let far = UNIX_EPOCH + Duration::from_secs(MAX_DATE_SECS + 100_000);
        assert_eq!(http_date(far), "Fri, 31 Dec 9999 23:59:59 GMT");
        let mut cache = DateCache::default();
        assert_eq!(cache.get(far), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(cache.get(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        let now = SystemTime::now();
        assert_eq!(cache.get(now), http_date(now));
        assert_eq!(
            httpdate::parse_http_date(cache.get(now)).unwrap(),
            UNIX_EPOCH + Duration::from_secs(date_secs(now))
        );
    }

    fn method() -> impl Strategy<Value = Method> {
        prop_oneof![
            Just(Method::Get),
            Just(Method::Head),
            Just(Method::Post),
            Just(Method::Put),
            Just(Method::Delete),
            Just(Method::Options),
            Just(Method::Patch),
            "[A-Z][A-Z0-9!#$%&'*+.^_`|~-]{0,11}".prop_map(|m| Method::from_bytes(m.as_bytes()).unwrap()),
        ]
    }

    fn fields() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::vec(
            ("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,16}", "([!-~\u{80}-\u{10ffff}]([ \t!-~]{0,30}[!-~])?)?"),
            0..12,
        )
    }

    proptest! {
        #[test]
        fn request_round_trip(
            m in method(),
            target in "/[!-~]{0,60}",
            http10 in any::<bool>(),
            f in fields(),
        ) {
            let version = if http10 { Version::Http10 } else { Version::Http11 };
            let mut h = Headers::new();
            for (n, v) in &f {
                h.append(n, v).unwrap();
            }
            let mut out = Vec::new();
            write_request_head(&mut out, &m, &target, version, &h);
            let (req, used) = parse_request_head(&out, &Limits::default()).unwrap().complete().unwrap();
            prop_assert_eq!(used, out.len());
            prop_assert_eq!(req.method(), &m);
            prop_assert_eq!(req.url(), target.as_str());
            prop_assert_eq!(req.version(), version);
            prop_assert_eq!(req.headers(), &h);
        }

        #[test]
        fn response_round_trip(
            status in 100u16..1000,
            reason in "([!-~]([ \t!-~]{0,20}[!-~])?)?",
            f in fields(),
        ) {
            let mut head = ResponseHead::new(status);
            head.reason = reason;
            for (n, v) in &f {
                head.headers.append(n, v).unwrap();
            }
            let mut out = Vec::new();
            write_response_head(&mut out, &head);
            let (parsed, used) = parse_response_head(&out, &Limits::default()).unwrap().complete().unwrap();
            prop_assert_eq!(used, out.len());
            prop_assert_eq!(parsed, head);
        }
    }
}
