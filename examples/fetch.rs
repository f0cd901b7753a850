//! A small curl: fetch URLs over one client, so connections are reused per host and cookies
//! are kept from one URL to the next.
//!
//! ```text
//! fetch [-X METHOD] [-H 'Name: value']... [-d DATA] [--form k=v]... [--proxy URL]
//!       [--cacert FILE] [--max-time SECS] [--max-redirs N] [-i] URL...
//! ```
//!
//! Each final body (after redirects) is written to stdout, in order. `-i` writes the status
//! line and headers first. On a failure a one-line error goes to stderr and the exit status is
//! 1; a response with a status of 400 or more is printed, reported on stderr, and makes the exit
//! status 22 once every URL has been fetched.
//!
//! Try it: `cargo run --example fetch -- -i http://localhost:4242/`

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use http_client::{Body, Client, Method, Proxy, ProxyPattern, Request};

struct Options {
    method: Option<Method>,
    headers: Vec<(String, String)>,
    data: Option<String>,
    form: Vec<(String, String)>,
    proxy: Option<String>,
    cacert: Option<String>,
    max_time: Option<f64>,
    max_redirs: Option<u32>,
    include: bool,
    urls: Vec<String>,
}

const USAGE: &str = "usage: fetch [-X METHOD] [-H 'Name: value']... [-d DATA] [--form k=v]... \
[--proxy URL] [--cacert FILE] [--max-time SECS] [--max-redirs N] [-i] URL...";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        method: None,
        headers: Vec::new(),
        data: None,
        form: Vec::new(),
        proxy: None,
        cacert: None,
        max_time: None,
        max_redirs: None,
        include: false,
        urls: Vec::new(),
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-X" | "--request" => {
                let m = value("-X")?;
                o.method = Some(m.parse().map_err(|_| format!("bad method {m:?}"))?);
            }
            "-H" | "--header" => {
                let h = value("-H")?;
                let (n, v) =
                    h.split_once(':').ok_or_else(|| format!("bad header {h:?} (want 'Name: value')"))?;
                o.headers.push((n.trim().to_string(), v.trim().to_string()));
            }
            "-d" | "--data" => o.data = Some(value("-d")?),
            "--form" => {
                let kv = value("--form")?;
                let (k, v) = kv.split_once('=').ok_or_else(|| format!("bad form field {kv:?} (want k=v)"))?;
                o.form.push((k.to_string(), v.to_string()));
            }
            "--proxy" | "-x" => o.proxy = Some(value("--proxy")?),
            "--cacert" => o.cacert = Some(value("--cacert")?),
            "--max-time" | "-m" => {
                let s = value("--max-time")?;
                let secs: f64 = s.parse().map_err(|_| format!("bad --max-time {s:?}"))?;
                if !(secs.is_finite() && secs > 0.0) {
                    return Err(format!("bad --max-time {s:?}"));
                }
                o.max_time = Some(secs);
            }
            "--max-redirs" => {
                let s = value("--max-redirs")?;
                o.max_redirs = Some(s.parse().map_err(|_| format!("bad --max-redirs {s:?}"))?);
            }
            "-i" | "--include" => o.include = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}\n{USAGE}")),
            _ => o.urls.push(arg),
        }
    }
    if o.urls.is_empty() {
        return Err(USAGE.to_string());
    }
    if o.data.is_some() && !o.form.is_empty() {
        return Err("use either -d or --form, not both".to_string());
    }
    Ok(o)
}

fn build_client(o: &Options) -> Result<Client, http_client::Error> {
    let mut b = Client::builder();
    if let Some(secs) = o.max_time {
        b = b.timeout(Duration::from_secs_f64(secs));
    }
    if let Some(n) = o.max_redirs {
        b = b.max_redirects(n);
    }
    if let Some(path) = &o.cacert {
        b = b.add_root_certificate_file(path);
    }
    let client = b.build()?;
    if let Some(p) = &o.proxy {
        client.add_proxy(ProxyPattern::Any, Proxy::new(p)?);
    }
    Ok(client)
}

fn request_for(o: &Options, url: &str) -> Result<Request, http_client::Error> {
    let (body, default_method): (Body, Method) = if !o.form.is_empty() {
        (Body::from(http_utils::encode_form(&o.form)), Method::Post)
    } else if let Some(d) = &o.data {
        (Body::from(d.as_str()), Method::Post)
    } else {
        (Body::Empty, Method::Get)
    };
    let has_body = !body.is_empty();
    let mut req = Request::new(o.method.clone().unwrap_or(default_method), url).with_body(body);
    if has_body && !o.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
        req.headers_mut()
            .append("Content-Type", "application/x-www-form-urlencoded")
            .map_err(http_client::Error::InvalidHeader)?;
    }
    for (n, v) in &o.headers {
        req.headers_mut().append(n, v).map_err(http_client::Error::InvalidHeader)?;
    }
    Ok(req)
}

fn fetch(client: &Client, o: &Options, url: &str, out: &mut impl Write) -> Result<u16, http_client::Error> {
    let mut resp = client.send(request_for(o, url)?)?;
    if o.include {
        write!(out, "{}\r\n", resp.status_line())?;
        for (n, v) in resp.headers().iter() {
            write!(out, "{n}: {v}\r\n")?;
        }
        write!(out, "\r\n")?;
    }
    io::copy(&mut resp, out)?;
    out.flush()?;
    Ok(resp.status())
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
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut http_error = false;
    for url in &o.urls {
        match fetch(&client, &o, url, &mut out) {
            Ok(status) if status >= 400 => {
                eprintln!("fetch: {url}: the server answered {status}");
                http_error = true;
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("fetch: {url}: {e}");
                return ExitCode::from(1);
            }
        }
    }
    if http_error {
        ExitCode::from(22)
    } else {
        ExitCode::SUCCESS
    }
}
