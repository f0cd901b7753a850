use super::*;

use std::fs;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let name = format!(
            "http-server-static-{tag}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let dir = std::env::temp_dir().join(name);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// root/
///   index.html, style.css, a b.txt, 100%.txt, %2e%2e (a file so named)
///   sub/page.html, sub/index.html
///   empty/ (no index)
///   noindex/index.html/ (a directory named index.html)
/// outside/secret.txt (next to root)
fn tree() -> (TempDir, PathBuf, PathBuf) {
    let base = TempDir::new("tree");
    let root = base.path().join("root");
    let outside = base.path().join("outside");
    for d in [&root, &root.join("sub"), &root.join("empty"), &root.join("noindex/index.html"), &outside] {
        fs::create_dir_all(d).unwrap();
    }
    for (f, body) in [
        ("index.html", "<h1>home</h1>"),
        ("style.css", "body{}"),
        ("a b.txt", "spaced"),
        ("100%.txt", "percent"),
        ("%2e%2e", "dots"),
        ("sub/page.html", "page"),
        ("sub/index.html", "sub home"),
    ] {
        fs::write(root.join(f), body).unwrap();
    }
    fs::write(outside.join("secret.txt"), "secret").unwrap();
    (base, root, outside)
}

#[test]
fn content_types() {
    let table = [
        ("index.html", "text/html; charset=utf-8"),
        ("x.HTM", "text/html; charset=utf-8"),
        ("a.css", "text/css; charset=utf-8"),
        ("a.js", "text/javascript; charset=utf-8"),
        ("a.mjs", "text/javascript; charset=utf-8"),
        ("a.json", "application/json"),
        ("a.txt", "text/plain; charset=utf-8"),
        ("a.svg", "image/svg+xml"),
        ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.JPEG", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.webp", "image/webp"),
        ("favicon.ico", "image/x-icon"),
        ("a.wasm", "application/wasm"),
        ("a.pdf", "application/pdf"),
        ("a.xml", "application/xml"),
        ("a.woff", "font/woff"),
        ("a.woff2", "font/woff2"),
        ("a.mp4", "video/mp4"),
        ("archive.tar.gz", "application/gzip"),
        ("Makefile", "application/octet-stream"),
        (".bashrc", "application/octet-stream"),
        ("a.unknown", "application/octet-stream"),
        ("dir.d/file", "application/octet-stream"),
    ];
    for (name, want) in table {
        assert_eq!(content_type_for(Path::new(name)), want, "{name}");
    }
}

