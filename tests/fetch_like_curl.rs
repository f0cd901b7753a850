//! The `fetch` example beside curl: the same command lines send the same requests (bodies from
//! files and stdin, urlencoded data, multipart forms, credentials, removed headers), end with
//! the same exit status past `--max-redirs`, show every head of a redirect chain with `-i`,
//! write `-o FILE`, and never print a URL's password.

mod client_common;
mod programs;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use client_common::{RawServer, Seen};

/// The example binary, built by `cargo test` next to the test binaries.
fn fetch_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path =
        exe.parent()?.parent()?.join("examples").join(format!("fetch{}", std::env::consts::EXE_SUFFIX));
    path.exists().then_some(path)
}

/// curl, or `None` when it is not installed (see `programs`).
fn curl() -> Option<PathBuf> {
    programs::require("fetch_like_curl", "curl", "apt-get install curl")
}

/// A server that records each request and answers by path: `/to/N` redirects to `/to/N-1`
/// down to `/to/0`, `/401` asks for credentials, anything else is 200 with `ok`.
fn server() -> (RawServer, mpsc::Receiver<Seen>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = RawServer::start(move |mut peer| {
        while let Some(seen) = peer.read_request() {
            let reply = match seen.target.strip_prefix("/to/").and_then(|n| n.parse::<u32>().ok()) {
                Some(n) if n > 0 => {
                    format!("HTTP/1.1 302 Found\r\nLocation: /to/{}\r\nContent-Length: 0\r\n\r\n", n - 1)
                }
                _ if seen.target == "/401" => {
                    "HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nwho?".to_owned()
                }
                _ => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_owned(),
            };
            let _ = tx.lock().unwrap().send(seen);
            if !peer.write(reply.as_bytes()) {
                break;
            }
        }
    });
    (server, rx)
}

/// The proxy variables both programs read, unset for every run unless a test sets them.
const PROXY_VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

fn run(program: &std::path::Path, args: &[&str], stdin: &[u8]) -> Output {
    run_with_env(program, args, stdin, &[])
}

