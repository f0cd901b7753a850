//! The webapp example in a real browser: headless Chromium loads `/`, whose script fetches
//! `/echo?from=page` and `/later`, takes the first event of `/events` (an `EventSource`) and
//! an echo from `/ws` (a `WebSocket`), and writes the answers into the page; the DOM
//! Chromium dumps must hold all four.
//!
//! Chromium comes from Debian's `chromium` package. Without it the test fails when
//! `HTTP_TOOLKIT_CI` is set, and otherwise says loudly that it was skipped.

mod programs;
#[allow(dead_code)]
#[path = "../examples/webapp.rs"]
mod webapp;

use std::path::Path;
use std::time::Duration;

use http_toolkit::server::Server;
use programs::chromium;

#[test]
fn page_shows_the_fetched_answers_an_event_and_a_websocket_echo() {
    let Some(browser) = chromium::find("webapp_browser") else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join("static");
    let server = Server::builder().port(0).bind("127.0.0.1").build().expect("bind");
    webapp::install(&server, &root).expect("routes");
    let handle = server.spawn().expect("spawn");
    let port = handle.local_addr().port().expect("a TCP port");

    let url = format!("http://127.0.0.1:{port}/");
    let dom = chromium::dump_dom(&browser, &url, &format!("webapp-{port}"), Duration::from_secs(60));
    let dom = dom.expect("chromium finished within 60 s");

    assert!(dom.contains("<pre id=\"later-answer\">later</pre>"), "no /later answer in the DOM:\n{dom}");
    let echo = chromium::text_of(&dom, "echo-answer").expect("the echo element");
    assert!(echo.contains("\"from\":\"page\"") && echo.contains("\"method\":\"GET\""), "echo answer: {echo}");
    assert!(dom.contains("<pre id=\"events-answer\">connected</pre>"), "no event in the DOM:\n{dom}");
    assert!(
        dom.contains("<pre id=\"ws-answer\">echo from the page</pre>"),
        "no WebSocket echo in the DOM:\n{dom}"
    );
    handle.shutdown();
}
