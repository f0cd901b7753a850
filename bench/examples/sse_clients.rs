//! The client side of the event-stream benchmark (`bench/sse.py`): opens N `/events`
//! streams to a server and reads them all on one thread (mio), printing every second how
//! many events arrived in total, until stdin closes.
//!
//! `cargo run --release --example sse_clients -- PORT N`

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).expect("PORT");
    let n: usize = args.next().and_then(|p| p.parse().ok()).expect("N");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut poll = Poll::new().expect("poll");
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        let s = std::net::TcpStream::connect(addr).expect("connect");
        let mut s2 = s.try_clone().unwrap();
        s2.write_all(b"GET /events HTTP/1.1\r\nHost: b\r\n\r\n").expect("send");
        s.set_nonblocking(true).unwrap();
        let mut s = TcpStream::from_std(s);
        poll.registry().register(&mut s, Token(i), Interest::READABLE).unwrap();
        conns.push(Some(s));
    }
    // Stop when the driver closes stdin.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        let _ = tx.send(());
    });
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0usize;
    let mut next_report = Instant::now() + Duration::from_secs(1);
    println!("open {n}");
    loop {
        if rx.try_recv().is_ok() {
            return;
        }
        let _ = poll.poll(&mut events, Some(Duration::from_millis(100)));
        for e in events.iter() {
            let i = e.token().0;
            let Some(s) = conns[i].as_mut() else { continue };
            loop {
                match s.read(&mut buf) {
                    Ok(0) => {
                        conns[i] = None;
                        break;
                    }
                    Ok(k) => total += count(&buf[..k], b"data: tick"),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => {
                        conns[i] = None;
                        break;
                    }
                }
            }
        }
        if Instant::now() >= next_report {
            println!("events {total}");
            next_report += Duration::from_secs(1);
        }
    }
}
