//! Headless Chromium (Debian's `chromium`) as a real browser for tests: it loads a page, runs
//! its scripts for a few seconds of virtual time and prints the DOM as it then is.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where Chromium is, or `None` after [`super::missing`] said why (a failure in CI).
pub fn find(test: &str) -> Option<PathBuf> {
    let found = super::find("chromium").or_else(|| super::find("chromium-browser"));
    if found.is_none() {
        super::missing(test, "chromium", "apt-get install chromium");
    }
    found
}

/// The DOM of `url` after its scripts have run (5 s of virtual time), or `None` when Chromium
/// took more than `limit` (it is killed then). A fresh profile is made for the run under the
/// temporary directory, named by `tag`, and removed after.
pub fn dump_dom(chromium: &Path, url: &str, tag: &str, limit: Duration) -> Option<String> {
    let profile = std::env::temp_dir().join(format!("{tag}-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).expect("profile dir");
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg("--dump-dom")
    .arg(url);
    let dom = run_with_timeout(cmd, limit);
    let _ = std::fs::remove_dir_all(&profile);
    dom
}

/// Runs `cmd`, returning its stdout, or `None` when it takes longer than `limit` (it is
/// killed then).
fn run_with_timeout(mut cmd: Command, limit: Duration) -> Option<String> {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start chromium");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + limit;
    // Bounded by the deadline.
    loop {
        if child.try_wait().expect("wait").is_some() {
            return reader.join().ok();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The text of the element with this `id` in a dumped DOM (`<tag id="ID">TEXT</tag>`).
pub fn text_of<'a>(dom: &'a str, id: &str) -> Option<&'a str> {
    let start = dom.find(&format!(" id=\"{id}\""))?;
    let rest = &dom[start..];
    let rest = &rest[rest.find('>')? + 1..];
    rest.split('<').next()
}
