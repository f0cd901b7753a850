//! Opening files beneath a root gives what `resolve` decides, on real directories.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};

use super::{open, RootCache};
use crate::static_files::{resolve, StaticError};

/// A directory under the system's temporary one, removed on drop.
struct Base(PathBuf);

impl Base {
    fn new(tag: &str) -> Base {
        let p = std::env::temp_dir().join(format!("http-open-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        Base(p)
    }
}

impl Drop for Base {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// root/ with files, directories and links of every kind; outside/ next to it.
fn tree(base: &Path) -> PathBuf {
    let root = base.join("root");
    let outside = base.join("outside");
    for d in [root.join("sub"), root.join("empty"), root.join("noindex/index.html"), outside.clone()] {
        fs::create_dir_all(d).unwrap();
    }
    for (f, body) in [
        ("index.html", "home"),
        ("a.txt", "a"),
        ("100%.txt", "percent"),
        ("sub/page.html", "page"),
        ("sub/index.html", "sub home"),
    ] {
        fs::write(root.join(f), body).unwrap();
    }
    fs::write(outside.join("secret.txt"), "secret").unwrap();
    symlink(outside.join("secret.txt"), root.join("leak.txt")).unwrap();
    symlink("../outside/secret.txt", root.join("relative-leak.txt")).unwrap();
    symlink(&outside, root.join("leakdir")).unwrap();
    symlink("/", root.join("slash")).unwrap();
    symlink(root.join("sub/page.html"), root.join("inside.html")).unwrap();
    symlink("sub/page.html", root.join("relative-inside.html")).unwrap();
    symlink("sub", root.join("alias")).unwrap();
    symlink(root.join("gone"), root.join("dangling")).unwrap();
    symlink("/proc/self/root/etc/passwd", root.join("magic")).unwrap();
    root
}

fn identity(meta: &fs::Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

fn same_error(a: &StaticError, b: &StaticError) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b) && a.status() == b.status()
}

#[test]
fn agrees_with_resolve() {
    let base = Base::new("agree");
    let root = tree(&base.0);
    let cache = RootCache::default();
    let urls = [
        "",
        "/",
        "/a.txt",
        "/100%25.txt",
        "/sub",
        "/sub/",
        "/sub/page.html",
        "/empty/",
        "/noindex/",
        "/missing",
        "/a.txt/x",
        "/leak.txt",
        "/relative-leak.txt",
        "/leakdir/secret.txt",
        "/slash/etc/passwd",
        "/inside.html",
        "/relative-inside.html",
        "/alias/page.html",
        "/alias/",
        "/dangling",
        "/magic",
        "/../a.txt",
        "/%2e%2e/a.txt",
        "/.hidden",
        "/a\\b",
    ];
    for url in urls {
        match (resolve(&root, url), open(&root, &cache, url)) {
            (Ok(target), Ok(opened)) => {
                let expected = fs::metadata(&target).unwrap();
                assert_eq!(identity(&opened.meta), identity(&expected), "{url}");
                assert!(opened.meta.is_file(), "{url}");
            }
            (Err(a), Err(b)) => assert!(same_error(&a, &b), "{url}: resolve {a:?}, open {b:?}"),
            (a, b) => panic!("{url}: resolve {:?}, open {:?}", a.map(|_| ()), b.map(|_| ())),
        }
    }
}

#[test]
fn directories_and_names() {
    let base = Base::new("names");
    let root = tree(&base.0);
    let cache = RootCache::default();
    for (url, name, directory) in [
        ("/sub", "index.html", true),
        ("/sub/", "index.html", true),
        ("", "index.html", true),
        ("/a.txt", "a.txt", false),
        ("/alias/page.html", "page.html", false),
        ("/inside.html", "page.html", false),
    ] {
        let o = open(&root, &cache, url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!((o.name.as_str(), o.directory), (name, directory), "{url}");
    }
}

#[test]
fn a_fifo_is_not_found_and_never_waited_on() {
    let base = Base::new("fifo");
    let root = tree(&base.0);
    let fifo = root.join("pipe.txt");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        0,
    )
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let r = root.clone();
    std::thread::spawn(move || {
        let cache = RootCache::default();
        let _ = tx.send(open(&r, &cache, "/pipe.txt").map(|_| ()));
    });
    // Opening a FIFO for reading would wait for a writer.
    let answer = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("open returned");
    assert!(matches!(answer, Err(StaticError::NotFound)), "{answer:?}");
}

#[test]
fn a_root_that_appears_later_is_found() {
    let base = Base::new("later");
    let root = base.0.join("root");
    let cache = RootCache::default();
    assert!(matches!(open(&root, &cache, "/a.txt"), Err(StaticError::Io(_))));
    fs::create_dir(&root).unwrap();
    fs::write(root.join("a.txt"), "a").unwrap();
    assert!(open(&root, &cache, "/a.txt").is_ok());
}

#[test]
fn a_switched_root_link_is_followed_once_the_opened_root_is_old() {
    let base = Base::new("switch");
    for (d, body) in [("one", "first"), ("two", "second")] {
        fs::create_dir(base.0.join(d)).unwrap();
        fs::write(base.0.join(d).join("a.txt"), body).unwrap();
    }
    let root = base.0.join("current");
    symlink("one", &root).unwrap();
    let cache = RootCache::default();
    let read = |cache: &RootCache| {
        let mut s = String::new();
        open(&root, cache, "/a.txt").unwrap().file.read_to_string(&mut s).unwrap();
        s
    };
    assert_eq!(read(&cache), "first");
    // A deploy: the link is replaced at once.
    symlink("two", base.0.join("next")).unwrap();
    fs::rename(base.0.join("next"), &root).unwrap();
    assert_eq!(read(&RootCache::default()), "second");
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        assert_eq!(read(&cache), "first", "the root opened less than a second ago");
        super::beneath::age(&cache, super::beneath::ROOT_FRESH);
    }
    assert_eq!(read(&cache), "second");
}
