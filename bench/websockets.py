#!/usr/bin/env python3
"""WebSockets held open beside ordinary requests: N live WebSockets on one server, each sent one
message a second by a broadcast (one producer publishing to all), while wrk (c=50) hits `/`
of the same server. Three servers in the same run, in interleaved rounds (the order rotates):

  ours         bench/examples/ws_server.rs: http-server, `cx.websocket` + a `WebSocketHub`
  tungstenite  bench/peers/src/bin/tungstenite_ws.rs: tungstenite on std sockets, a thread per
               connection (hello world answered on the same listener, a thread per connection too)
  tokio        bench/peers/src/bin/tokio_ws.rs: tokio-tungstenite on tokio's multi-thread
               runtime, a `tokio::sync::broadcast` room (hello world by hyper on the same listener)

Every message carries its publish time; the clients (bench/examples/ws_clients.rs, every socket
read on one thread with mio) record its delivery latency. The server is pinned to CPU 1; wrk
and the clients to CPU 0. Each round of each server starts it afresh, then: a 2 s wrk warm-up,
wrk for --duration s with no sockets (p99 and req/s), RSS and threads, N sockets opened, 3 s to
settle, RSS and threads again, a quiet window of --window s (server utime+stime from
/proc/PID/stat over the messages delivered in it, and their p50/p99 latency), then wrk for
--duration s with the sockets open (its p99 and req/s, and the messages' p99 meanwhile).

Usage: bench/websockets.py [--sockets 10000] [--rounds 3] [--duration 10] [--window 20]
                           [--only ours,tungstenite,tokio]
Build first (the script builds nothing):
  (cd bench && cargo build --profile release-lto --example ws_server --example ws_clients)
  (cd bench/peers && cargo build --release --bin tungstenite_ws --bin tokio_ws)
"""
import argparse, os, resource, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from servers import cpu_ticks, free_port, start_pinned, status, wrk  # noqa: E402

SERVERS = {
    "ours": os.path.join(HERE, "target", "release-lto", "examples", "ws_server"),
    "tungstenite": os.path.join(HERE, "peers", "target", "release", "tungstenite_ws"),
    "tokio": os.path.join(HERE, "peers", "target", "release", "tokio_ws"),
}
CLIENTS = os.path.join(HERE, "target", "release-lto", "examples", "ws_clients")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """utime + stime of every thread of the process so far, in seconds."""
    return cpu_ticks(pid) / TICK


def wrk_c50(port, duration):
    """wrk -c50 on `/`: req/s, p99 in ms and any errors wrk reported."""
    r = wrk(port, 50, duration)
    return r["rps"], r["p99"] / 1000, r["errors"]


