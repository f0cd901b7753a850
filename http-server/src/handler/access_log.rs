//! An access log in the Common and Combined Log Formats (NCSA, as Apache and nginx write
//! them), made from the log hook's [`LogRecord`] and written through the `log` crate.
//!
//! ```text
//!   127.0.0.1 - ann [06/Nov/1994:08:49:37 +0000] "GET /a?b HTTP/1.1" 200 2326 "http://ref/" "curl/8.5"
//!   └ peer   │  └ Basic user  └ request received (UTC)  └ request line  │  └ body bytes  └ Combined only
//!            └ ident: always -                                        └ status
//! ```
//!
//! The log hook runs once the response is out (a body the engine writes after the handler
//! included), so the status is the one sent and the bytes are the body bytes that went out.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::handler::hooks::LogRecord;
use crate::handler::middleware::basic::basic_credentials;

/// Which fields a line has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `host ident authuser [date] "request" status bytes`.
    Common,
    /// Common, then `"referer" "user-agent"`.
    Combined,
}

/// An access log line per request in the Common or Combined Log Format, through the `log`
/// crate (target `http_server::access`, level `Info` by default): give it the server's log
/// hook.
///
/// ```text
/// 127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "GET /notes?x=1 HTTP/1.1" 200 2326 "https://app.example/" "Mozilla/5.0 ..."
/// ```
///
/// - **host**: the peer's IP address (`-` for a Unix socket; behind a proxy that is the
///   proxy: put the client's address in a header it forwards and log that yourself);
/// - **ident**: always `-`; **authuser**: the user of a well-formed `Authorization: Basic`
///   field (see [`BasicAuth`](crate::BasicAuth)), whether or not it was accepted, else `-`;
/// - **date**: when the request head had arrived, in UTC (`+0000`);
/// - **request**: the request line as the handlers saw it (after a URL transformation);
/// - **status**: the status sent; **bytes**: the body bytes sent, `-` for none (a `HEAD`,
///   a `304`, a body cut off when the connection failed) and for the bodies the engine
///   does not count yet (see [`LogRecord::bytes`]);
/// - **referer**, **user-agent** (Combined): the fields as sent, `-` when absent.
///
/// Nothing a peer sent can break a line or forge one: in the request line, the user, the
/// referer and the user agent `"` and `\` are escaped with a backslash, and every byte
/// outside printable ASCII (control characters, DEL, the bytes of non-ASCII text) is
/// written `\xHH`.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use http_server::{AccessLog, Response, Server};
/// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
/// server.add_resource("/", |_req, _args| Response::text("hi"));
/// server.set_log_hook(AccessLog::combined().hook());
/// // Or beside a hook of your own:
/// let access = AccessLog::common();
/// server.set_log_hook(move |record| {
///     access.log(record);
///     // ... metrics ...
/// });
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct AccessLog {
    format: Format,
    level: log::Level,
}

impl AccessLog {
    /// The Common Log Format: `host ident authuser [date] "request" status bytes`.
    pub fn common() -> AccessLog {
        AccessLog { format: Format::Common, level: log::Level::Info }
    }

    /// The Combined Log Format: the Common one, then `"referer" "user-agent"`.
    pub fn combined() -> AccessLog {
        AccessLog { format: Format::Combined, level: log::Level::Info }
    }

    /// The level lines are logged at (`Info` by default).
    pub fn level(mut self, level: log::Level) -> AccessLog {
        self.level = level;
        self
    }

    /// Writes the line for `record` to the `log` crate (target `http_server::access`).
    pub fn log(&self, record: &LogRecord<'_>) {
        // One line per request: a stream's is written when it ends, with its bytes.
        if record.stream_start {
            return;
        }
        if log::log_enabled!(target: "http_server::access", self.level) {
            log::log!(target: "http_server::access", self.level, "{}", self.line(record));
        }
    }

