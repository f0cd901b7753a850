//! Serving a directory: a handler made of the decisions in [`static_files`](crate::static_files).
//!
//! [`Server::serve_dir`](crate::Server::serve_dir) registers one for a URL prefix;
//! [`StaticDir`](crate::StaticDir) makes one for any route.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::handler::context::Context;
use crate::handler::response::Response;
use crate::static_files::open::{open, Opened, RootCache};
use crate::static_files::{
    content_range, content_type_for, etag, evaluate_range, is_not_modified, unsatisfied_range, ByteRange,
    EtagKind, StaticError,
};

/// Serves the files under a root directory.
///
/// For a URL path (the still-encoded rest of the request path below the route's prefix):
///
/// | request | answer |
/// | --- | --- |
/// | a file | 200, streamed (never read whole), `Content-Type` by extension, `Content-Length`, `ETag`, `Last-Modified`, `Accept-Ranges: bytes` |
/// | a directory, path ending in `/` | its `index.html`, or 404 |
/// | a directory, path without the final `/` | 301 to the same path with `/` |
/// | `If-None-Match` / `If-Modified-Since` that match | 304 with the validators |
/// | a single `Range` (with `If-Range` honoured) | 206 with `Content-Range`, or 416 with `bytes */len` |
/// | several ranges, a malformed `Range` | the whole file, 200 |
/// | `HEAD` | the same headers, no body |
/// | a segment starting with `.` (dotfiles, `..` in any encoding) | 404 |
/// | a backslash, NUL, invalid UTF-8 | 400 |
/// | anything that leads outside the root (symbolic links included) | 404 |
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use http_server::{Server, StaticDir};
/// use http_utils::Method;
/// let server = Server::builder().port(0).bind("127.0.0.1").build()?;
/// let dir = StaticDir::new(std::env::temp_dir());
/// server.route(Method::Get, "/assets/{file...}", dir.handler("file")).unwrap();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct StaticDir {
    root: PathBuf,
    /// The root held open (shared by clones).
    cache: Arc<RootCache>,
}

impl StaticDir {
    /// Files under `root`. The files are looked up when each request is served; the root
    /// directory itself at most a second earlier (on Linux it is held open for up to a
    /// second), so a root that appears later is found, and a root that is a link switched to
    /// another directory is followed within a second.
    pub fn new(root: impl Into<PathBuf>) -> StaticDir {
        StaticDir { root: root.into(), cache: Arc::default() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A route handler serving the path its pattern captured as `{capture...}`.
    pub fn handler(self, capture: &str) -> impl Fn(&mut Context<'_>) -> Response + Send + Sync + 'static {
        let dir = Arc::new(self);
        let capture = capture.to_owned();
        move |cx: &mut Context<'_>| {
            let raw = cx.captures().raw(&capture).unwrap_or("").to_owned();
            dir.serve(cx, &raw)
        }
    }

    /// Answers the request in `cx` with the file at `url_path` (still percent-encoded,
    /// relative to the root).
    pub fn serve(&self, cx: &mut Context<'_>, url_path: &str) -> Response {
        if has_hidden_segment(url_path) {
            return cx.error_response(404, "Not Found");
        }
        let opened = match open(&self.root, &self.cache, url_path) {
            Ok(o) => o,
            Err(e) => return static_error(cx, &e),
        };
        if !url_path.is_empty() && !url_path.ends_with('/') && opened.directory {
            let mut location = cx.raw_path().to_owned();
            location.push('/');
            if let Some(q) = cx.request().query() {
                location.push('?');
                location.push_str(q);
            }
            return Response::redirect(301, &location);
        }
        let Opened { file, meta, name, .. } = opened;
        let len = meta.len();
        let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
        let tag = etag(len, modified, EtagKind::Strong);
        let last_modified = httpdate::fmt_http_date(modified);
        let headers = cx.request().headers();
        if is_not_modified(headers.get("if-none-match"), headers.get("if-modified-since"), &tag, modified) {
            return Response::new(304).with_header("ETag", &tag).with_header("Last-Modified", &last_modified);
        }
        let range = match headers.get("range") {
            Some(r) => evaluate_range(r, headers.get("if-range"), len, &tag, modified),
            None => ByteRange::Ignore,
        };
        let content_type = content_type_for(Path::new(&name));
        let base = |r: Response| {
            r.with_content_type(content_type)
                .with_header("ETag", &tag)
                .with_header("Last-Modified", &last_modified)
                .with_header("Accept-Ranges", "bytes")
        };
        match range {
            ByteRange::Ignore => base(Response::file(file, 0, len)),
            ByteRange::Satisfiable { start, end } => {
                let n = end - start + 1;
                base(Response::file(file, start, n))
                    .with_status(206)
                    .with_header("Content-Range", &content_range(start, end, len))
            }
            ByteRange::Unsatisfiable => cx
                .error_response(416, "Range Not Satisfiable")
                .with_header("Content-Range", &unsatisfied_range(len)),
        }
    }
}

/// True when a decoded segment starts with `.` (dotfiles, `..`), except the `.` segment.
/// Read from the encoded bytes: a decoded segment starts with `.` exactly when the encoded
/// one starts with `.` or `%2e` (either case), and is `.` when the encoded one is `.` or `%2e`.
fn has_hidden_segment(url_path: &str) -> bool {
    url_path.split('/').any(|seg| {
        let b = seg.as_bytes();
        let escaped_dot =
            |b: &[u8]| b.len() >= 3 && b[0] == b'%' && b[1] == b'2' && b[2].eq_ignore_ascii_case(&b'e');
        let dot_first = b.first() == Some(&b'.') || escaped_dot(b);
        dot_first && seg != "." && !(b.len() == 3 && escaped_dot(b))
    })
}

fn static_error(cx: &Context<'_>, e: &StaticError) -> Response {
    let status = e.status();
    cx.error_response(status, http_utils::reason_phrase(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_segments() {
        assert!(has_hidden_segment(".env"));
        assert!(has_hidden_segment("a/.git/config"));
        assert!(has_hidden_segment("a/%2egit/config"));
        assert!(has_hidden_segment("%2E%2E/x"));
        assert!(has_hidden_segment("a/../b"));
        assert!(!has_hidden_segment("a/./b"));
        assert!(!has_hidden_segment("a.b/c.txt"));
        assert!(!has_hidden_segment(""));
        assert!(!has_hidden_segment("a/%2e/b"));
        assert!(!has_hidden_segment("a/%2E"));
        assert!(has_hidden_segment("a/%2E%2e"));
        assert!(has_hidden_segment("%2eenv"));
        assert!(!has_hidden_segment("a%2e/b"));
    }
}
