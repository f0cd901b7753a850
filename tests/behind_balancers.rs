//! Several instances of the `service` example behind real load balancers from Debian: nginx
//! (X-Forwarded-For) and HAProxy (the PROXY protocol v2), with the configurations of the
//! deployment guide (`docs/deploy/`). Under a load of GETs and POSTs the instances are
//! restarted one after another (SIGTERM, and a new instance on the same socket or port);
//! every request is counted: none may fail, none be lost, none be stored twice. And the
//! client address a handler sees is the real client's, never one a client made up.
#![cfg(unix)]

mod programs;
mod server_support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_toolkit::client::Client;
use http_toolkit::utils::Method;
use server_support::instances::{Instance, Socket};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ht-balancers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A guide's configuration with the front's address (`front` becomes `listen`) and the
/// instances' ports put in.
fn config(text: &str, front: &str, listen: &str, instances: [u16; 3]) -> String {
    assert!(text.contains(front));
    let mut s = text.replace(front, listen);
    for (i, p) in instances.iter().enumerate() {
        s = s.replace(&format!("127.0.0.1:808{}", i + 1), &format!("127.0.0.1:{p}"));
    }
    assert!(!s.contains(":808"), "every instance port replaced");
    s
}

/// The balancers a test needs, or `None` when one is missing (see `programs`).
fn have(test: &str, balancers: &[&str]) -> Option<()> {
    let install =
        |b: &str| if b == "nginx" { "apt-get install nginx-light" } else { "apt-get install haproxy" };
    balancers.iter().all(|b| programs::require(test, b, install(b)).is_some()).then_some(())
}

fn find(binary: &str) -> PathBuf {
    programs::find(binary).unwrap_or_else(|| panic!("{binary} is not installed (.ci/run installs it)"))
}

/// A balancer in the foreground; killed on drop.
struct Balancer {
    child: Child,
    port: u16,
}

impl Balancer {
    fn wait_listening(mut child: Child, port: u16) -> Balancer {
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the balancer exited: {status}");
            }
            assert!(start.elapsed() < Duration::from_secs(10), "the balancer did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Balancer { child, port }
    }

