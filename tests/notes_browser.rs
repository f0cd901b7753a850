//! The notes example's CORS as a real browser checks it: headless Chromium loads a page from
//! one origin (a server on one port) whose script calls the notes API on another origin (the
//! example on another port). From the origin the example allows, a `GET` and a `POST` with a
//! bearer token and a JSON body (which the browser sends only after a preflight) succeed and
//! the script reads both answers; from any other origin the browser blocks both (the script
//! sees a `TypeError`), and the `POST` never reaches the API. The script writes what it saw
//! into the page; the test reads the DOM Chromium dumps.
//!
//! Chromium comes from Debian's `chromium` package. Without it the test fails when
//! `HTTP_TOOLKIT_CI` is set, and otherwise says loudly that it was skipped.

#![cfg(unix)] // the example is stopped as notes_example stops it

mod programs;
mod server_support;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_toolkit::server::{Response, ServerHandle};
use programs::chromium;
use server_support::example_binary;
use server_support::notes::Notes;

const TOKEN: &str = "br0wser";

/// A page server on a free port of 127.0.0.1 (its own origin), and where to put the API's
/// address once it is known: `/` is a page whose script reads the notes there, then adds one
/// titled `title` with the token, reads them again, and writes each outcome (`status ...` or
/// `blocked: <error name>`) into `#get`, `#post` and `#list`.
fn page_server(title: &'static str) -> (ServerHandle, String, Arc<OnceLock<String>>) {
    let api = Arc::new(OnceLock::<String>::new());
    let api_of_page = api.clone();
    let handle = server_support::start(
        |b| b,
        |server| {
            server.add_resource(["/"], move |_req, _args| {
                Response::html(page(api_of_page.get().map_or("", String::as_str), title))
            });
        },
    );
    let origin = format!("http://127.0.0.1:{}", handle.local_addr().port().expect("a TCP port"));
    (handle, origin, api)
}

fn page(api: &str, title: &str) -> String {
    format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><title>notes from another origin</title></head>
<body>
<pre id="get">pending</pre>
<pre id="post">pending</pre>
<pre id="list">pending</pre>
<script>
const api = "{api}";
const show = (id, text) => {{ document.getElementById(id).textContent = text; }};
const blocked = (e) => "blocked: " + e.name;
(async () => {{
  try {{
    const r = await fetch(api + "/notes");
    show("get", "status " + r.status + " " + JSON.stringify(await r.json()));
  }} catch (e) {{ show("get", blocked(e)); }}
  try {{
    const r = await fetch(api + "/notes", {{
      method: "POST",
      headers: {{ "Authorization": "Bearer {TOKEN}", "Content-Type": "application/json" }},
      body: JSON.stringify({{ title: "{title}", body: "sent by the page" }}),
    }});
    const note = await r.json();
    show("post", "status " + r.status + " id " + note.id + " title " + note.title);
  }} catch (e) {{ show("post", blocked(e)); }}
  try {{
    const r = await fetch(api + "/notes");
    show("list", "status " + r.status + " " + (await r.json()).map((n) => n.title).join(","));
  }} catch (e) {{ show("list", blocked(e)); }}
}})();
</script>
</body></html>
"#
    )
}

/// The element's text in the DOM, or a failure that shows the DOM.
fn text<'a>(dom: &'a str, id: &str) -> &'a str {
    chromium::text_of(dom, id).unwrap_or_else(|| panic!("no #{id} in the DOM:\n{dom}"))
}

#[test]
fn a_browser_lets_the_allowed_origin_read_and_write_and_blocks_another() {
    let Some(browser) = chromium::find("notes_browser") else {
        return;
    };
    let Some(bin) = example_binary("notes") else {
        programs::missing("notes_browser", "the notes example binary", "cargo build --examples");
        return;
    };
    // The app's page server comes first: its origin is the one the example allows.
    let (app, app_origin, app_api) = page_server("from the app");
    let (other, other_origin, other_api) = page_server("from elsewhere");
    let notes = Notes::start(&bin, &app_origin, TOKEN);
    let api = notes.base.clone();
    app_api.set(api.clone()).expect("set once");
    other_api.set(api.clone()).expect("set once");

    // The allowed origin.
    let dom =
        chromium::dump_dom(&browser, &format!("{app_origin}/"), "notes-allowed", Duration::from_secs(60))
            .expect("chromium finished within 60 s");
    assert_eq!(text(&dom, "get"), "status 200 []", "the first GET:\n{dom}");
    assert_eq!(text(&dom, "post"), "status 201 id 1 title from the app", "the POST:\n{dom}");
    assert_eq!(text(&dom, "list"), "status 200 from the app", "the GET after it:\n{dom}");
    app.shutdown();

    // Another origin (another port): the browser hands the script no answer at all.
    assert_ne!(other_origin, app_origin);
    let dom =
        chromium::dump_dom(&browser, &format!("{other_origin}/"), "notes-blocked", Duration::from_secs(60))
            .expect("chromium finished within 60 s");
    for id in ["get", "post", "list"] {
        assert_eq!(text(&dom, id), "blocked: TypeError", "#{id} from a disallowed origin:\n{dom}");
    }
    other.shutdown();

    // The blocked POST never reached the handler: its preflight was refused first.
    let notes = http_client::get_text(format!("{api}/notes")).expect("the notes");
    assert!(notes.contains("from the app") && !notes.contains("from elsewhere"), "{notes}");
}
