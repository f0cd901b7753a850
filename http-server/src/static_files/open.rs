//! Opening the file that a URL path names under a root: the decisions of
//! [`resolve`](crate::static_files::resolve), with the file opened.
//!
//! ```text
//!   url path ──► safe segments ──► Linux: openat2(root, rel, BENEATH) ──► fstat ──► a file
//!                 (400 / 404)          │ an absolute link, a step outside,   │ a directory:
//!                                      │ no openat2 here                     │ its index.html
//!                                      ▼                                     ▼ the same way
//!                     everywhere: resolve (every link followed, checked
//!                     against the canonical root) ──► open ──► fstat
//! ```
//!
//! On Linux the kernel resolves the path relative to the root and refuses every step that
//! would leave it (`RESOLVE_BENEATH`: `..` above the root, absolute links, `/proc` magic
//! links), so a request costs one open of the file and one `fstat`, where
//! [`resolve`](crate::static_files::resolve) reads every link on the way (`realpath`) twice. The root
//! itself is held open ([`RootCache`](crate::static_files::open::RootCache)) and opened again by path once that is a second old:
//! a root that appears later is found, and a root that is a link switched to another
//! directory (a deploy) is followed within a second. Whatever the
//! kernel refuses goes the portable way, which gives the precise answer: a link that stays
//! inside the root through an absolute path is served, one that leaves it is
//! [`OutsideRoot`](StaticError::OutsideRoot). The file is opened non-blocking and without
//! becoming a controlling terminal, and checked to be a regular file before anything is
//! read, so a FIFO or a device under the root is just not found.

use std::fs::{File, Metadata};
use std::path::Path;

use super::{resolve, safe_segments, StaticError};

/// A file to serve, opened.
pub(crate) struct Opened {
    pub(crate) file: File,
    pub(crate) meta: Metadata,
    /// The name the content type comes from: the last segment, or `index.html`.
    pub(crate) name: String,
    /// True when the URL path named a directory (and this is its `index.html`).
    pub(crate) directory: bool,
}

/// The root directory held open for the lookups beneath it (Linux; empty elsewhere).
#[derive(Debug, Default)]
pub(crate) struct RootCache {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    slot: std::sync::Mutex<Option<(std::sync::Arc<std::os::fd::OwnedFd>, std::time::Instant)>>,
}

/// Opens the regular file under `root` that `url_path` (still percent-encoded) names, a
/// directory's `index.html` for a directory; the errors of [`resolve`].
pub(crate) fn open(root: &Path, cache: &RootCache, url_path: &str) -> Result<Opened, StaticError> {
    let segments = safe_segments(url_path)?;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(opened) = beneath::open(root, cache, &segments) {
        return opened;
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = cache;
    portable(root, url_path, &segments)
}

/// [`resolve`], then open: every link followed in user space.
fn portable(root: &Path, url_path: &str, segments: &[String]) -> Result<Opened, StaticError> {
    let target = resolve(root, url_path)?;
    let file = File::open(&target).map_err(StaticError::Io)?;
    let meta = file.metadata().map_err(StaticError::Io)?;
    let mut dir = root.to_path_buf();
    dir.extend(segments);
    let directory = dir.is_dir();
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Opened { file, meta, name, directory })
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod beneath {
    use std::fs::File;
    use std::os::fd::OwnedFd;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, PoisonError};
    use std::time::{Duration, Instant};

    use rustix::fs::{openat2, Mode, OFlags, ResolveFlags, CWD};
    use rustix::io::Errno;

    use super::{Opened, RootCache, StaticError};

    /// How long an opened root is used before it is opened again by its path.
    pub(super) const ROOT_FRESH: Duration = Duration::from_secs(1);
    use crate::static_files::lookup_error;

    /// Cleared when the kernel has no `openat2` (before Linux 5.6) or a sandbox forbids it.
    static AVAILABLE: AtomicBool = AtomicBool::new(true);

    /// What an `openat2` beneath the root came to.
    enum Beneath {
        Opened(File),
        /// No such file, not allowed, and the like: the answer.
        Failed(StaticError),
        /// Refused by the kernel's rules (or no `openat2`): the portable way decides.
        Refused,
    }

    fn open_beneath(dir: &OwnedFd, rel: &str) -> Beneath {
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        match openat2(dir, rel, flags, Mode::empty(), resolve) {
            Ok(fd) => Beneath::Opened(File::from(fd)),
            Err(Errno::NOSYS | Errno::PERM) => {
                AVAILABLE.store(false, Ordering::Relaxed);
                Beneath::Refused
            }
            // A step outside the root or through an absolute or magic link; too many links.
            Err(Errno::XDEV | Errno::LOOP | Errno::AGAIN | Errno::INVAL) => Beneath::Refused,
            Err(e) => Beneath::Failed(lookup_error(e.into())),
        }
    }

    /// The root, opened (`O_PATH`): the one in `cache` while it is fresh, else opened anew
    /// by its path. `None` when it cannot be opened as a directory.
    fn root_dir(root: &Path, cache: &RootCache) -> Option<Arc<OwnedFd>> {
        let now = Instant::now();
        let mut slot = cache.slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((dir, at)) = slot.as_ref() {
            if now.saturating_duration_since(*at) < ROOT_FRESH {
                return Some(Arc::clone(dir));
            }
        }
        *slot = None;
        drop(slot);
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let dir = Arc::new(rustix::fs::openat(CWD, root, flags, Mode::empty()).ok()?);
        *cache.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some((Arc::clone(&dir), now));
        Some(dir)
    }

    /// Makes the cached root look `age` old (tests).
    #[cfg(test)]
    pub(super) fn age(cache: &RootCache, age: Duration) {
        if let Some((_, at)) = cache.slot.lock().unwrap().as_mut() {
            *at = at.checked_sub(age).unwrap_or(*at);
        }
    }

    /// The file opened beneath the root, or `None` when the portable way must decide.
    pub(super) fn open(
        root: &Path,
        cache: &RootCache,
        segments: &[String],
    ) -> Option<Result<Opened, StaticError>> {
        if !AVAILABLE.load(Ordering::Relaxed) {
            return None;
        }
        // A root that cannot be opened as a directory: the portable way has the answers.
        let dir = root_dir(root, cache)?;
        let mut rel = if segments.is_empty() { ".".to_owned() } else { segments.join("/") };
        let file = match open_beneath(&dir, &rel) {
            Beneath::Opened(f) => f,
            Beneath::Failed(e) => return Some(Err(e)),
            Beneath::Refused => return None,
        };
        let meta = match file.metadata() {
            Ok(m) => m,
            Err(e) => return Some(Err(StaticError::Io(e))),
        };
        if meta.is_file() {
            let name = segments.last().cloned().unwrap_or_default();
            return Some(Ok(Opened { file, meta, name, directory: false }));
        }
        if !meta.is_dir() {
            return Some(Err(StaticError::NotFound));
        }
        drop(file);
        rel.push_str("/index.html");
        let file = match open_beneath(&dir, &rel) {
            Beneath::Opened(f) => f,
            Beneath::Failed(e) => return Some(Err(e)),
            Beneath::Refused => return None,
        };
        Some(match file.metadata() {
            Ok(meta) if meta.is_file() => {
                Ok(Opened { file, meta, name: "index.html".to_owned(), directory: true })
            }
            Ok(_) => Err(StaticError::NotFound),
            Err(e) => Err(StaticError::Io(e)),
        })
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests;