    /// nginx with 2 workers and the guide's site (docs/deploy/nginx.conf).
    fn nginx(dir: &Path, instances: [u16; 3]) -> Balancer {
        let port = free_port();
        let site = config(
            include_str!("../docs/deploy/nginx.conf"),
            "listen 80;",
            &format!("listen 127.0.0.1:{port};"),
            instances,
        );
        let d = dir.display();
        let conf = format!(
            "daemon off;\nworker_processes 2;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n\
             client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};\n\
             uwsgi_temp_path {d}; scgi_temp_path {d};\n{site}\n}}\n"
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let child = Command::new(find("nginx"))
            .arg("-c")
            .arg(&path)
            .arg("-p")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nginx");
        Balancer::wait_listening(child, port)
    }

    /// HAProxy with the guide's configuration (docs/deploy/haproxy.cfg).
    fn haproxy(dir: &Path, instances: [u16; 3]) -> Balancer {
        let port = free_port();
        let cfg = config(
            include_str!("../docs/deploy/haproxy.cfg"),
            "bind :80",
            &format!("bind 127.0.0.1:{port}"),
            instances,
        );
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let child = Command::new(find("haproxy"))
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy");
        Balancer::wait_listening(child, port)
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        // SIGTERM: nginx's master stops its workers too (SIGKILL would orphan them).
        let _ = Command::new("sh").arg("-c").arg(format!("kill -TERM {}", self.child.id())).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port of 127.0.0.1 held by a bound socket with SO_REUSEPORT that does not listen.
fn reserve_port() -> socket2::Socket {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.set_reuse_address(true).unwrap();
    s.set_reuse_port(true).unwrap();
    s.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into()).unwrap();
    s
}

fn port_of(s: &socket2::Socket) -> u16 {
    s.local_addr().unwrap().as_socket().unwrap().port()
}

/// How the instances of a slot get their socket.
enum Slots {
    /// Listening sockets held here and handed to each instance, systemd style.
    HandedOver(Vec<TcpListener>),
    /// Ports that each new instance shares with the old one through SO_REUSEPORT, each
    /// held by a socket bound here (never listening, so it takes no connection), so that no
    /// other test and no outgoing connection can take the port meanwhile.
    ReusePort(Vec<socket2::Socket>),
}

impl Slots {
    fn handed_over() -> Slots {
        Slots::HandedOver((0..3).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect())
    }

    fn reuse_port() -> Slots {
        Slots::ReusePort((0..3).map(|_| reserve_port()).collect())
    }

    fn ports(&self) -> [u16; 3] {
        let v: Vec<u16> = match self {
            Slots::HandedOver(l) => l.iter().map(|l| l.local_addr().unwrap().port()).collect(),
            Slots::ReusePort(p) => p.iter().map(port_of).collect(),
        };
        [v[0], v[1], v[2]]
    }

    fn start(&self, slot: usize, generation: usize, dir: &Path, extra: &[&str]) -> Instance {
        let record = dir.join(format!("orders-{slot}-{generation}.txt"));
        let record = record.to_str().unwrap().to_owned();
        let mut args = vec!["--record", &record, "--grace", "10"];
        args.extend_from_slice(extra);
        let name = format!("s{slot}g{generation}");
        let socket = match self {
            Slots::HandedOver(l) => Socket::HandedOver(&l[slot]),
            Slots::ReusePort(p) => Socket::Port(port_of(&p[slot]), true),
        };
        Instance::start(&name, socket, &args, &[])
    }
}

/// What the load saw.
#[derive(Default)]
struct Tally {
    gets: u64,
    posts: u64,
    /// Order ids answered as stored.
    stored: Vec<String>,
    failures: Vec<String>,
}

/// Clients sending GETs and POSTs (each with a new order id) through the balancer until
/// `stop`, at most 60 s and 20,000 requests each.
fn load(url: String, clients: usize, stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<Tally>> {
    (0..clients)
        .map(|c| {
            let (url, stop) = (url.clone(), stop.clone());
            std::thread::spawn(move || {
                let client = Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
                let mut t = Tally::default();
                let started = Instant::now();
                for i in 0..20_000u32 {
                    if stop.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(60) {
                        break;
                    }
                    if i % 2 == 0 {
                        let id = format!("c{c}-{i}");
                        t.posts += 1;
                        match client
                            .request(Method::Post, format!("{url}/orders"))
                            .body(id.clone().into_bytes())
                            .send()
                        {
                            Ok(r) if r.status() == 200 => match r.text() {
                                Ok(body) if body.starts_with(&format!("stored {id} by ")) => {
                                    t.stored.push(id)
                                }
                                other => t.failures.push(format!("POST {id}: {other:?}")),
                            },
                            Ok(r) => t.failures.push(format!("POST {id}: status {}", r.status())),
                            Err(e) => t.failures.push(format!("POST {id}: {e}")),
                        }
                    } else {
                        t.gets += 1;
                        match client.get_text(format!("{url}/work?ms={}", i % 7)) {
                            Ok(body) if body.starts_with("worked by ") => {}
                            other => t.failures.push(format!("GET {i}: {other:?}")),
                        }
                    }
                }
                t
            })
        })
        .collect()
}

/// Starts three instances, runs the load through `balancer`, restarts every instance once
/// (a new one first, then SIGTERM to the old), and checks every request.
fn rolling_restart(
    name: &str,
    slots: Slots,
    extra: &[&str],
    balancer: impl FnOnce(&Path, [u16; 3]) -> Balancer,
) {
    let dir = scratch(name);
    let mut current: Vec<Instance> = (0..3).map(|s| slots.start(s, 0, &dir, extra)).collect();
    let front = balancer(&dir, slots.ports());
    // The balancer answers through every instance before the load starts.
    let probe = Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let start = Instant::now();
    while probe.get_text(front.url("/health")).map_or(true, |b| b != "ok") {
        assert!(start.elapsed() < Duration::from_secs(15), "the balancer does not reach the instances");
        std::thread::sleep(Duration::from_millis(50));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(front.url(""), 6, stop.clone());
    std::thread::sleep(Duration::from_millis(400));
    let mut restarts = Vec::new();
    for (slot, running) in current.iter_mut().enumerate() {
        let next = slots.start(slot, 1, &dir, extra);
        std::thread::sleep(Duration::from_millis(200));
        let mut old = std::mem::replace(running, next);
        let signalled = Instant::now();
        old.signal("TERM");
        let status = old.wait(Duration::from_secs(15)).expect("the old instance exits");
        assert!(status.success(), "{} exited with {status}", old.name);
        restarts.push(signalled.elapsed());
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let tallies: Vec<Tally> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    for i in &current {
        i.signal("TERM");
    }
    for i in &mut current {
        assert!(i.wait(Duration::from_secs(15)).expect("exits").success());
    }
    drop(front);

    let failures: Vec<&String> = tallies.iter().flat_map(|t| &t.failures).collect();
    let (gets, posts): (u64, u64) = tallies.iter().fold((0, 0), |(g, p), t| (g + t.gets, p + t.posts));
    eprintln!("{name}: {gets} GETs and {posts} POSTs through 3 restarts (each stop took {restarts:?})");
    assert!(
        failures.is_empty(),
        "{} of {} requests failed: {:?}",
        failures.len(),
        gets + posts,
        &failures[..failures.len().min(10)]
    );
    assert!(posts > 30 && gets > 30, "the load ran ({gets} GETs, {posts} POSTs)");
    // Every stored order is in exactly one instance's record, once; nothing else is there.
    let mut recorded: HashMap<String, usize> = HashMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_str().unwrap().starts_with("orders-") {
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                *recorded.entry(line.to_owned()).or_default() += 1;
            }
        }
    }
    let stored: Vec<&String> = tallies.iter().flat_map(|t| &t.stored).collect();
    assert_eq!(stored.len() as u64, posts);
    let lost: Vec<&&String> = stored.iter().filter(|id| !recorded.contains_key(id.as_str())).collect();
    assert!(lost.is_empty(), "answered as stored but not recorded: {lost:?}");
    let twice: Vec<(&String, &usize)> = recorded.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "recorded more than once: {twice:?}");
    assert_eq!(recorded.len(), stored.len(), "recorded orders nobody was told about");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nginx_over_three_instances_restarted_one_by_one_on_handed_over_sockets() {
    let Some(()) = have("nginx_over_three_instances_restarted_one_by_one_on_handed_over_sockets", &["nginx"])
    else {
        return;
    };
    rolling_restart("nginx", Slots::handed_over(), &["--trust", "127.0.0.1"], Balancer::nginx);
}

#[test]
fn haproxy_with_proxy_v2_over_three_instances_restarted_one_by_one_with_reuse_port() {
    let Some(()) =
        have("haproxy_with_proxy_v2_over_three_instances_restarted_one_by_one_with_reuse_port", &["haproxy"])
    else {
        return;
    };
    rolling_restart(
        "haproxy",
        Slots::reuse_port(),
        &["--proxy-protocol", "--trust", "127.0.0.1"],
        Balancer::haproxy,
    );
}

/// A GET from `source` (a loopback address of its own) to `to`, with extra header lines.
fn get_from(source: &str, to: SocketAddr, path: &str, extra: &str) -> String {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&format!("{source}:0").parse::<SocketAddr>().unwrap().into()).unwrap();
    socket.connect(&to.into()).unwrap();
    let mut s: TcpStream = socket.into();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: shop.example\r\n{extra}Connection: close\r\n\r\n");
    // A server that refuses the connection may close it before the request is all written.
    let _ = s.write_all(request.as_bytes());
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.rsplit("\r\n\r\n").next().unwrap_or("").to_owned()
}

#[test]
fn the_client_address_is_the_real_clients_behind_each_balancer() {
    let Some(()) = have("the_client_address_is_the_real_clients_behind_each_balancer", &["nginx", "haproxy"])
    else {
        return;
    };
    let dir = scratch("whoami");
    let trust = ["--trust", "127.0.0.1"];
    // nginx: X-Forwarded-For, believed from nginx (127.0.0.1) only.
    let plain = Slots::handed_over();
    let _plain: Vec<Instance> = (0..3).map(|s| plain.start(s, 0, &dir, &trust)).collect();
    let nginx = Balancer::nginx(&dir, plain.ports());
    let front: SocketAddr = format!("127.0.0.1:{}", nginx.port).parse().unwrap();
    let seen = get_from("127.0.0.2", front, "/whoami", "");
    assert!(seen.starts_with("client=127.0.0.2 scheme=http host=shop.example by="), "{seen}");
    // A client that sends its own X-Forwarded-For: nginx appends the real address, which is
    // the first one not trusted from the right.
    let seen = get_from("127.0.0.2", front, "/whoami", "X-Forwarded-For: 203.0.113.9\r\n");
    assert!(seen.starts_with("client=127.0.0.2 "), "{seen}");
    // Straight to an instance from an address that is not trusted: the header is ignored.
    let direct: SocketAddr = format!("127.0.0.1:{}", plain.ports()[0]).parse().unwrap();
    let seen = get_from(
        "127.0.0.3",
        direct,
        "/whoami",
        "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n",
    );
    assert!(seen.starts_with("client=127.0.0.3 scheme=http "), "{seen}");

    // HAProxy: the PROXY protocol v2.
    let proxied = Slots::reuse_port();
    let _proxied: Vec<Instance> =
        (0..3).map(|s| proxied.start(s, 0, &dir, &["--proxy-protocol", "--trust", "127.0.0.1"])).collect();
    let haproxy = Balancer::haproxy(&dir, proxied.ports());
    let front: SocketAddr = format!("127.0.0.1:{}", haproxy.port).parse().unwrap();
    let start = Instant::now();
    let mut seen = String::new();
    while !seen.starts_with("client=") {
        assert!(start.elapsed() < Duration::from_secs(15), "HAProxy does not reach the instances: {seen:?}");
        seen = get_from("127.0.0.4", front, "/whoami", "X-Forwarded-For: 203.0.113.9\r\n");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(seen.starts_with("client=127.0.0.4 scheme=http host=shop.example by="), "{seen}");
    // A PROXY-protocol instance refuses a connection without the header.
    let direct: SocketAddr = format!("127.0.0.1:{}", proxied.ports()[0]).parse().unwrap();
    assert_eq!(get_from("127.0.0.1", direct, "/whoami", ""), "");
    let _ = std::fs::remove_dir_all(&dir);
}
