//! Mangled responses: whatever a server sends, the client answers with a response or an error,
//! never a panic or a hang.

mod client_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_common::RawServer;
use http_client::Client;

const SEEDS: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=1\r\nabc\r\n0\r\nT: v\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX: y\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
    b"HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n",
];

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let last = v.len() - 1;
                v[at.min(last)] = rng.next() as u8;
            }
            1 => v.truncate(at),
            2 => v.insert(at, b"\r\n:;0 9fF-+"[rng.below(11)]),
            3 if at < v.len() => {
                v.remove(at);
            }
            4 => {
                let n = rng.below(3);
                let piece: Vec<u8> = v[at..].iter().take(8).copied().collect();
                for _ in 0..n {
                    v.splice(at..at, piece.iter().copied());
                }
            }
            _ => v.insert(at, rng.next() as u8),
        }
    }
    v
}

#[test]
fn mangled_responses_give_a_response_or_an_error() {
    let next: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::new()));
    let shared = next.clone();
    let server = RawServer::start(move |mut peer| {
        if peer.read_request().is_some() {
            let bytes = shared.lock().unwrap().clone();
            peer.write(&bytes);
        }
        let _ = peer.writer.shutdown(std::net::Shutdown::Both);
    });
    let client = Client::builder()
        .max_idle(0)
        .max_redirects(0)
        .read_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut ok, mut err) = (0, 0);
    for i in 0..300 {
        let seed = SEEDS[i % SEEDS.len()];
        *next.lock().unwrap() = mutate(&mut rng, seed);
        match client.send(server.url("/")).and_then(|r| r.bytes()) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(!e.is_timeout(), "case {i}: {e}");
                err += 1;
            }
        }
    }
    assert!(ok > 0 && err > 0, "ok {ok}, err {err}");
}
