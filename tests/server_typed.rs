//! Typed bodies and handlers that use `?`: JSON and forms into `Deserialize` types, the
//! statuses a client gets for a wrong type, a bad body or one too large, `+json` media
//! types, and errors that become responses (status handlers included).

mod server_support;

use http_toolkit::server::{Content, HttpError, Response};
use http_toolkit::utils::{Limits, Method};
use serde::{Deserialize, Serialize};
use server_support::{addr, start, Client, Reply};

#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Note {
    title: String,
    stars: u8,
}

#[derive(Debug, Deserialize)]
struct Login {
    user: String,
    remember: Option<bool>,
}

fn post(c: &mut Client, path: &str, content_type: &str, body: &str) -> Reply {
    c.send(
        format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    c.read()
}

fn server() -> http_toolkit::server::ServerHandle {
    let limits = Limits { max_body: 1000, ..Limits::default() };
    start(
        |b| b.limits(limits),
        |s| {
            s.route(Method::Post, "/notes", |cx| -> Result<Response, HttpError> {
                let note: Note = cx.json()?;
                if note.stars > 5 {
                    return Err(HttpError::new(422, "at most 5 stars"));
                }
                Ok(Response::json(&note).with_status(201))
            })
            .unwrap();
            s.route(Method::Post, "/login", |cx| -> Result<String, HttpError> {
                let login: Login = cx.form()?;
                Ok(format!("{} {:?}", login.user, login.remember))
            })
            .unwrap();
            s.route(Method::Get, "/users/{id}", |cx| -> Result<Response, HttpError> {
                match cx.param("id").as_deref() {
                    Some("1") => Ok(Response::text("one")),
                    _ => Err(HttpError::not_found("no such user")),
                }
            })
            .unwrap();
            s.add_resource("/parsed", |_req, _args| Response::text("plain handler"));
            s.add_context_resource("/content", |cx| match cx.parse_content() {
                Ok(Content::Json(v)) => Response::json(v),
                Ok(_) => Response::text("not JSON").with_status(415),
                Err(e) => Response::new(e.status()),
            });
            // The body read once, kept by the typed reader, seen again by the others.
            s.route(Method::Post, "/twice", |cx| -> Result<String, HttpError> {
                let a: Note = cx.json()?;
                let b: Note = cx.json()?;
                let raw = cx.read_body()?;
                let kept = cx.request().body().as_bytes().map(<[u8]>::len);
                Ok(format!("{} {} {} {:?}", a.title, b.stars, raw.len(), kept))
            })
            .unwrap();
            s.set_status_handler(422, |_cx, r| r.with_header("X-Shaped", "yes"));
        },
    )
}

#[test]
fn json_bodies_into_types() {
    let h = server();
    let mut c = Client::connect(addr(&h));
    let r = post(&mut c, "/notes", "application/json", r#"{"title":"a","stars":3}"#);
    assert_eq!(r.status(), 201);
    assert_eq!(serde_json::from_slice::<Note>(&r.body).unwrap(), Note { title: "a".into(), stars: 3 });
    // `+json` types are JSON; parameters and case do not matter.
    let r = post(&mut c, "/notes", "application/ld+json; charset=utf-8", r#"{"title":"b","stars":1}"#);
    assert_eq!(r.status(), 201);
    let r = post(&mut c, "/notes", "Application/JSON", r#"{"title":"c","stars":0}"#);
    assert_eq!(r.status(), 201);
    // A wrong media type, a body that is not JSON, one that does not fit the type.
    let r = post(&mut c, "/notes", "text/plain", r#"{"title":"a","stars":3}"#);
    assert_eq!(r.status(), 415);
    let r = post(&mut c, "/notes", "application/json", "{not json");
    assert_eq!(r.status(), 400);
    assert!(r.text().starts_with("invalid JSON"), "{}", r.text());
    let r = post(&mut c, "/notes", "application/json", r#"{"title":"a","stars":"many"}"#);
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("stars") || r.text().contains("invalid type"), "{}", r.text());
    // An error of the handler's own, shaped by the status handler of its status.
    let r = post(&mut c, "/notes", "application/json", r#"{"title":"a","stars":9}"#);
    assert_eq!(
        (r.status(), r.text().as_str(), r.header("x-shaped")),
        (422, "at most 5 stars\n", Some("yes"))
    );
    // Past the body limit: 413, and the connection closes.
    let big = format!(r#"{{"title":"{}","stars":1}}"#, "x".repeat(2000));
    let r = post(&mut c, "/notes", "application/json", &big);
    assert_eq!(r.status(), 413);
}

#[test]
fn a_typed_body_is_read_once_and_kept() {
    let h = server();
    let mut c = Client::connect(addr(&h));
    let body = r#"{"title":"t","stars":4}"#;
    let r = post(&mut c, "/twice", "application/json", body);
    assert_eq!((r.status(), r.text()), (200, format!("t 4 {} Some({})", body.len(), body.len())));
}

#[test]
fn forms_into_types() {
    let h = server();
    let mut c = Client::connect(addr(&h));
    let r = post(&mut c, "/login", "application/x-www-form-urlencoded", "user=ann+b&remember=true");
    assert_eq!((r.status(), r.text().as_str()), (200, "ann b Some(true)"));
    let r = post(&mut c, "/login", "application/x-www-form-urlencoded", "user=%C3%A9");
    assert_eq!(r.text(), "é None");
    let r = post(&mut c, "/login", "application/x-www-form-urlencoded", "remember=true");
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("user"), "{}", r.text());
    let r = post(&mut c, "/login", "application/json", r#"{"user":"x"}"#);
    assert_eq!(r.status(), 415);
}

#[test]
fn errors_from_question_marks_are_answers() {
    let h = server();
    let mut c = Client::connect(addr(&h));
    assert_eq!(c.get("/users/1").text(), "one");
    let r = c.get("/users/2");
    assert_eq!((r.status(), r.text().as_str()), (404, "no such user\n"));
    // The JSON content parser takes `+json` types too.
    let r = post(&mut c, "/content", "application/activity+json", r#"{"type":"Note"}"#);
    assert_eq!(r.status(), 200);
    assert_eq!(r.text(), r#"{"type":"Note"}"#);
}
