#!/usr/bin/env python3
"""Memory per request held while its answer is awaited (a responder that has not answered).

The server (bench/examples/held_server.rs, or any binary given with `--server` that takes
`--port N` and holds `/later`) is sent N requests on N connections, each with a browser's 13
header fields (the head of bench/instructions.py's browser mode); the RSS after they are all
held, less the RSS before (after 20 held as a warm-up), divided by N, is the cost of one held
request: its connection, its record and what the engine keeps for it. With `--slow-body`
each request is a POST announcing a 100,000-byte body that never comes: it is held while its
body is awaited, before any handler runs; `--body-sent N` sends its first N bytes with the head
(a body that has begun to trickle in).

Usage: bench/held.py [--requests 5000] [--rounds 2] [--slow-body [--body-sent N]] [--server NAME=PATH ...]
Build first: (cd bench && cargo build --release --example held_server)
"""
import argparse, os, resource, socket, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from instructions import BROWSER  # noqa: E402
from servers import free_port, server_entry, status, wait_listening  # noqa: E402

HELD = os.path.join(HERE, "target", "release", "examples", "held_server")
REQUEST = BROWSER.replace(b"GET / ", b"GET /later ", 1)


def held_cost(path, n, request=REQUEST):
    port = free_port()
    p = subprocess.Popen([path, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(p, port, path, lambda p: p.kill())
    socks = []

    def hold(count):
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(request)
            socks.append(s)

    try:
        hold(20)
        time.sleep(0.5)
        before, _ = status(p.pid)
        hold(n)
        time.sleep(1.5)
        after, _ = status(p.pid)
        return before, after
    finally:
        for s in socks:
            s.close()
        p.kill()
        p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--slow-body", action="store_true", help="POSTs whose announced body never comes")
    ap.add_argument("--body-sent", type=int, default=0, metavar="N",
                    help="with --slow-body: the first N bytes of the body come with the head")
    ap.add_argument("--server", type=server_entry, action="append", default=[], metavar="NAME=PATH")
    a = ap.parse_args()
    servers = a.server or [("held_server", HELD)]
    for _, path in servers:
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: (cd bench && cargo build --release --example held_server)")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    request, what = REQUEST, "awaiting their answers"
    if a.slow_body:
        sent = min(a.body_sent, 99_999)
        request = REQUEST.replace(b"GET ", b"POST ", 1).replace(b"\r\n\r\n", b"\r\nContent-Length: 100000\r\n\r\n")
        request += b"x" * sent
        what = "awaiting their bodies" + (f" ({sent} bytes of each sent)" if sent else "")
    section = request.index(b"\r\n\r\n") + 4 - request.index(b"\r\n") - 2
    print(f"{a.requests} requests held {what}, each with a {section}-byte header section")
    print("| server | round | RSS before KiB | RSS held KiB | bytes per held request |")
    print("| --- | --- | --- | --- | --- |")
    for rnd in range(a.rounds):
        for name, path in servers:
            before, after = held_cost(path, a.requests, request)
            print(f"| {name} | {rnd + 1} | {before} | {after} | {(after - before) * 1024 / a.requests:.0f} |", flush=True)


if __name__ == "__main__":
    main()
