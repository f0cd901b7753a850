#!/usr/bin/env python3
"""Instructions per request of a hello-world server, counted by valgrind's callgrind.

Counts are repeatable where this machine's wall-clock runs are not. The server (any binary
taking `--port N`, by default our hello example built with `--profile release-lto`) runs under
callgrind twice, serving a short and a long run of the same traffic; the difference of the two
totals divided by the difference in requests is the cost of one request, start-up excluded.

Traffic (`--mode`):
  pipelined  one connection, writes of 16 `GET /` with only `Host`, answers read between writes
  browser    the same with a browser's 13 header fields (Chrome's navigation request)
  keepalive  10 connections, one `GET /` on each per round, every answer read before the next round

Usage: bench/instructions.py [--mode pipelined|browser|keepalive] [--server PATH] [--port N]
Needs valgrind (Debian package `valgrind`).
"""
import argparse, glob, os, re, signal, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
HELLO = os.path.join(HERE, "..", "target", "release-lto", "examples", "hello")

PLAIN = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
BROWSER = (b"GET / HTTP/1.1\r\nHost: localhost:8080\r\nConnection: keep-alive\r\nCache-Control: max-age=0\r\n"
           b"sec-ch-ua: \"Chromium\";v=\"120\"\r\nsec-ch-ua-mobile: ?0\r\nUpgrade-Insecure-Requests: 1\r\n"
           b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36\r\n"
           b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
           b"Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document\r\n"
           b"Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n\r\n")


def connect(port, deadline=20.0):
    """A connection to the server, which starts slowly under valgrind."""
    end = time.monotonic() + deadline
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def read_answers(s, n):
    """Reads until `n` responses have arrived on `s`."""
    buf = b""
    while buf.count(b"HTTP/1.1 200") < n:
        d = s.recv(65536)
        if not d:
            raise SystemExit("the server closed the connection")
        buf += d


def traffic(mode, port, rounds):
    """Sends `rounds` rounds of `mode`'s traffic; returns the requests sent."""
    if mode == "keepalive":
        socks = [connect(port)]
        socks += [connect(port) for _ in range(9)]
        for _ in range(rounds):
            for s in socks:
                s.sendall(PLAIN)
            for s in socks:
                read_answers(s, 1)
        for s in socks:
            s.close()
        return rounds * len(socks)
    s = connect(port)
    batch = (BROWSER if mode == "browser" else PLAIN) * 16
    for _ in range(rounds):
        s.sendall(batch)
        read_answers(s, 16)
    s.close()
    return rounds * 16


def total(server, mode, port, rounds):
    """Instructions callgrind counts for the server's whole run with `rounds` rounds."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.%p")
        p = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", server,
                              "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            n = traffic(mode, port, rounds)
            time.sleep(0.5)
        finally:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        counts = [int(m.group(1)) for f in glob.glob(os.path.join(tmp, "cg.*"))
                  for m in re.finditer(r"^summary: (\d+)", open(f).read(), re.M)]
        if not counts:
            raise SystemExit("callgrind wrote no summary (is valgrind installed?)")
        return sum(counts), n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["pipelined", "browser", "keepalive"], default="pipelined")
    ap.add_argument("--server", default=HELLO)
    ap.add_argument("--port", type=int, default=18181)
    a = ap.parse_args()
    if not os.path.exists(a.server):
        sys.exit(f"{a.server} is missing: cargo build --profile release-lto --example hello")
    short, long_ = {"pipelined": (10, 610), "browser": (10, 310), "keepalive": (20, 520)}[a.mode]
    t0, n0 = total(a.server, a.mode, a.port, short)
    t1, n1 = total(a.server, a.mode, a.port + 1, long_)
    print(f"{a.mode}: {(t1 - t0) // (n1 - n0)} instructions per request ({os.path.basename(a.server)})")


if __name__ == "__main__":
    main()
