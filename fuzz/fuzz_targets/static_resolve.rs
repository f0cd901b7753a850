//! `static_files::resolve` on any URL path, over a small fixed tree made once per process:
//!
//! ```text
//! outside/secret.txt
//! root/a.txt
//! root/sub/index.html, root/sub/b.txt
//! root/empty/                  (a directory without index.html)
//! root/.env, root/.git/config  (dotfiles)
//! root/inside -> a.txt         (a link that stays inside)
//! root/out -> ../outside       (links that lead outside)
//! root/leak -> ../outside/secret.txt
//! ```
//!
//! Invariants: no panic; an `Ok` path is inside the canonical root, names no segment starting
//! with `.` below it, is a regular file, and is what resolving it again gives; a path with a
//! `..` segment (in any encoding) never resolves; `outside/secret.txt` is never reached; an
//! error is 400 or 404, never a server error, since the tree is readable.

#![no_main]

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use http_server::static_files::resolve;
use http_utils::percent_decode_bytes;
use libfuzzer_sys::fuzz_target;

struct Tree {
    root: PathBuf,
    canonical_root: PathBuf,
    secret: PathBuf,
}

fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        let base = std::env::temp_dir().join(format!("http-toolkit-fuzz-resolve-{}", std::process::id()));
        let root = base.join("root");
        let outside = base.join("outside");
        for d in [root.join("sub"), root.join("empty"), root.join(".git"), outside.clone()] {
            std::fs::create_dir_all(d).expect("create the tree");
        }
        for (f, body) in [
            (outside.join("secret.txt"), "secret"),
            (root.join("a.txt"), "a"),
            (root.join("sub/index.html"), "<p>index</p>"),
            (root.join("sub/b.txt"), "b"),
            (root.join(".env"), "KEY=1"),
            (root.join(".git/config"), "[core]"),
        ] {
            std::fs::write(f, body).expect("write the tree");
        }
        for (target, link) in [("a.txt", "inside"), ("../outside", "out"), ("../outside/secret.txt", "leak")]
        {
            let link = root.join(link);
            if std::fs::symlink_metadata(&link).is_err() {
                std::os::unix::fs::symlink(target, link).expect("make the links");
            }
        }
        let canonical_root = root.canonicalize().expect("canonical root");
        let secret = outside.join("secret.txt").canonicalize().expect("canonical secret");
        Tree { root, canonical_root, secret }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(url_path) = std::str::from_utf8(data) else { return };
    let t = tree();
    let result = resolve(&t.root, url_path);
    let decoded = percent_decode_bytes(url_path.as_bytes());
    let has_dotdot = decoded.split(|&b| b == b'/').any(|s| s == b"..");
    match result {
        Ok(path) => {
            assert!(!has_dotdot, "{url_path:?} with '..' resolved to {path:?}");
            assert!(path.starts_with(&t.canonical_root), "{url_path:?} gave {path:?}, outside the root");
            assert_ne!(path, t.secret);
            let below = path.strip_prefix(&t.canonical_root).expect("inside the root");
            for c in below.components() {
                let Component::Normal(name) = c else { panic!("{url_path:?} gave {path:?}") };
                assert!(!name.as_encoded_bytes().starts_with(b"."), "{url_path:?} names a dotfile: {path:?}");
            }
            let meta = std::fs::metadata(&path).expect("the resolved file exists");
            assert!(meta.is_file(), "{path:?}");
            assert_eq!(path.canonicalize().ok().as_deref(), Some(path.as_path()));
            let again = below.to_str().expect("the tree's names are UTF-8");
            assert_eq!(resolve(&t.root, again).ok().as_deref(), Some(path.as_path()), "{again:?}");
            assert!(Path::new(&path).is_absolute());
        }
        Err(e) => {
            // The tree is readable and the root exists: whatever the client sends is its own
            // fault (400) or not there (404), never a server error.
            assert!(matches!(e.status(), 400 | 404), "{url_path:?}: {e:?}");
            assert!(!e.to_string().is_empty());
        }
    }
});
