//! Static directories over real sockets: content types, index.html, redirects, validators
//! and 304, ranges, HEAD, gzip, dotfiles, and traversal attempts (dots in any encoding,
//! backslashes, NUL, symbolic links that leave the root).

mod server_support;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use http_toolkit::server::ServerHandle;
use http_toolkit::utils::Method;
use server_support::{addr, raw, start, status_of, Client};

struct Tree {
    base: PathBuf,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.base);
    }
}

/// base/root (served) and base/outside (never served).
fn tree(name: &str) -> Tree {
    let base = std::env::temp_dir().join(format!("http-static-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let root = base.join("root");
    fs::create_dir_all(root.join("sub")).unwrap();
    fs::create_dir_all(root.join("noindex")).unwrap();
    fs::create_dir_all(base.join("outside")).unwrap();
    fs::write(root.join("index.html"), "<h1>root index</h1>").unwrap();
    fs::write(root.join("a.txt"), "abcdefghijklmnopqrstuvwxyz").unwrap();
    fs::write(root.join("style.css"), "body{}").unwrap();
    fs::write(root.join("data.bin"), [0u8, 1, 2, 3]).unwrap();
    fs::write(root.join("empty.txt"), "").unwrap();
    fs::write(root.join("big.txt"), "All work and no play makes a dull server.\n".repeat(1600)).unwrap();
    fs::write(root.join("sub").join("index.html"), "sub index").unwrap();
    fs::write(root.join(".env"), "SECRET=1").unwrap();
    fs::write(root.join("sub").join(".hidden"), "hidden").unwrap();
    fs::write(base.join("outside").join("secret.txt"), "outside secret").unwrap();
    fs::write(base.join("secret.txt"), "base secret").unwrap();
    #[cfg(unix)]
    links(&base, &root);
    Tree { base }
}

/// Symbolic links inside the root, to it and out of it. Unix only: Windows needs a privilege to
/// make them, and under Wine 8 `CreateSymbolicLinkW` reports success but leaves no link.
#[cfg(unix)]
fn links(base: &Path, root: &Path) {
    std::os::unix::fs::symlink(base.join("outside").join("secret.txt"), root.join("link-out.txt")).unwrap();
    std::os::unix::fs::symlink(base.join("outside"), root.join("linkdir")).unwrap();
    std::os::unix::fs::symlink(root.join("a.txt"), root.join("link-in.txt")).unwrap();
    std::os::unix::fs::symlink("sub/index.html", root.join("relative-in.html")).unwrap();
    std::os::unix::fs::symlink("../outside/secret.txt", root.join("relative-out.txt")).unwrap();
}

fn serve(root: &Path) -> ServerHandle {
    let root = root.to_path_buf();
    start(|b| b, move |s| s.serve_dir("/files", root).unwrap())
}

#[test]
fn files_types_index_and_redirects() {
    let t = tree("basic");
    let h = serve(&t.base.join("root"));
    let mut c = Client::connect(addr(&h));
    let r = c.get("/files/a.txt");
    assert_eq!((r.status(), r.text().as_str()), (200, "abcdefghijklmnopqrstuvwxyz"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("content-length"), Some("26"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert!(r.header("etag").unwrap().starts_with('"'));
    assert!(r.header("last-modified").unwrap().ends_with("GMT"));
    assert_eq!(c.get("/files/style.css").header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(c.get("/files/data.bin").header("content-type"), Some("application/octet-stream"));
    assert_eq!(c.get("/files/").text(), "<h1>root index</h1>");
    assert_eq!(c.get("/files/sub/").text(), "sub index");
    let r = c.get("/files/sub?x=1");
    assert_eq!((r.status(), r.header("location")), (301, Some("/files/sub/?x=1")));
    let r = c.get("/files");
    assert_eq!((r.status(), r.header("location")), (301, Some("/files/")));
    assert_eq!(c.get("/files/noindex/").status(), 404);
    assert_eq!(c.get("/files/nothing.txt").status(), 404);
    #[cfg(unix)]
    assert_eq!(c.get("/files/link-in.txt").text(), "abcdefghijklmnopqrstuvwxyz");
    c.send(b"POST /files/a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    let r = c.read();
    assert_eq!((r.status(), r.header("allow")), (405, Some("GET, HEAD")));
    // A large file arrives whole (it is streamed, not read into memory).
    let r = c.get("/files/big.txt");
    assert_eq!(r.body.len(), 42 * 1600);
}

#[test]
fn file_responses_back_to_back_on_one_connection() {
    let t = tree("pipelined");
    let h = serve(&t.base.join("root"));
    let mut c = Client::connect(addr(&h));
    // Heads that a file follows are held back for the file's first bytes; an empty file has
    // none, and its head must still go out.
    let r = c.get("/files/empty.txt");
    assert_eq!((r.status(), r.header("content-length"), r.body.len()), (200, Some("0"), 0));
    let mut many = String::new();
    // The last is a relative link to sub/index.html where links can be made (see `links`).
    let last = if cfg!(unix) { "relative-in.html" } else { "sub/index.html" };
    for path in ["empty.txt", "a.txt", "data.bin", "empty.txt", "big.txt", last] {
        many.push_str(&format!("GET /files/{path} HTTP/1.1\r\nHost: t\r\n\r\n"));
    }
    c.send(many.as_bytes());
    assert_eq!(c.read().body.len(), 0);
    assert_eq!(c.read().text(), "abcdefghijklmnopqrstuvwxyz");
    assert_eq!(c.read().body, [0u8, 1, 2, 3]);
    assert_eq!(c.read().body.len(), 0);
    assert_eq!(c.read().body.len(), 42 * 1600);
    assert_eq!(c.read().text(), "sub index");
    assert_eq!(c.get("/files/relative-out.txt").status(), 404);
}

#[test]
fn validators_ranges_and_head() {
    let t = tree("cond");
    let h = serve(&t.base.join("root"));
    let mut c = Client::connect(addr(&h));
    let first = c.get("/files/a.txt");
    let tag = first.header("etag").unwrap().to_owned();
    let date = first.header("last-modified").unwrap().to_owned();
    let req = |extra: &str| format!("GET /files/a.txt HTTP/1.1\r\nHost: t\r\n{extra}\r\n");

    c.send(req(&format!("If-None-Match: \"nope\", {tag}\r\n")).as_bytes());
    let r = c.read();
    assert_eq!((r.status(), r.body.len(), r.header("etag")), (304, 0, Some(tag.as_str())));
    c.send(req(&format!("If-Modified-Since: {date}\r\n")).as_bytes());
    assert_eq!(c.read().status(), 304);
    c.send(req("If-None-Match: \"other\"\r\n").as_bytes());
    assert_eq!(c.read().status(), 200);
    c.send(req("If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n").as_bytes());
    assert_eq!(c.read().status(), 200);

    c.send(req("Range: bytes=0-4\r\n").as_bytes());
    let r = c.read();
    assert_eq!(
        (r.status(), r.text().as_str(), r.header("content-range")),
        (206, "abcde", Some("bytes 0-4/26"))
    );
    c.send(req("Range: bytes=-3\r\n").as_bytes());
    assert_eq!(c.read().text(), "xyz");
    c.send(req("Range: bytes=20-\r\n").as_bytes());
    assert_eq!(c.read().text(), "uvwxyz");
    c.send(req("Range: bytes=26-\r\n").as_bytes());
    let r = c.read();
    assert_eq!((r.status(), r.header("content-range")), (416, Some("bytes */26")));
    c.send(req("Range: bytes=0-1,5-6\r\n").as_bytes());
    assert_eq!(c.read().body.len(), 26);
    c.send(req(&format!("Range: bytes=0-1\r\nIf-Range: {tag}\r\n")).as_bytes());
    assert_eq!(c.read().status(), 206);
    c.send(req("Range: bytes=0-1\r\nIf-Range: \"stale\"\r\n").as_bytes());
    assert_eq!(c.read().status(), 200);

    c.send(b"HEAD /files/a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.try_read(&Method::Head).unwrap();
    assert_eq!((r.status(), r.header("content-length"), r.body.len()), (200, Some("26"), 0));
    assert_eq!(r.header("etag"), Some(tag.as_str()));
    // The connection is still in step after all that.
    assert_eq!(c.get("/files/sub/").text(), "sub index");
}

#[test]
fn gzip_for_large_text_when_accepted() {
    let t = tree("gzip");
    let h = serve(&t.base.join("root"));
    let mut c = Client::connect(addr(&h));
    let plain = c.get("/files/big.txt");
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
    assert!(plain.header("content-encoding").is_none());
    let strong = plain.header("etag").unwrap().to_owned();

    c.send(b"GET /files/big.txt HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip, br\r\n\r\n");
    let r = c.read();
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    assert_eq!(r.header("etag"), Some(format!("W/{strong}").as_str()));
    assert!(r.body.len() < plain.body.len() / 10, "{} bytes", r.body.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&r.body[..]).read_to_end(&mut unzipped).unwrap();
    assert_eq!(unzipped, plain.body);

    // 304 for the weak tag, 206 uncompressed, small files and binary types untouched.
    c.send(format!("GET /files/big.txt HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nIf-None-Match: W/{strong}\r\n\r\n").as_bytes());
    assert_eq!(c.read().status(), 304);
    c.send(b"GET /files/big.txt HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nRange: bytes=0-9\r\n\r\n");
    let r = c.read();
    assert_eq!((r.status(), r.header("content-encoding"), r.body.len()), (206, None, 10));
    c.send(b"GET /files/a.txt HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n");
    assert!(c.read().header("content-encoding").is_none());
    c.send(b"GET /files/big.txt HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip;q=0\r\n\r\n");
    assert!(c.read().header("content-encoding").is_none());
    // HEAD: the headers a GET would get, without a length.
    c.send(b"HEAD /files/big.txt HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n");
    let r = c.try_read(&Method::Head).unwrap();
    assert_eq!((r.header("content-encoding"), r.header("content-length")), (Some("gzip"), None));
    assert_eq!(c.get("/files/a.txt").status(), 200);
}

#[test]
fn nothing_outside_the_root_and_no_dotfiles() {
    let t = tree("traversal");
    let h = serve(&t.base.join("root"));
    let a = addr(&h);
    let attempts = [
        "/files/../secret.txt",
        "/files/../../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/%2E%2E/outside/secret.txt",
        "/files/.%2e/secret.txt",
        "/files/%2e%2e%2fsecret.txt",
        "/files/sub/..%2f..%2fsecret.txt",
        "/files/sub%2f..%2f..%2fsecret.txt",
        "/files/sub/%2e%2e/%2e%2e/secret.txt",
        "/files/..%5csecret.txt",
        "/files/sub%5c..%5c..%5csecret.txt",
        "/files/%252e%252e/secret.txt",
        "/files/link-out.txt",
        "/files/linkdir/secret.txt",
        "/files/linkdir/",
        "/files/.env",
        "/files/%2eenv",
        "/files/%2F.env",
        "/files/sub%2F..%2F.env",
        "/files/x%2f.env",
        "/files/sub/.hidden",
        "/files/a.txt%00.html",
        "/files//etc/passwd",
        "/files/%2fetc%2fpasswd",
    ];
    for target in attempts {
        let reply =
            raw(a, format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes());
        let status = status_of(&reply);
        assert!(matches!(status, 400 | 404), "{target}: {status}\n{reply}");
        assert!(
            !reply.contains("secret") && !reply.contains("SECRET") && !reply.contains("root:"),
            "{target}\n{reply}"
        );
    }
    // Still serving normally afterwards.
    assert_eq!(Client::connect(a).get("/files/a.txt").status(), 200);
}
