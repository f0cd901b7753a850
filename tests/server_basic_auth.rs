//! Basic authentication (RFC 7617) over loopback sockets: the challenge, credentials from
//! curl's `-u` (a real peer's encoding, UTF-8 included), and every malformed field answered
//! 401 on a connection that stays usable, never 400 and never a panic.

mod programs;
mod server_support;

use std::process::Command;

use http_toolkit::server::{constant_time_eq, BasicAuth, Response, ServerHandle};
use http_toolkit::utils::Method;
use server_support::{addr, start, Client, Reply};

const CHALLENGE: &str = "Basic realm=\"admin area\", charset=\"UTF-8\"";

fn server() -> ServerHandle {
    start(
        |b| b,
        |s| {
            s.route([Method::Get, Method::Post], "/admin/{what}", |cx| {
                let (user, password) = BasicAuth::credentials(cx.request()).unwrap_or_default();
                Response::text(format!("{user}|{password}"))
            })
            .unwrap();
            s.route(Method::Get, "/open", |_cx| Response::text("open")).unwrap();
            let users = [("ann", "pw:with:colons"), ("zoë", "ünïcode")];
            s.scope("/admin").wrap_with(
                BasicAuth::with(move |user, password| {
                    users
                        .iter()
                        .any(|(u, p)| *u == user && constant_time_eq(p.as_bytes(), password.as_bytes()))
                })
                .realm("admin area"),
            );
        },
    )
}

fn get_with(c: &mut Client, path: &str, authorization: &str) -> Reply {
    c.send(format!("GET {path} HTTP/1.1\r\nHost: t\r\nAuthorization: {authorization}\r\n\r\n").as_bytes());
    c.read()
}

#[test]
fn malformed_and_refused_credentials_get_the_challenge() {
    let h = server();
    let mut c = Client::connect(addr(&h));
    let r = c.get("/admin/x");
    assert_eq!(r.status(), 401);
    assert_eq!(r.header("www-authenticate"), Some(CHALLENGE));
    for field in [
        "Basic",
        "Basic ",
        "Basic %%%%",
        "Basic YW5u",                      // "ann": no colon
        "Basic YW5uOnB3",                  // "ann:pw": refused
        "Basic YW5uOnB3OndpdGg6Y29sb25z=", // bad padding
        "Basic /w==",                      // 0xFF: not UTF-8
        "Basic YW5uOnB3DQp4",              // "ann:pw\r\nx": a control character
        "Bearer YW5uOnB3OndpdGg6Y29sb25z",
        "Digest username=\"ann\"",
        &format!("Basic {}", "A".repeat(6000)),
    ] {
        let r = get_with(&mut c, "/admin/x", field);
        assert_eq!(r.status(), 401, "{field}");
        assert_eq!(r.header("www-authenticate"), Some(CHALLENGE), "{field}");
    }
    // The connection is still fine, and paths outside the scope are open.
    assert_eq!(c.get("/open").text(), "open");
    let r = get_with(&mut c, "/admin/x", "basic  YW5uOnB3OndpdGg6Y29sb25z");
    assert_eq!((r.status(), r.text().as_str()), (200, "ann|pw:with:colons"));
    h.shutdown();
}

#[test]
fn credentials_as_curl_sends_them() {
    let Some(curl) = programs::require("credentials_as_curl_sends_them", "curl", "apt-get install curl")
    else {
        return;
    };
    let h = server();
    let url = format!("http://{}/admin/me", addr(&h));
    let run = |user: &str| {
        let out = Command::new(&curl)
            .args(["-s", "--max-time", "10", "-w", " %{http_code}", "-u", user, &url])
            .output();
        String::from_utf8_lossy(&out.expect("curl runs").stdout).into_owned()
    };
    assert_eq!(run("ann:pw:with:colons"), "ann|pw:with:colons 200");
    assert_eq!(run("zoë:ünïcode"), "zoë|ünïcode 200");
    assert!(run("ann:wrong").ends_with(" 401"));
    h.shutdown();
}
