//! A small curl: fetch URLs over one client, so connections are reused per host and cookies
//! are kept from one URL to the next.
//!
//! ```text
//! fetch [-X METHOD] [-H 'Name: value']... [-d DATA | --data-binary DATA | --data-urlencode D]...
//!       [-F name=value | -F name=@FILE]... [-u USER:PASSWORD] [-o FILE] [--proxy URL]
//!       [--noproxy HOSTS] [--resolve HOST:PORT:ADDR[,ADDR]...] [--cacert FILE] [--max-time SECS] [--max-redirs N] [-i] URL...
//! ```
//!
//! Options mean what they mean to curl (`fetch -h` lists them, and where fetch differs).
//! Each final body (after redirects) is written to stdout (or `-o FILE`), in order. `-i`
//! writes every response head first, those of redirects included. On a failure a one-line
//! error goes to stderr and the exit status is 1 (47 past `--max-redirs`); a response with a
//! status of 400 or more is printed, reported on stderr, and makes the exit status 22 once
//! every URL has been fetched; 65 when a 307 or 308 would need a body streamed from stdin
//! again. URLs in messages never show their credentials.
//!
//! Redirects follow the library's rules: credentials (`-u`, and `-H` fields `Authorization`,
//! `Cookie`, `Proxy-Authorization`) go only to the origin (scheme, host and port) of the URL
//! given, and once a hop leaves it they stay behind for the rest of the chain; a `Location`
//! with a user name or password in it, and a redirect from `https` to `http`, are refused.
//! Proxies come from `-x`, else from the environment as curl reads it (`http_proxy`,
//! `https_proxy`, `all_proxy`, `no_proxy`); a proxy setting that cannot be used is an error,
//! never a direct connection.
//!
//! Try it: `cargo run --example fetch -- -i http://localhost:4242/`

mod args;
mod body;

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use http_client::{Client, Method, Proxy, ProxyEnv, ProxyPattern, Request, Response};

use args::{parse_args, Options};

/// Exit status past `--max-redirs`, as curl's.
const TOO_MANY_REDIRECTS: u8 = 47;

/// Exit status when a body must be sent again and cannot be, as curl's.
const SEND_FAIL_REWIND: u8 = 65;

/// Why a URL could not be fetched.
enum Failure {
    Client(http_client::Error),
    Message(String),
    TooManyRedirects(u32),
    /// A 307 or 308 to a request whose body was streamed from stdin, which cannot be sent
    /// again.
    Rewind(u16),
}

impl From<http_client::Error> for Failure {
    fn from(e: http_client::Error) -> Failure {
        Failure::Client(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Client(e.into())
    }
}

fn build_client(o: &Options) -> Result<Client, http_client::Error> {
    // Redirects are followed here, so that -i can show each head.
    let mut b = Client::builder().max_redirects(0);
    if let Some(secs) = o.max_time {
        b = b.timeout(Duration::from_secs_f64(secs));
    }
    for (host, addrs) in &o.resolve {
        b = b.resolve(host, addrs.iter().copied());
    }
    if let Some(path) = &o.cacert {
        b = b.add_root_certificate_file(path);
    }
    if o.removes("user-agent") {
        b = b.user_agent(None);
    }
    if o.removes("accept-encoding") {
        b = b.gzip(false);
    }
    // As curl: the proxy environment variables unless -x names a proxy (`-x ""`: none at
    // all); --noproxy replaces no_proxy.
    if o.proxy.is_none() {
        let noproxy = o.noproxy.clone();
        b = b.proxy_env(ProxyEnv::from_lookup(move |name| match (name, &noproxy) {
            ("no_proxy" | "NO_PROXY", Some(list)) => Some(list.clone()),
            _ => std::env::var(name).ok(),
        }));
    }
    let client = b.build()?;
    if let Some(p) = o.proxy.as_deref().filter(|p| !p.is_empty()) {
        client.add_proxy(ProxyPattern::Any, Proxy::new(p)?);
    }
    Ok(client)
}

/// The header fields that carry credentials: sent only while redirects stay at the origin
/// (scheme, host and port) of the URL given, as the library does with its own redirects.
const CREDENTIAL_FIELDS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// Base64 of `user:password` for Basic authentication.
fn basic(credentials: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("Basic ");
    for chunk in credentials.as_bytes().chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            let c = if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' };
            out.push(c);
        }
    }
    out
}

/// The request for one hop: `with_body` false after a redirect that turns it into a GET,
/// `auth` false once a redirect has left the origin (then neither `-u` nor the credential
/// fields of `-H` are sent).
fn request_for(
    o: &Options,
    url: &str,
    method: &Method,
    with_body: bool,
    auth: bool,
) -> Result<Request, Failure> {
    let mut req = Request::new(method.clone(), url);
    let headers = req.headers_mut();
    let bad = |e| Failure::Client(http_client::Error::InvalidHeader(e));
    if with_body && o.has_body() {
        let (body, content_type) = if o.form.is_empty() {
            (
                body::data_body(&o.data).map_err(Failure::Message)?,
                "application/x-www-form-urlencoded".to_owned(),
            )
        } else {
            let (body, boundary) = body::form_body(&o.form).map_err(Failure::Message)?;
            (body, format!("multipart/form-data; boundary={boundary}"))
        };
        headers.append("Content-Type", &content_type).map_err(bad)?;
        req.set_body(body);
    }
    let headers = req.headers_mut();
    if let (Some(user), true) = (&o.user, auth) {
        headers.append("Authorization", &basic(user)).map_err(bad)?;
    }
    for h in &o.headers {
        if !auth && CREDENTIAL_FIELDS.iter().any(|c| h.name.eq_ignore_ascii_case(c)) {
            continue;
        }
        // A later -H replaces the client's or an earlier one of the same name, as in curl.
        headers.remove(&h.name);
        if let Some(v) = &h.value {
            headers.append(&h.name, v).map_err(bad)?;
        }
    }
    Ok(req)
}

