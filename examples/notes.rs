//! A JSON notes service for a browser app on another origin: CRUD in memory, errors as JSON,
//! CORS, a bearer token on writes, server-sent events on every change, graceful shutdown.
//!
//! `cargo run --release --example notes [-- PORT [ORIGIN [STATIC]]]`: port 8080 by default
//! (0: any free port), the app's origin `http://localhost:3000` by default, static files
//! from `examples/static` by default, the token from `NOTES_TOKEN` (`s3cret` by default). A
//! line per request on stderr; SIGTERM or Ctrl-C stops it gracefully.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /notes` | the notes, a JSON list |
//! | `GET /notes/{id}` | one note; 404 |
//! | `POST /notes` | `{"title", "body"}` → 201 and the note with its id (bearer token) |
//! | `PUT /notes/{id}` | replaces a note (bearer token); 404 |
//! | `DELETE /notes/{id}` | 204 (bearer token); 404 |
//! | `GET /static/{path...}` | the static files (ranges, `ETag`, 304) |
//! | `GET /events` | `text/event-stream`: `notes` (all of them), then `created`, `updated`, `deleted` with the note |
//! | any error | `{"error": "...", "status": N}` |

use std::collections::BTreeMap;
use std::sync::Mutex;

use http_toolkit::server::{
    BearerAuth, Context, Cors, Event, EventHub, HttpError, JsonErrors, Response, Server,
};
use http_toolkit::utils::Method;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
struct Note {
    #[serde(default)]
    id: u64,
    title: String,
    #[serde(default)]
    body: String,
}

/// What every handler shares (`cx.state::<App>()`).
#[derive(Default)]
struct App {
    notes: Mutex<(u64, BTreeMap<u64, Note>)>,
    hub: EventHub,
}

impl App {
    fn changed(&self, kind: &str, note: &Note) {
        let json = serde_json::to_string(note).unwrap_or_default();
        self.hub.publish(&Event::data(json).event(kind).id(&note.id.to_string()));
    }
}

type Answer = Result<Response, HttpError>;

fn no_note() -> HttpError {
    HttpError::not_found("no such note")
}

fn list(cx: &mut Context<'_>) -> Answer {
    let notes = cx.state::<App>().notes.lock().unwrap();
    Ok(Response::json(&notes.1.values().collect::<Vec<_>>()))
}

fn show(cx: &mut Context<'_>) -> Answer {
    let id = cx.param_as::<u64>("id")?;
    let notes = cx.state::<App>().notes.lock().unwrap();
    notes.1.get(&id).map(Response::json).ok_or_else(no_note)
}

fn create(cx: &mut Context<'_>) -> Answer {
    let mut note: Note = cx.json()?;
    let app = cx.state::<App>();
    let mut notes = app.notes.lock().unwrap();
    notes.0 += 1;
    note.id = notes.0;
    notes.1.insert(note.id, note.clone());
    drop(notes);
    app.changed("created", &note);
    Ok(Response::json(&note).with_status(201))
}

fn update(cx: &mut Context<'_>) -> Answer {
    let id = cx.param_as::<u64>("id")?;
    let note = Note { id, ..cx.json()? };
    let app = cx.state::<App>();
    let replaced = app.notes.lock().unwrap().1.get_mut(&id).map(|old| *old = note.clone());
    replaced.ok_or_else(no_note)?;
    app.changed("updated", &note);
    Ok(Response::json(&note))
}

fn delete(cx: &mut Context<'_>) -> Answer {
    let id = cx.param_as::<u64>("id")?;
    let app = cx.state::<App>();
    let note = app.notes.lock().unwrap().1.remove(&id).ok_or_else(no_note)?;
    app.changed("deleted", &note);
    Ok(Response::new(204))
}

/// The notes as they are (`notes`), then every change; the stream joins the hub while the
/// notes are locked, so that no change falls between the two.
fn events(cx: &mut Context<'_>) -> Response {
    let app = cx.state::<App>();
    let notes = app.notes.lock().unwrap();
    if let Ok(stream) = cx.responder().events() {
        let all = serde_json::to_string(&notes.1.values().collect::<Vec<_>>()).unwrap_or_default();
        let _ = stream.try_send(&Event::data(all).event("notes"));
        app.hub.add(stream);
    }
    Response::later()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port = args.next().map_or(Ok(8080), |p| p.parse())?;
    let origin = args.next().unwrap_or_else(|| "http://localhost:3000".into());
    let files = args.next().unwrap_or_else(|| "examples/static".into());
    let token = std::env::var("NOTES_TOKEN").unwrap_or_else(|_| "s3cret".into());

    let server = Server::builder().port(port).state(App::default()).build()?;
    server.set_debug(true);
    server.wrap_with(Cors::new().allow_origin(&origin).allow_headers(["content-type", "authorization"]));
    // Every error, the handlers' and the server's own (404, 405, 413, 401...), as JSON; its
    // header fields (`Allow`, `WWW-Authenticate`) stay.
    server
        .wrap_with(JsonErrors::shaped(|e| serde_json::json!({ "error": e.message(), "status": e.status() })));
    server.wrap_with(BearerAuth::new([token]).writes_only());
    server.scope("/notes").max_body(64 << 10);
    server.route(Method::Get, "/notes", list)?;
    server.route(Method::Post, "/notes", create)?;
    server.route(Method::Get, "/notes/{id}", show)?;
    server.route(Method::Put, "/notes/{id}", update)?;
    server.route(Method::Delete, "/notes/{id}", delete)?;
    server.route(Method::Get, "/events", events)?;
    server.serve_dir("/static", files)?;

    println!("listening on http://localhost:{}/", server.local_addr().port().unwrap_or(port));
    Ok(server.run_until_signal()?)
}