    /// The log hook that writes every record ([`Server::set_log_hook`](crate::Server::set_log_hook)).
    pub fn hook(self) -> impl Fn(&LogRecord<'_>) + Send + Sync + 'static {
        move |record| self.log(record)
    }

    /// The line for `record`, to write somewhere else than the `log` crate.
    pub fn line(&self, record: &LogRecord<'_>) -> String {
        let received = SystemTime::now().checked_sub(record.duration).unwrap_or(UNIX_EPOCH);
        self.line_at(record, received)
    }

    /// The line for `record` with the request received at `received`.
    fn line_at(&self, record: &LogRecord<'_>, received: SystemTime) -> String {
        let request = record.request;
        let mut out = String::with_capacity(160);
        match record.peer.ip() {
            Some(ip) => {
                let _ = write!(out, "{ip}");
            }
            None => out.push('-'),
        }
        out.push_str(" - ");
        match basic_credentials(request.headers().get("authorization")) {
            Some((user, _)) if !user.is_empty() => push_escaped(&mut out, user.as_bytes()),
            _ => out.push('-'),
        }
        out.push_str(" [");
        push_clf_time(&mut out, received);
        out.push_str("] \"");
        push_escaped(&mut out, request.method().as_str().as_bytes());
        out.push(' ');
        push_escaped(&mut out, request.url().as_bytes());
        out.push(' ');
        out.push_str(request.version().as_str());
        let _ = write!(out, "\" {} ", record.status);
        match record.bytes {
            0 => out.push('-'),
            n => {
                let _ = write!(out, "{n}");
            }
        }
        if self.format == Format::Combined {
            for name in ["referer", "user-agent"] {
                out.push_str(" \"");
                match request.headers().get(name) {
                    Some(value) => push_escaped(&mut out, value.as_bytes()),
                    None => out.push('-'),
                }
                out.push('"');
            }
        }
        out
    }
}

/// Appends `bytes` for a quoted log field: printable ASCII as is, `"` and `\` after a
/// backslash, every other byte `\xHH`.
fn push_escaped(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            b' '..=b'~' => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

/// Appends `t` as CLF writes a time, in UTC: `06/Nov/1994:08:49:37 +0000`.
fn push_clf_time(out: &mut String, t: SystemTime) {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rest = secs % 86_400;
    let _ = write!(
        out,
        "{day:02}/{}/{year:04}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    );
}

/// The proleptic Gregorian date (year, month 1–12, day 1–31) of a count of days since
/// 1970-01-01: days are counted in 400-year eras of 146,097 days, each era starting on
/// 1 March so that the leap day ends a year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::transport::PeerAddr;
    use http_utils::{Method, Request};

    fn at(secs: u64) -> String {
        let mut out = String::new();
        push_clf_time(&mut out, UNIX_EPOCH + Duration::from_secs(secs));
        out
    }

    #[test]
    fn times() {
        assert_eq!(at(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(at(784_111_777), "06/Nov/1994:08:49:37 +0000");
        assert_eq!(at(951_782_400), "29/Feb/2000:00:00:00 +0000");
        assert_eq!(at(4_133_980_799), "31/Dec/2100:23:59:59 +0000");
        // Against httpdate, a day at a time for 1200 years from 1970.
        for day in (0..438_300u64).step_by(7) {
            let t = UNIX_EPOCH + Duration::from_secs(day * 86_400 + 3723);
            let http = httpdate::fmt_http_date(t); // "Sun, 06 Nov 1994 08:49:37 GMT"
            let parts: Vec<&str> = http.split(' ').collect();
            let want = format!("{}/{}/{}:{} +0000", parts[1], parts[2], parts[3], parts[4]);
            let mut got = String::new();
            push_clf_time(&mut got, t);
            assert_eq!(got, want);
        }
    }

    #[test]
    fn lines_escape_what_peers_sent() {
        let mut request = Request::new(Method::Get, "/a?q=\"x\"\\\u{1b}[2J\u{e9}");
        request.headers_mut().append("Referer", "http://r.example/\"\tq").unwrap();
        request.headers_mut().append("User-Agent", "ua \u{2028}").unwrap();
        // `a"b:pw` in base64: a user with a quote.
        request.headers_mut().append("Authorization", "Basic YSJiOnB3").unwrap();
        let peer = PeerAddr::Ip("192.0.2.7:5000".parse().unwrap());
        let record = LogRecord {
            request: &request,
            peer: &peer,
            status: 404,
            bytes: 0,
            duration: Duration::ZERO,
            close: None,
            stream_start: false,
        };
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            AccessLog::common().line_at(&record, t),
            r#"192.0.2.7 - a\"b [06/Nov/1994:08:49:37 +0000] "GET /a?q=\"x\"\\\x1b[2J\xc3\xa9 HTTP/1.1" 404 -"#
        );
        let combined = AccessLog::combined().line_at(&record, t);
        assert!(combined.ends_with(r#" 404 - "http://r.example/\"\x09q" "ua \xe2\x80\xa8""#), "{combined}");
        let unix = LogRecord { peer: &PeerAddr::Unix, bytes: 12, ..record };
        assert!(AccessLog::common().line_at(&unix, t).starts_with("- - a\\\"b ["));
        assert!(AccessLog::common().line_at(&unix, t).ends_with("\" 404 12"));
    }
}
