//! Signals and the service manager, on the `service` example run as a process: SIGTERM lets
//! requests in flight (a slow handler, a slow upload) finish and the process exit 0; a second
//! signal cuts the grace period short; a socket handed over systemd style is served, and
//! readiness and stopping are told to `NOTIFY_SOCKET`.
#![cfg(unix)]

mod programs;
mod server_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use server_support::instances::{Instance, Socket};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn addr_of(i: &Instance) -> SocketAddr {
    i.listening.trim().parse().expect("a TCP address")
}

/// Sends `request` and reads until the server closes (at most 20 s).
fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn sigterm_lets_a_slow_request_finish_then_exits_0() {
    let mut i = Instance::start("slow", Socket::Port(free_port(), false), &[], &[]);
    let addr = addr_of(&i);
    let pending = std::thread::spawn(move || {
        exchange(addr, b"GET /work?ms=1500 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    });
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    i.signal("TERM");
    let reply = pending.join().unwrap();
    assert!(reply.starts_with("HTTP/1.1 200") && reply.ends_with("worked by slow"), "{reply:?}");
    let status = i.wait(Duration::from_secs(10)).expect("the process exits");
    assert!(status.success(), "{status:?}");
    assert!(signalled.elapsed() < Duration::from_secs(5));
    // Nothing listens any more.
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn sigterm_during_a_slow_upload_lets_it_finish() {
    let mut i = Instance::start("upload", Socket::Port(free_port(), false), &[], &[]);
    let addr = addr_of(&i);
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let total = 64 * 1024;
    s.write_all(format!("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n").as_bytes())
        .unwrap();
    let piece = vec![b'u'; 4096];
    for n in 0..total / piece.len() {
        if n == 2 {
            i.signal("TERM");
        }
        s.write_all(&piece).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 200") && out.ends_with(&format!("{total} bytes")), "{out:?}");
    assert!(out.to_ascii_lowercase().contains("connection: close"), "{out:?}");
    let status = i.wait(Duration::from_secs(10)).expect("the process exits");
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_second_signal_cuts_the_grace_period_short() {
    let mut i = Instance::start("forced", Socket::Port(free_port(), false), &["--grace", "60"], &[]);
    let addr = addr_of(&i);
    let _pending = std::thread::spawn(move || {
        exchange(addr, b"GET /work?ms=10000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    });
    std::thread::sleep(Duration::from_millis(300));
    i.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    assert!(i.wait(Duration::ZERO).is_none(), "the first signal waits for the request");
    let forced = Instant::now();
    i.signal("INT");
    let status = i.wait(Duration::from_secs(8)).expect("the process exits soon after the second signal");
    // The handler never returned in time: the process exits with status 1.
    assert_eq!(status.code(), Some(1));
    assert!(forced.elapsed() < Duration::from_secs(5), "{:?}", forced.elapsed());
}

#[test]
fn a_socket_handed_over_is_served_and_readiness_is_told() {
    let dir = std::env::temp_dir().join(format!("ht-notify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("notify.sock");
    let _ = std::fs::remove_file(&path);
    let notify = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    notify.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The instance is told port 1 too: the handed-over socket wins.
    let mut i = Instance::start(
        "activated",
        Socket::HandedOver(&listener),
        &["--port", "1"],
        &[("NOTIFY_SOCKET", path.to_str().unwrap())],
    );
    assert_eq!(i.listening.trim(), addr.to_string());
    let mut buf = [0u8; 256];
    let n = notify.recv(&mut buf).expect("READY=1");
    assert_eq!(&buf[..n], b"READY=1");
    let reply = exchange(addr, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(reply.starts_with("HTTP/1.1 200") && reply.ends_with("ok"), "{reply:?}");
    i.signal("TERM");
    let n = notify.recv(&mut buf).expect("STOPPING=1");
    assert_eq!(&buf[..n], b"STOPPING=1");
    assert!(i.wait(Duration::from_secs(10)).expect("exits").success());
    // The socket lives on in this process: a connection waits in its backlog for the next
    // instance, which serves it.
    let mut waiting = TcpStream::connect(addr).unwrap();
    waiting.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let _next = Instance::start("next", Socket::HandedOver(&listener), &[], &[]);
    waiting.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut out = String::new();
    let _ = waiting.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 200") && out.ends_with("ok"), "{out:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// systemd's own socket activation (`systemd-socket-activate`, Debian's systemd package):
/// it listens, and on the first connection starts the service with the socket handed over.
#[test]
fn systemd_socket_activate_starts_the_service_on_its_socket() {
    let Some(tool) = programs::require(
        "systemd_socket_activate_starts_the_service_on_its_socket",
        "systemd-socket-activate",
        "apt-get install systemd",
    ) else {
        return;
    };
    let port = free_port();
    let mut child = std::process::Command::new(tool)
        .args(["-l", &format!("127.0.0.1:{port}")])
        .arg(server_support::instances::service_binary())
        .args(["--name", "socket-activated"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let start = Instant::now();
    let reply = loop {
        if TcpStream::connect(addr).is_ok() {
            break exchange(addr, b"GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        }
        assert!(start.elapsed() < Duration::from_secs(10), "systemd-socket-activate does not listen");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(reply.ends_with("by=socket-activated"), "{reply:?}");
    // The tool execs the service in its place: the signal reaches the server.
    let status =
        std::process::Command::new("sh").arg("-c").arg(format!("kill -TERM {}", child.id())).status();
    assert!(status.unwrap().success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the service does not stop");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status:?}");
}