/// Runs `program` with `env` as its only proxy variables.
fn run_with_env(program: &std::path::Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(program);
    for var in PROXY_VARS {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

/// The request each program sent for `args` (the server's URL appended).
fn both(args: &[&str], stdin: &[u8]) -> Option<(Seen, Seen)> {
    let (bin, curl) = (fetch_binary()?, curl()?);
    let (server, seen) = server();
    let url = server.url("/echo");
    let mut with_url: Vec<&str> = args.to_vec();
    with_url.push(&url);
    let theirs = run(&curl, &with_url, stdin);
    assert!(theirs.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&theirs.stderr));
    let a = seen.recv_timeout(Duration::from_secs(10)).unwrap();
    let ours = run(&bin, &with_url, stdin);
    assert!(ours.status.success(), "fetch {args:?}: {}", String::from_utf8_lossy(&ours.stderr));
    let b = seen.recv_timeout(Duration::from_secs(10)).unwrap();
    Some((a, b))
}

fn temp_file(name: &str, contents: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("fetch-like-curl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn data_from_files_stdin_and_urlencoding_is_sent_as_curl_sends_it() {
    let file = temp_file("data.txt", b"a=1\nb=2\r\nc=3\n");
    let at_file = format!("@{file}");
    let big: Vec<u8> = (0..3u32 << 20).map(|i| (i % 251) as u8).collect();
    let cases: Vec<(Vec<&str>, &[u8])> = vec![
        (vec!["-d", &at_file], b""),
        (vec!["--data-binary", &at_file], b""),
        (vec!["-d", "x=1", "-d", &at_file, "--data-urlencode", "name=a b&c/d"], b""),
        (vec!["--data-urlencode", "=only value", "--data-urlencode", "plain~text"], b""),
        (vec!["-d", "@-"], b"from\nstdin\n"),
        (vec!["--data-binary", "@-"], &big),
        (
            vec!["-X", "PUT", "--data-binary", "@-", "-H", "Content-Type: application/octet-stream"],
            b"\x00\xff",
        ),
    ];
    for (args, stdin) in cases {
        let Some((curl, fetch)) = both(&args, stdin) else { return };
        assert_eq!(fetch.method, curl.method, "{args:?}");
        assert_eq!(fetch.body.len(), curl.body.len(), "{args:?}");
        assert!(
            fetch.body == curl.body,
            "{args:?}: {:?}",
            String::from_utf8_lossy(&fetch.body[..fetch.body.len().min(200)])
        );
        assert_eq!(fetch.header("content-type"), curl.header("content-type"), "{args:?}");
    }
}

/// The multipart body with its boundary replaced by `BOUNDARY`.
fn normalized(seen: &Seen) -> String {
    let ct = seen.header("content-type").unwrap();
    let boundary = ct.split_once("boundary=").unwrap().1;
    String::from_utf8_lossy(&seen.body).replace(boundary, "BOUNDARY")
}

#[test]
fn forms_are_multipart_as_curl_sends_them() {
    let file = temp_file("notes.txt", b"line one\nline two\n");
    let bin = temp_file("blob.bin", &[0, 1, 2, 255]);
    let (f, b) = (format!("file=@{file}"), format!("blob=@{bin}"));
    let Some((curl, fetch)) = both(&["-F", "name=value", "-F", &f, "-F", &b], b"") else { return };
    assert!(fetch.header("content-type").unwrap().starts_with("multipart/form-data; boundary="));
    assert_eq!(normalized(&fetch), normalized(&curl));
    assert_eq!(fetch.method, "POST");
}

#[test]
fn credentials_and_removed_headers_as_curl() {
    let args = ["-u", "alice:s3cret", "-H", "User-Agent:", "-H", "X-Empty;", "-H", "Accept-Encoding:"];
    let Some((curl, fetch)) = both(&args, b"") else { return };
    assert_eq!(fetch.header("authorization"), curl.header("authorization"));
    assert_eq!(fetch.header("authorization"), Some("Basic YWxpY2U6czNjcmV0"));
    assert_eq!(fetch.header("user-agent"), None);
    assert_eq!(fetch.header("accept-encoding"), None);
    assert_eq!(fetch.header("x-empty"), curl.header("x-empty"));
    assert_eq!(fetch.header("x-empty"), Some(""));
}

#[test]
fn redirect_limits_heads_and_output_files_as_curl() {
    let (Some(bin), Some(curl)) = (fetch_binary(), curl()) else { return };
    let (server, _seen) = server();
    let chain = server.url("/to/2");
    // Past --max-redirs: 47 from both.
    for max in ["0", "1"] {
        let theirs = run(&curl, &["-s", "-L", "--max-redirs", max, &chain], b"");
        let ours = run(&bin, &["--max-redirs", max, &chain], b"");
        assert_eq!(ours.status.code(), theirs.status.code(), "--max-redirs {max}");
        assert_eq!(ours.status.code(), Some(47));
    }
    // -i shows every head of the chain, in order, then the body.
    let theirs = run(&curl, &["-s", "-L", "-i", &chain], b"");
    let ours = run(&bin, &["-i", &chain], b"");
    let status_lines = |o: &Output| -> Vec<String> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.starts_with("HTTP/"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(status_lines(&ours), status_lines(&theirs));
    assert_eq!(status_lines(&ours).len(), 3);
    assert!(String::from_utf8_lossy(&ours.stdout).ends_with("\r\n\r\nok"));
    // -o FILE.
    let path = temp_file("out.txt", b"");
    let ours = run(&bin, &["-o", &path, &chain], b"");
    assert!(ours.status.success() && ours.stdout.is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), b"ok");
}

#[test]
fn a_password_in_the_url_is_never_printed() {
    let Some(bin) = fetch_binary() else { return };
    let (server, seen) = server();
    let url = format!("http://alice:wrong-pass@{}/401", server.addr);
    let out = run(&bin, &[&url], b"");
    assert_eq!(out.status.code(), Some(22));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("401") && !err.contains("wrong-pass"), "{err}");
    assert!(seen.recv_timeout(Duration::from_secs(5)).unwrap().header("authorization").is_some());
    // A failure, too.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let out = run(&bin, &[&format!("http://alice:wrong-pass@{dead}/")], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(!err.contains("wrong-pass"), "{err}");
}

/// A server that logs every request and answers with `answer(seen)`.
fn logging(answer: impl Fn(&Seen) -> String + Send + Sync + 'static) -> (RawServer, mpsc::Receiver<Seen>) {
    RawServer::recording(answer)
}

fn redirect(status: u16, location: &str) -> String {
    format!("HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

const CREDENTIAL_ARGS: [&str; 6] = [
    "-H",
    "Authorization: Bearer secret-token",
    "-H",
    "Cookie: session=secret",
    "-H",
    "Proxy-Authorization: Basic eDp5",
];

fn assert_no_credentials(seen: &Seen, who: &str) {
    for name in ["authorization", "cookie", "proxy-authorization"] {
        assert_eq!(seen.header(name), None, "{who} sent {name} to {}", seen.target);
    }
}

#[test]
fn header_credentials_do_not_follow_a_redirect_to_another_origin_as_curl() {
    let (Some(bin), Some(curl)) = (fetch_binary(), curl()) else { return };
    let (other, other_seen) = logging(|_| OK.to_owned());
    // Another port on the same host is another origin (curl's fix of CVE-2022-27776).
    let target = other.url("/landing");
    let (server, seen) = logging(move |_| redirect(302, &target));
    let url = server.url("/start");
    let mut args: Vec<&str> = CREDENTIAL_ARGS.to_vec();
    args.push(&url);
    let theirs = run(curl.as_path(), &[&["-s", "-L"], &args[..]].concat(), b"");
    assert!(theirs.status.success());
    let ours = run(&bin, &args, b"");
    assert!(ours.status.success(), "{}", String::from_utf8_lossy(&ours.stderr));
    assert_eq!(String::from_utf8_lossy(&ours.stdout), "ok");
    for who in ["curl", "fetch"] {
        let first = seen.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(first.header("authorization"), Some("Bearer secret-token"), "{who}");
        let landed = other_seen.recv_timeout(Duration::from_secs(10)).unwrap();
        if who == "curl" {
            // curl 7.88 strips these two (it forwards a custom Proxy-Authorization; fetch,
            // like the library, does not).
            assert_eq!((landed.header("authorization"), landed.header("cookie")), (None, None));
        } else {
            assert_no_credentials(&landed, who);
        }
    }
    // -u too.
    let ours = run(&bin, &["-u", "alice:pw", &url], b"");
    assert!(ours.status.success());
    assert!(seen.recv_timeout(Duration::from_secs(10)).unwrap().header("authorization").is_some());
    assert_no_credentials(&other_seen.recv_timeout(Duration::from_secs(10)).unwrap(), "fetch -u");
}

#[test]
fn credentials_stay_dropped_when_the_chain_comes_back() {
    let Some(bin) = fetch_binary() else { return };
    // A → B → A: the second visit to A gets nothing (curl sends them again there).
    let b_port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let port = b_port.clone();
    let (a, a_seen) = logging(move |s| match s.target.as_str() {
        "/start" => redirect(302, &format!("http://127.0.0.1:{}/bounce", port.get().unwrap())),
        _ => OK.to_owned(),
    });
    let back = a.url("/back");
    let (b, b_seen) = logging(move |_| redirect(307, &back));
    b_port.set(b.addr.port()).unwrap();
    let url = a.url("/start");
    let ours = run(&bin, &[&CREDENTIAL_ARGS[..], &["-u", "alice:pw", &url]].concat(), b"");
    assert!(ours.status.success(), "{}", String::from_utf8_lossy(&ours.stderr));
    assert!(a_seen.recv_timeout(Duration::from_secs(10)).unwrap().header("cookie").is_some());
    assert_no_credentials(&b_seen.recv_timeout(Duration::from_secs(10)).unwrap(), "fetch");
    let again = a_seen.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(again.target, "/back");
    assert_no_credentials(&again, "fetch");
}

#[test]
fn a_location_with_credentials_is_refused() {
    let Some(bin) = fetch_binary() else { return };
    let (other, _other_seen) = logging(|_| OK.to_owned());
    let target = format!("http://mallory:stolen@{}/landing", other.addr);
    let (server, _seen) = logging(move |_| redirect(302, &target));
    let ours = run(&bin, &[&server.url("/start")], b"");
    assert_eq!(ours.status.code(), Some(1));
    let err = String::from_utf8_lossy(&ours.stderr);
    assert!(err.contains("user name or password") && !err.contains("stolen"), "{err}");
    assert_eq!(other.accepted(), 0);
}

#[test]
fn an_unfollowed_307_after_a_body_from_stdin_fails() {
    let Some(bin) = fetch_binary() else { return };
    let (server, seen) =
        logging(|s| if s.target == "/post" { redirect(307, "/again") } else { OK.to_owned() });
    let ours = run(&bin, &["--data-binary", "@-", &server.url("/post")], b"streamed body");
    // curl's CURLE_SEND_FAIL_REWIND.
    assert_eq!(ours.status.code(), Some(65), "{}", String::from_utf8_lossy(&ours.stderr));
    let err = String::from_utf8_lossy(&ours.stderr);
    assert!(err.contains("307") && err.contains("stdin"), "{err}");
    assert_eq!(seen.recv_timeout(Duration::from_secs(10)).unwrap().body, b"streamed body");
    assert!(seen.recv_timeout(Duration::from_millis(200)).is_err());
    // A 303 turns it into a GET, which needs no body: followed.
    let (server, _seen) =
        logging(|s| if s.target == "/post" { redirect(303, "/again") } else { OK.to_owned() });
    let ours = run(&bin, &["--data-binary", "@-", &server.url("/post")], b"x");
    assert!(ours.status.success());
}

#[test]
fn the_proxy_environment_is_honoured_as_curl_honours_it() {
    let (Some(bin), Some(curl)) = (fetch_binary(), curl()) else { return };
    // A recording server stands in for the proxy: absolute-form targets come to it.
    let (proxy, via_proxy) = logging(|_| OK.to_owned());
    let (origin, direct) = logging(|_| OK.to_owned());
    let proxy_url = format!("http://127.0.0.1:{}", proxy.addr.port());
    let target = format!("http://origin.invalid:{}/page", origin.addr.port());
    let quiet = |program: &std::path::Path| if program == curl.as_path() { "-s" } else { "-i" };
    for program in [curl.as_path(), &bin] {
        let out = run_with_env(program, &[quiet(program), &target], b"", &[("http_proxy", &proxy_url)]);
        assert!(out.status.success(), "{program:?}: {}", String::from_utf8_lossy(&out.stderr));
        let seen = via_proxy.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(seen.target, target, "{program:?}");
    }
    // no_proxy and --noproxy send it direct; -x '' ignores the environment.
    let here = origin.url("/direct");
    let env = [("http_proxy", proxy_url.as_str()), ("no_proxy", "127.0.0.1")];
    for (program, extra) in [(curl.as_path(), None), (&bin, None), (&bin, Some("--noproxy"))] {
        let out = match extra {
            Some(flag) => run_with_env(program, &[flag, "127.0.0.1", &here], b"", &env[..1]),
            None => run_with_env(program, &[quiet(program), &here], b"", &env),
        };
        assert!(out.status.success(), "{program:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(direct.recv_timeout(Duration::from_secs(10)).unwrap().target, "/direct");
    }
    let out = run_with_env(&bin, &["-x", "", &here], b"", &env[..1]);
    assert!(out.status.success());
    assert_eq!(direct.recv_timeout(Duration::from_secs(10)).unwrap().target, "/direct");
    assert!(via_proxy.try_recv().is_err());
}

#[test]
fn an_unusable_proxy_in_the_environment_is_an_error_not_a_direct_connection() {
    let Some(bin) = fetch_binary() else { return };
    let (origin, _seen) = logging(|_| OK.to_owned());
    for (name, value) in
        [("ALL_PROXY", "ftp://127.0.0.1:3128"), ("http_proxy", "http://[::1"), ("all_proxy", "gopher://p:1")]
    {
        let out = run_with_env(&bin, &[&origin.url("/")], b"", &[(name, value)]);
        assert_eq!(out.status.code(), Some(1), "{name}={value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(name), "{name}={value}: {err}");
    }
    assert_eq!(origin.accepted(), 0);
}

#[test]
fn a_black_holed_first_address_costs_a_quarter_second_as_with_curl() {
    let (Some(bin), Some(curl)) = (fetch_binary(), curl()) else { return };
    // A server on 127.0.0.1:P, and on [::1]:P a listener whose full accept queue drops SYNs.
    let (server, _seen) = logging(|_| OK.to_owned());
    let port = server.addr.port();
    let Some(hole) = black_hole(std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port))) else {
        eprintln!("\n*** SKIPPED: no black hole on ::1 here; Happy Eyeballs not compared ***\n");
        return;
    };
    let resolve = format!("dual.test:{port}:[::1],127.0.0.1");
    let url = format!("http://dual.test:{port}/");
    for program in [curl.as_path(), &bin] {
        let start = std::time::Instant::now();
        let out = run(program, &["--resolve", &resolve, "--max-time", "20", &url], b"");
        let took = start.elapsed();
        assert!(out.status.success(), "{program:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ok");
        eprintln!("{program:?}: {took:?}");
        assert!(took < Duration::from_millis(1500), "{program:?}: {took:?}");
    }
    drop(hole);
}

/// A listener at `addr` with a full accept queue, which answers no connection attempt, and
/// the connection that fills it.
fn black_hole(addr: std::net::SocketAddr) -> Option<(std::net::TcpListener, std::net::TcpStream)> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).ok()?;
    if addr.is_ipv6() {
        socket.set_only_v6(true).ok()?;
    }
    socket.bind(&addr.into()).ok()?;
    socket.listen(0).ok()?;
    let filler = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(150)).is_err().then_some(())?;
    Some((socket.into(), filler))
}