#[test]
fn resolves_inside_the_root() {
    let (_base, root, _) = tree();
    let croot = root.canonicalize().unwrap();
    let ok = [
        ("/", "index.html"),
        ("", "index.html"),
        ("index.html", "index.html"),
        ("/style.css", "style.css"),
        ("/./style.css", "style.css"),
        ("//style.css", "style.css"),
        ("/a%20b.txt", "a b.txt"),
        ("/100%25.txt", "100%.txt"),
        ("/100%.txt", "100%.txt"),
        ("/%252e%252e", "%2e%2e"),
        ("/sub", "sub/index.html"),
        ("/sub/", "sub/index.html"),
        ("/sub/page.html", "sub/page.html"),
        ("/s%75b/page.html", "sub/page.html"),
    ];
    for (url, want) in ok {
        let got = resolve(&root, url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(got, croot.join(want), "{url}");
        assert!(got.starts_with(&croot));
    }
}

#[test]
fn refuses_traversal_and_odd_bytes() {
    let (_base, root, _) = tree();
    let invalid = [
        "/../outside/secret.txt",
        "/sub/../../outside/secret.txt",
        "/sub/../index.html",
        "..",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E/outside/secret.txt",
        "/.%2e/outside/secret.txt",
        "/%2e./outside/secret.txt",
        "/sub/%2e%2e/%2e%2e/outside/secret.txt",
        "/..%2foutside/secret.txt",
        "/sub%2f..%2f..%2foutside/secret.txt",
        "/..\\outside\\secret.txt",
        "/sub%5c..%5c..%5coutside/secret.txt",
        "/index.html%00.txt",
        "/index.html\0",
        "/%ff.txt",
    ];
    for url in invalid {
        let err = resolve(&root, url).unwrap_err();
        assert!(matches!(err, StaticError::InvalidPath), "{url}: {err:?}");
        assert_eq!(err.status(), 400);
    }
    let missing = ["/nope.txt", "/sub/nope", "/index.html/x", "/empty", "/empty/", "/noindex/"];
    for url in missing {
        let err = resolve(&root, url).unwrap_err();
        assert!(matches!(err, StaticError::NotFound), "{url}: {err:?}");
        assert_eq!(err.status(), 404);
    }
    // A root that does not exist is the server's fault.
    let err = resolve(&root.join("missing-root"), "/x").unwrap_err();
    assert!(matches!(err, StaticError::Io(_)), "{err:?}");
    assert_eq!(err.status(), 500);
    assert!(std::error::Error::source(&err).is_some());
}

/// Dotfiles are never served, however the path spells them: `StaticDir` checked the raw
/// segments, so `a%2F.env` (one raw segment, decoded to `a/.env`) reached `.env`.
#[test]
fn refuses_dotfiles() {
    let (_base, root, _) = tree();
    fs::write(root.join(".env"), "KEY=1").unwrap();
    fs::create_dir(root.join(".git")).unwrap();
    fs::write(root.join(".git/config"), "[core]").unwrap();
    fs::write(root.join("sub/.htpasswd"), "x").unwrap();
    for url in [
        "/.env",
        ".env",
        "/%2eenv",
        "/%2Eenv",
        "/x%2F.env",
        "/%2F.env",
        "/.git/config",
        "/.git/",
        "/.git",
        "/sub/.htpasswd",
        "/sub%2f.htpasswd",
        "/./.env",
    ] {
        let err = resolve(&root, url).unwrap_err();
        assert!(matches!(err, StaticError::NotFound), "{url}: {err:?}");
    }
    // `..` is refused as before, even after a hidden name.
    assert!(matches!(resolve(&root, "/.git/../index.html"), Err(StaticError::InvalidPath)));
    assert!(matches!(resolve(&root, "/.env%2F.."), Err(StaticError::InvalidPath)));
}

/// Found by the `static_resolve` fuzz target: a segment longer than the file system's
/// `NAME_MAX` made `canonicalize` fail with ENAMETOOLONG, answered 500.
#[test]
fn overlong_names_are_not_found() {
    let (_base, root, _) = tree();
    for url in ["X".repeat(300), format!("/sub/{}", "X".repeat(256)), format!("/{}/a", "%58".repeat(300))] {
        let err = resolve(&root, &url).unwrap_err();
        assert!(matches!(err, StaticError::NotFound), "{url}: {err:?}");
        assert_eq!(err.status(), 404);
    }
}

#[cfg(unix)]
#[test]
fn symlinks_that_leave_the_root_are_refused() {
    use std::os::unix::fs::symlink;
    let (_base, root, outside) = tree();
    let croot = root.canonicalize().unwrap();
    symlink(outside.join("secret.txt"), root.join("leak.txt")).unwrap();
    symlink(&outside, root.join("leakdir")).unwrap();
    symlink("/", root.join("slash")).unwrap();
    symlink("../../outside/secret.txt", root.join("sub/relative-leak")).unwrap();
    symlink(root.join("sub/page.html"), root.join("inside.html")).unwrap();
    symlink("sub", root.join("alias")).unwrap();
    // A directory whose index.html leads outside.
    fs::create_dir(root.join("trap")).unwrap();
    symlink(outside.join("secret.txt"), root.join("trap/index.html")).unwrap();
    for url in
        ["/leak.txt", "/leakdir/secret.txt", "/leakdir", "/slash/etc/passwd", "/sub/relative-leak", "/trap/"]
    {
        let err = resolve(&root, url).unwrap_err();
        assert!(matches!(err, StaticError::OutsideRoot), "{url}: {err:?}");
        assert_eq!(err.status(), 404);
    }
    // Links that stay inside are followed.
    assert_eq!(resolve(&root, "/inside.html").unwrap(), croot.join("sub/page.html"));
    assert_eq!(resolve(&root, "/alias/page.html").unwrap(), croot.join("sub/page.html"));
    // A root that is itself a link works.
    let link_root = root.with_file_name("root-link");
    symlink(&root, &link_root).unwrap();
    assert_eq!(resolve(&link_root, "/style.css").unwrap(), croot.join("style.css"));
    // A dangling link is just missing.
    symlink(root.join("gone"), root.join("dangling")).unwrap();
    assert!(matches!(resolve(&root, "/dangling"), Err(StaticError::NotFound)));
}

#[test]
fn temp_dirs_are_cleaned_up() {
    let dir = TempDir::new("cleanup");
    let path = dir.path().to_owned();
    fs::write(path.join("f"), "x").unwrap();
    drop(dir);
    assert!(!path.exists());
}

#[test]
fn etags_from_real_files() {
    let (_base, root, _) = tree();
    let file = resolve(&root, "/style.css").unwrap();
    let meta = fs::metadata(&file).unwrap();
    let modified = meta.modified().unwrap();
    let strong = etag(meta.len(), modified, EtagKind::Strong);
    let weak = etag(meta.len(), modified, EtagKind::Weak);
    assert!(strong.starts_with('"') && strong.ends_with('"'));
    assert_eq!(weak, format!("W/{strong}"));
    assert!(parse_tag_list(&strong).unwrap() == [(false, strong.as_str())]);
    // Another length or time gives another tag.
    assert_ne!(etag(meta.len() + 1, modified, EtagKind::Strong), strong);
    assert_ne!(etag(meta.len(), modified + Duration::from_nanos(1), EtagKind::Strong), strong);
    assert_eq!(etag(0, UNIX_EPOCH - Duration::from_secs(5), EtagKind::Strong), "\"0.0-0\"");
    // The file itself answers conditional requests.
    assert!(is_not_modified(Some(&strong), None, &strong, modified));
    assert!(is_not_modified(Some(&weak), None, &strong, modified));
    assert!(is_not_modified(None, Some(&http_utils::http_date(modified)), &strong, modified));
}

#[test]
fn tag_lists() {
    assert_eq!(parse_tag_list("*"), None);
    assert_eq!(parse_tag_list(" * "), None);
    assert_eq!(parse_tag_list("\"a\""), Some(vec![(false, "\"a\"")]));
    assert_eq!(
        parse_tag_list("W/\"a\", \"b,c\" ,\"\""),
        Some(vec![(true, "\"a\""), (false, "\"b,c\""), (false, "\"\"")])
    );
    assert_eq!(parse_tag_list("\"a\", junk, \"b\""), Some(vec![(false, "\"a\"")]));
    assert_eq!(parse_tag_list("\"a"), Some(vec![]));
    assert_eq!(parse_tag_list("\"a b\""), Some(vec![]));
    assert_eq!(parse_tag_list("\"a\"x"), Some(vec![]));
    assert_eq!(parse_tag_list("w/\"a\""), Some(vec![]));
    assert_eq!(parse_tag_list(""), Some(vec![]));
}

#[test]
fn conditional_requests() {
    let t = UNIX_EPOCH + Duration::new(1_700_000_000, 500_000_000);
    let tag = "\"abc\"";
    let date = "Tue, 14 Nov 2023 22:13:20 GMT"; // = t, in whole seconds
    let before = "Tue, 14 Nov 2023 22:13:19 GMT";
    let after = "Tue, 14 Nov 2023 22:13:21 GMT";
    let table: &[(Option<&str>, Option<&str>, bool)] = &[
        (None, None, false),
        (Some("\"abc\""), None, true),
        (Some("W/\"abc\""), None, true),
        (Some("\"x\", \"abc\""), None, true),
        (Some("*"), None, true),
        (Some("\"x\""), None, false),
        (Some("\"ab\""), None, false),
        (Some("abc"), None, false),
        (Some(""), None, false),
        // If-None-Match present: If-Modified-Since is not looked at.
        (Some("\"x\""), Some(date), false),
        (Some("\"abc\""), Some(before), true),
        (None, Some(date), true),
        (None, Some(after), true),
        (None, Some(before), false),
        (None, Some("Tuesday, 14-Nov-23 22:13:20 GMT"), true),
        (None, Some("Tue Nov 14 22:13:20 2023"), true),
        (None, Some("yesterday"), false),
        (None, Some(""), false),
    ];
    for &(inm, ims, want) in table {
        assert_eq!(is_not_modified(inm, ims, tag, t), want, "{inm:?} {ims:?}");
    }
    // Our weak tag still matches a strong one from the client (weak comparison).
    assert!(is_not_modified(Some("\"abc\""), None, "W/\"abc\"", t));
}

#[test]
fn ranges() {
    use ByteRange::*;
    let table: &[(&str, u64, ByteRange)] = &[
        ("bytes=0-0", 10, Satisfiable { start: 0, end: 0 }),
        ("bytes=0-9", 10, Satisfiable { start: 0, end: 9 }),
        ("bytes=0-99", 10, Satisfiable { start: 0, end: 9 }),
        ("bytes=3-", 10, Satisfiable { start: 3, end: 9 }),
        ("bytes=9-", 10, Satisfiable { start: 9, end: 9 }),
        ("bytes=-1", 10, Satisfiable { start: 9, end: 9 }),
        ("bytes=-10", 10, Satisfiable { start: 0, end: 9 }),
        ("bytes=-99", 10, Satisfiable { start: 0, end: 9 }),
        ("Bytes = 2-4 ", 10, Satisfiable { start: 2, end: 4 }),
        ("bytes=2-4,", 10, Satisfiable { start: 2, end: 4 }),
        ("bytes=0-99999999999999999999999", 10, Satisfiable { start: 0, end: 9 }),
        ("bytes=10-", 10, Unsatisfiable),
        ("bytes=10-20", 10, Unsatisfiable),
        ("bytes=99999999999999999999999-", 10, Unsatisfiable),
        ("bytes=-0", 10, Unsatisfiable),
        ("bytes=0-", 0, Unsatisfiable),
        ("bytes=-5", 0, Unsatisfiable),
        ("bytes=5-4", 10, Ignore),
        ("bytes=0-1,3-4", 10, Ignore),
        ("bytes=0-1, 20-30", 10, Ignore),
        ("bytes=", 10, Ignore),
        ("bytes=-", 10, Ignore),
        ("bytes=a-b", 10, Ignore),
        ("bytes=+1-2", 10, Ignore),
        ("bytes=1-+2", 10, Ignore),
        ("bytes=1 -2", 10, Ignore),
        ("bytes=--1", 10, Ignore),
        ("bytes=1", 10, Ignore),
        ("bytes 0-1", 10, Ignore),
        ("items=0-1", 10, Ignore),
        ("", 10, Ignore),
    ];
    for &(value, len, want) in table {
        assert_eq!(parse_range(value, len), want, "{value:?} of {len}");
    }
    assert_eq!(content_range(2, 4, 10), "bytes 2-4/10");
    assert_eq!(unsatisfied_range(10), "bytes */10");
}

#[test]
fn if_range() {
    let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let strong = "\"v1\"";
    let date = "Tue, 14 Nov 2023 22:13:20 GMT";
    assert!(if_range_allows("\"v1\"", strong, t));
    assert!(!if_range_allows("\"v2\"", strong, t));
    assert!(!if_range_allows("W/\"v1\"", strong, t));
    assert!(!if_range_allows("\"v1\"", "W/\"v1\"", t));
    assert!(!if_range_allows("\"v1", "\"v1", t));
    assert!(if_range_allows(date, strong, t));
    assert!(!if_range_allows(date, strong, t + Duration::from_secs(1)));
    assert!(if_range_allows(date, strong, t + Duration::from_millis(999)));
    assert!(!if_range_allows("garbage", strong, t));
    // Combined with Range.
    let r = "bytes=0-1";
    assert_eq!(evaluate_range(r, None, 10, strong, t), ByteRange::Satisfiable { start: 0, end: 1 });
    assert_eq!(evaluate_range(r, Some("\"v1\""), 10, strong, t), ByteRange::Satisfiable { start: 0, end: 1 });
    assert_eq!(evaluate_range(r, Some("\"old\""), 10, strong, t), ByteRange::Ignore);
    assert_eq!(evaluate_range("bytes=50-", Some("\"old\""), 10, strong, t), ByteRange::Ignore);
    assert_eq!(evaluate_range("bytes=50-", Some(date), 10, strong, t), ByteRange::Unsatisfiable);
}
