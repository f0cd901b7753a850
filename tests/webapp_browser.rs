//! The webapp example in a real browser: headless Chromium loads `/`, whose script fetches
//! `/echo?from=page` and `/later`, takes the first event of `/events` (an `EventSource`) and
//! an echo from `/ws` (a `WebSocket`), and writes the answers into the page; the DOM
//! Chromium dumps must hold all four.
//!
//! Chromium comes from Debian's `chromium` package. Without it the test fails when `CI` is
//! set, and otherwise says loudly that it was skipped.

mod programs;
#[allow(dead_code)]
#[path = "../examples/webapp.rs"]
mod webapp;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use http_toolkit::server::Server;

fn find_chromium() -> Option<PathBuf> {
    let found = programs::find("chromium").or_else(|| programs::find("chromium-browser"));
    if found.is_none() {
        programs::missing("webapp_browser", "chromium", "apt-get install chromium");
    }
    found
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

#[test]
fn page_shows_the_fetched_answers_an_event_and_a_websocket_echo() {
    let Some(chromium) = find_chromium() else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join("static");
    let server = Server::builder().port(0).bind("127.0.0.1").build().expect("bind");
    webapp::install(&server, &root).expect("routes");
    let handle = server.spawn().expect("spawn");
    let port = handle.local_addr().port().expect("a TCP port");

    let profile = std::env::temp_dir().join(format!("webapp-chromium-{}-{port}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).expect("profile dir");
    let mut cmd = Command::new(&chromium);
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
    .arg(format!("http://127.0.0.1:{port}/"));
    let dom = run_with_timeout(cmd, Duration::from_secs(60));
    let _ = std::fs::remove_dir_all(&profile);
    let dom = dom.expect("chromium finished within 60 s");

    assert!(dom.contains("<pre id=\"later-answer\">later</pre>"), "no /later answer in the DOM:\n{dom}");
    let echo = dom
        .split("<pre id=\"echo-answer\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .expect("the echo element");
    assert!(echo.contains("\"from\":\"page\"") && echo.contains("\"method\":\"GET\""), "echo answer: {echo}");
    assert!(dom.contains("<pre id=\"events-answer\">connected</pre>"), "no event in the DOM:\n{dom}");
    assert!(
        dom.contains("<pre id=\"ws-answer\">echo from the page</pre>"),
        "no WebSocket echo in the DOM:\n{dom}"
    );
    handle.shutdown();
}