class Clients:
    """N WebSockets read on one thread by bench/examples/ws_clients.rs."""

    def __init__(self, port, n):
        self.proc = subprocess.Popen(["taskset", "-c", "0", CLIENTS, str(port), str(n)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        first = self.proc.stdout.readline().split()
        assert first and first[0] == "open", first
        self.open, self.failed, self.open_s = int(first[1]), int(first[2]), float(first[3])

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def report(self):
        self.command("report")
        f = self.proc.stdout.readline().split()
        assert f and f[0] == "report", f
        delivered, p50, p99, worst, open_ = map(int, f[1:])
        return dict(delivered=delivered, p50_ms=p50 / 1000, p99_ms=p99 / 1000, max_ms=worst / 1000, open=open_)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def one(name, rnd, a):
    port = free_port()
    server = start_pinned([SERVERS[name], "--port", str(port)], port, name)
    clients = None
    try:
        wrk_c50(port, 2)
        base_rps, base_p99, _ = wrk_c50(port, a.duration)
        rss0, threads0 = status(server.pid)
        clients = Clients(port, a.sockets)
        time.sleep(3)
        rss1, threads1 = status(server.pid)
        clients.command("reset")
        c0, t0 = cpu_s(server.pid), time.time()
        time.sleep(a.window)
        c1, t1 = cpu_s(server.pid), time.time()
        quiet = clients.report()
        clients.command("reset")
        rps, p99, errors = wrk_c50(port, a.duration)
        busy = clients.report()
        load = os.getloadavg()[0]
        row = dict(server=name, round=rnd, base_rps=base_rps, base_p99=base_p99, rps=rps, p99=p99,
                   wrk_errors=errors, open=clients.open, failed=clients.failed, open_s=clients.open_s,
                   still_open=busy["open"], rss0_kib=rss0, rss1_kib=rss1,
                   kib_per_socket=(rss1 - rss0) / max(clients.open, 1), threads0=threads0, threads1=threads1,
                   delivered=quiet["delivered"], msgs_per_s=quiet["delivered"] / (t1 - t0),
                   us_per_msg=(c1 - c0) * 1e6 / max(quiet["delivered"], 1), cpu_share=(c1 - c0) / (t1 - t0),
                   lat_p50=quiet["p50_ms"], lat_p99=quiet["p99_ms"], lat_max=quiet["max_ms"],
                   lat_p99_wrk=busy["p99_ms"], load=load)
        print(row, flush=True)
        return row
    finally:
        if clients:
            clients.close()
        server.kill()
        server.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sockets", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--window", type=int, default=20)
    ap.add_argument("--only", default="ours,tungstenite,tokio")
    a = ap.parse_args()
    names = a.only.split(",")
    for n in names:
        if not os.path.exists(SERVERS[n]):
            sys.exit(f"{SERVERS[n]} is missing: build it first (see the top of this file)")
    # 10,000 sockets are 10,000 descriptors on each side: the soft limit up to the hard one.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < a.sockets + 1000:
        sys.exit(f"the open-file limit is {hard}: too few for {a.sockets} sockets")
    print(f"load average at the start: {os.getloadavg()}", flush=True)
    rows = []
    for r in range(a.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            rows.append(one(name, r + 1, a))
    print(f"load average at the end: {os.getloadavg()}")
    print()
    cols = [("server", "server", "s"), ("round", "round", "d"),
            ("open", "sockets open", "d"), ("kib_per_socket", "KiB per socket", ".2f"),
            ("threads0", "threads before", "d"), ("threads1", "threads with sockets", "d"),
            ("msgs_per_s", "msgs/s delivered", ".0f"), ("us_per_msg", "server CPU µs per msg", ".2f"),
            ("lat_p50", "latency p50 ms", ".2f"), ("lat_p99", "latency p99 ms", ".2f"),
            ("base_p99", "HTTP p99 ms, no sockets", ".2f"), ("p99", "HTTP p99 ms, sockets open", ".2f"),
            ("rps", "HTTP req/s, sockets open", ".0f"), ("lat_p99_wrk", "latency p99 ms under wrk", ".2f"),
            ("load", "load avg", ".1f")]
    print("| " + " | ".join(c[1] for c in cols) + " |")
    print("|" + " --- |" * len(cols))
    for x in rows:
        print("| " + " | ".join(format(x[k], f) for k, _, f in cols) + " |")
    print()
    print("Medians of the rounds, and ratios to tokio-tungstenite's median:")
    print()
    keys = [("kib_per_socket", "KiB per socket", ".2f"), ("threads1", "threads with sockets", ".0f"),
            ("us_per_msg", "server CPU µs per msg", ".2f"), ("lat_p99", "latency p99 ms", ".2f"),
            ("p99", "HTTP p99 ms, sockets open", ".2f"), ("base_p99", "HTTP p99 ms, no sockets", ".2f"),
            ("rps", "HTTP req/s, sockets open", ".0f")]
    med = {n: {k: statistics.median(x[k] for x in rows if x["server"] == n) for k, _, _ in keys} for n in names}
    print("| what | " + " | ".join(names) + " |")
    print("|" + " --- |" * (len(names) + 1))
    for k, label, f in keys:
        cells = []
        for n in names:
            cell = format(med[n][k], f)
            if "tokio" in med and n != "tokio" and med["tokio"][k] and k != "threads1":
                cell += f" ({med[n][k] / med['tokio'][k]:.2f}x)"
            cells.append(cell)
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
