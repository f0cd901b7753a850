//! The naive design: one OS thread per connection, a fixed answer to every request head.
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 22\r\n\r\n<h1>Hello, world!</h1>";

fn serve(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    let mut line = String::new();
    let mut pending = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" || line == "\n" {
            pending += 1;
            // Answer everything read so far once no more bytes are buffered (pipelining).
            if reader.buffer().is_empty() {
                let mut buf = Vec::with_capacity(RESPONSE.len() * pending);
                for _ in 0..pending {
                    buf.extend_from_slice(RESPONSE);
                }
                out.write_all(&buf)?;
                pending = 0;
            }
        }
    }
}

fn main() {
    let port = bench_peers::port_arg(4245);
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    println!("naive listening on http://127.0.0.1:{port}/");
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || {
            let _ = serve(stream);
        });
    }
}