fn write_head(out: &mut impl Write, resp: &Response) -> io::Result<()> {
    write!(out, "{}\r\n", resp.status_line())?;
    for (n, v) in resp.headers().iter() {
        write!(out, "{n}: {v}\r\n")?;
    }
    write!(out, "\r\n")
}

/// Fetches `url`, following redirects; returns the final status.
fn fetch(client: &Client, o: &Options, url: &str, out: &mut impl Write) -> Result<u16, Failure> {
    let max_redirs = o.max_redirs.unwrap_or(10);
    let default_method = if o.has_body() { Method::Post } else { Method::Get };
    let mut method = o.method.clone().unwrap_or(default_method);
    let mut current = url::Url::parse(url).or_else(|_| url::Url::parse(&format!("http://{url}")));
    let (mut with_body, mut auth) = (true, true);
    // Bounded by max_redirs: each round is one hop.
    for hop in 0..=max_redirs {
        let here = current.as_ref().map_or(url, url::Url::as_str).to_owned();
        let mut resp = client.send(request_for(o, &here, &method, with_body, auth)?)?;
        if o.include {
            write_head(out, &resp)?;
        }
        let status = resp.status();
        let mut next = match resp.header("location") {
            Some(loc) if matches!(status, 301 | 302 | 303 | 307 | 308) => {
                // resp.url() has no credentials: whatever the result has came from the Location.
                let base = url::Url::parse(resp.url()).map_err(|e| Failure::Message(e.to_string()))?;
                base.join(loc).map_err(|e| Failure::Message(format!("bad Location: {e}")))?
            }
            _ => {
                io::copy(&mut resp, out)?;
                out.flush()?;
                return Ok(status);
            }
        };
        if !next.username().is_empty() || next.password().is_some() {
            return Err(Failure::Message(
                "the redirect's Location carries a user name or password; not followed".to_owned(),
            ));
        }
        if !matches!(next.scheme(), "http" | "https") {
            return Err(Failure::Message(format!("cannot follow a redirect to {:?}", next.scheme())));
        }
        if resp.url().starts_with("https:") && next.scheme() == "http" {
            return Err(Failure::Message(format!(
                "refused a redirect from https to plain http ({})",
                http_utils::redact_url(next.as_str())
            )));
        }
        let to_get =
            status == 303 && method != Method::Head || matches!(status, 301 | 302) && method == Method::Post;
        if !to_get
            && with_body
            && o.has_body()
            && o.data.iter().any(|d| matches!(d, args::Data::Stdin { .. }))
        {
            // A body streamed from stdin is gone: it cannot be sent again (curl's exit 65).
            out.flush()?;
            return Err(Failure::Rewind(status));
        }
        if hop == max_redirs {
            return Err(Failure::TooManyRedirects(max_redirs));
        }
        let _ = resp.drain(64 * 1024);
        if to_get {
            method = Method::Get;
            with_body = false;
        }
        let origin = current.as_ref().map(url::Url::origin).ok();
        // Once dropped, credentials stay dropped, even when a later hop comes back.
        auth &= origin == Some(next.origin());
        if let (true, Ok(c)) = (auth, &current) {
            // A relative Location keeps the URL's own user name and password (same origin).
            let _ = next.set_username(c.username());
            let _ = next.set_password(c.password());
        }
        current = Ok(next);
    }
    Err(Failure::TooManyRedirects(max_redirs))
}

fn main() -> ExitCode {
    let o = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("fetch: {msg}");
            return ExitCode::from(2);
        }
    };
    let client = match build_client(&o) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fetch: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out: Box<dyn Write> = match &o.output {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Box::new(io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("fetch: cannot write {path}: {e}");
                return ExitCode::from(23);
            }
        },
        None => Box::new(io::stdout().lock()),
    };
    let mut http_error = false;
    for url in &o.urls {
        let shown = http_utils::redact_url(url);
        match fetch(&client, &o, url, &mut out) {
            Ok(status) if status >= 400 => {
                eprintln!("fetch: {shown}: the server answered {status}");
                http_error = true;
            }
            Ok(_) => {}
            Err(Failure::Client(e)) => {
                eprintln!("fetch: {shown}: {e}");
                return ExitCode::from(1);
            }
            Err(Failure::Message(m)) => {
                eprintln!("fetch: {shown}: {m}");
                return ExitCode::from(1);
            }
            Err(Failure::TooManyRedirects(n)) => {
                eprintln!("fetch: {shown}: maximum ({n}) redirects followed");
                return ExitCode::from(TOO_MANY_REDIRECTS);
            }
            Err(Failure::Rewind(status)) => {
                eprintln!(
                    "fetch: {shown}: cannot follow the {status} redirect: the body read from stdin \
                     cannot be sent again"
                );
                return ExitCode::from(SEND_FAIL_REWIND);
            }
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(23);
    }
    if http_error {
        ExitCode::from(22)
    } else {
        ExitCode::SUCCESS
    }
}
