//! The notes example as a browser app on another origin sees it, through curl: CRUD with JSON
//! errors, preflights, CORS headers on every kind of answer (200, 201, 204, 206, 400, 401,
//! 404, 405, 413 and an event stream), an event on every change, and a graceful stop with a live
//! stream.

#![cfg(unix)] // stopped with SIGTERM (`kill`)

mod programs;
mod server_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use server_support::example_binary;
use server_support::notes::Notes;

const ORIGIN: &str = "http://app.test:3000";
const TOKEN: &str = "t0ken";

/// The example, started on a free port for `ORIGIN` with `TOKEN`.
fn start_notes() -> Option<Notes> {
    let Some(bin) = example_binary("notes") else {
        programs::missing("notes_example", "the notes example binary", "cargo build --examples");
        return None;
    };
    Some(Notes::start(&bin, ORIGIN, TOKEN))
}

/// One answer as curl printed it (`-i`).
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The answer a page on `ORIGIN` may read: CORS headers for it.
    fn readable(self, status: u16) -> Reply {
        assert_eq!(self.status, status, "{}{}", self.head, self.body);
        assert_eq!(self.header("access-control-allow-origin"), Some(ORIGIN), "{}", self.head);
        assert!(self.header("vary").unwrap_or("").contains("Origin"), "{}", self.head);
        self
    }
}

fn curl(curl: &Path, method: &str, url: &str, extra: &[&str]) -> Reply {
    let origin = format!("Origin: {ORIGIN}");
    let out = Command::new(curl)
        .args(["-s", "-i", "--max-time", "10", "-X", method, "-H", &origin])
        .args(extra)
        .arg(url)
        .output()
        .expect("curl runs");

    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no answer: {text:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    Reply { status, head: head.to_owned(), body: body.to_owned() }
}

const AUTH: &str = "Authorization: Bearer t0ken";
const JSON: &str = "Content-Type: application/json";

#[test]
fn notes_through_curl_from_another_origin() {
    let Some(curl_bin) =
        programs::require("notes_through_curl_from_another_origin", "curl", "apt-get install curl")
    else {
        return;
    };
    let Some(notes) = start_notes() else { return };
    let c = |method: &str, path: &str, extra: &[&str]| {
        curl(&curl_bin, method, &format!("{}{path}", notes.base), extra)
    };

    // A preflight for a write with a token: answered before the token is checked.
    let pre = c(
        "OPTIONS",
        "/notes/1",
        &[
            "-H",
            "Access-Control-Request-Method: PUT",
            "-H",
            "Access-Control-Request-Headers: content-type,authorization",
        ],
    )
    .readable(204);
    assert!(pre.header("access-control-allow-methods").unwrap_or("").contains("PUT"));
    assert_eq!(pre.header("access-control-allow-headers"), Some("content-type, authorization"));

    // The event stream, open while the notes change.
    let mut events = Command::new(&curl_bin)
        .args(["-s", "-i", "-N", "--max-time", "20", "-H", &format!("Origin: {ORIGIN}")])
        .arg(format!("{}/events", notes.base))
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl runs");
    let mut stream = BufReader::new(events.stdout.take().unwrap());
    let mut head = String::new();
    while !head.ends_with("\r\n\r\n") {
        assert_ne!(stream.read_line(&mut head).unwrap(), 0, "the stream ended in its head: {head:?}");
    }
    let stream_head = Reply { status: 200, head: head.clone(), body: String::new() }.readable(200);
    assert_eq!(stream_head.header("content-type"), Some("text/event-stream"));
    // The first event, the notes as they are, says the stream is in the hub.
    let mut line = String::new();
    while !line.starts_with("data: ") {
        line.clear();
        assert_ne!(stream.read_line(&mut line).unwrap(), 0, "the stream ended before its first event");
    }
    assert_eq!(line.trim_end(), "data: []");

    // CRUD, every answer readable by the page.
    let made = c("POST", "/notes", &["-H", AUTH, "-H", JSON, "-d", r#"{"title":"egg","body":"scheme"}"#])
        .readable(201);
    assert_eq!(made.json(), json!({"id": 1, "title": "egg", "body": "scheme"}));
    assert_eq!(c("GET", "/notes/1", &[]).readable(200).json()["title"], "egg");
    let put = c("PUT", "/notes/1", &["-H", AUTH, "-H", JSON, "-d", r#"{"title":"rust"}"#]).readable(200);
    assert_eq!(put.json(), json!({"id": 1, "title": "rust", "body": ""}));
    assert_eq!(c("GET", "/notes", &[]).readable(200).json(), json!([{"id": 1, "title": "rust", "body": ""}]));
    c("DELETE", "/notes/1", &["-H", AUTH]).readable(204);

    // Static files, a range of one among them.
    let part = c("GET", "/static/style.css", &["-H", "Range: bytes=0-3"]).readable(206);
    assert_eq!(part.body.len(), 4);

    // Every error is JSON, with CORS headers.
    let gone = c("GET", "/notes/1", &[]).readable(404);
    assert_eq!(gone.json(), json!({"error": "no such note", "status": 404}));
    assert_eq!(c("GET", "/nowhere", &[]).readable(404).json()["status"], 404);
    let bad_id = c("GET", "/notes/abc", &[]).readable(400);
    assert!(bad_id.json()["error"].as_str().unwrap().contains("id"), "{}", bad_id.body);
    let bad_json = c("POST", "/notes", &["-H", AUTH, "-H", JSON, "-d", "{"]).readable(400);
    assert_eq!(bad_json.json()["status"], 400);
    let no_token = c("POST", "/notes", &["-H", JSON, "-d", r#"{"title":"x"}"#]).readable(401);
    assert!(no_token.header("www-authenticate").unwrap_or("").starts_with("Bearer"));
    assert_eq!(no_token.json()["status"], 401);
    let not_allowed = c("PUT", "/notes", &["-H", AUTH, "-H", JSON, "-d", "{}"]).readable(405);
    assert!(not_allowed.header("allow").unwrap_or("").contains("POST"), "{}", not_allowed.head);
    assert_eq!(not_allowed.json()["status"], 405);
    let big = format!(r#"{{"title":"{}"}}"#, "x".repeat(100 << 10));
    let too_big = c("POST", "/notes", &["-H", AUTH, "-H", JSON, "-d", &big]).readable(413);
    assert_eq!(too_big.json()["status"], 413);

    // The stream saw each change, in order.
    let mut seen = Vec::new();
    while seen.len() < 3 {
        line.clear();
        assert_ne!(stream.read_line(&mut line).unwrap(), 0, "the stream ended after {seen:?}");
        if let Some(kind) = line.strip_prefix("event: ") {
            seen.push(kind.trim().to_owned());
        }
    }
    assert_eq!(seen, ["created", "updated", "deleted"]);

    // A graceful stop with the stream still open: exit status 0, the stream ended.
    let (code, took) = notes.stop();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(10), "stopping took {took:?}");
    eprintln!("the example stopped in {took:?} with a live stream");
    // The server closes a stream it shuts down on (curl: 18, the transfer cut), long before
    // curl's own limit (28).
    let status = events.wait().expect("curl ends");
    assert!(matches!(status.code(), Some(0 | 18)), "the stream did not end with the server: {status:?}");
}