/// Python's pproxy serving SOCKS5 on a free loopback port, killed on drop; `None` (loudly)
/// when it is not installed, a failure under CI.
struct Pproxy(std::process::Child, u16);

impl Pproxy {
    fn start() -> Option<Pproxy> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let listen = format!("socks5://127.0.0.1:{port}");
        let pproxy = programs::require("fetch_like_curl (SOCKS)", "pproxy", "pip install pproxy")?;
        let child = Command::new(pproxy)
            .args(["-l", &listen])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pproxy starts");
        let proxy = Pproxy(child, port);
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(10), "pproxy did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(proxy)
    }
}

impl Drop for Pproxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn through_a_socks5_proxy_as_curl() {
    let (Some(bin), Some(curl)) = (fetch_binary(), curl()) else { return };
    let Some(pproxy) = Pproxy::start() else { return };
    let (origin, seen) = logging(|_| OK.to_owned());
    let proxy = format!("socks5h://127.0.0.1:{}", pproxy.1);
    let url = format!("http://localhost:{}/via-socks", origin.addr.port());
    for program in [curl.as_path(), &bin] {
        // From -x, then from ALL_PROXY.
        let out = run(program, &["-x", &proxy, &url], b"");
        assert!(out.status.success(), "{program:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ok");
        let out = run_with_env(program, &[&url], b"", &[("ALL_PROXY", &proxy)]);
        assert!(out.status.success(), "{program:?}: {}", String::from_utf8_lossy(&out.stderr));
        for _ in 0..2 {
            let s = seen.recv_timeout(Duration::from_secs(10)).unwrap();
            // Origin form: a SOCKS proxy is a tunnel.
            assert_eq!(s.target, "/via-socks", "{program:?}");
            assert_eq!(s.header("proxy-authorization"), None);
        }
    }
}
