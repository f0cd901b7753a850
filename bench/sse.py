#!/usr/bin/env python3
"""Event streams beside ordinary requests: N live server-sent-event streams on the default
pool, each fed one event a second by one producer thread, while wrk (c=50) hits `/` of the
same server.

The server (bench/examples/sse_server.rs) is pinned to CPU 1; wrk and the stream clients
(bench/examples/sse_clients.rs, which reads every stream on one thread) to CPU 0. Rounds alternate: wrk with no streams, then
N streams opened, wrk again with them alive, the streams closed. Reported per round: req/s and
p99 of wrk without and with the streams, RSS per live stream (from the RSS before the first
round: the memory a round's streams take is reused by the next round's), the producer's cost per send
and the events the clients received per second.

Usage: bench/sse.py [--streams 10000] [--rounds 3] [--duration 10]
Build first: (cd bench && cargo build --release --example sse_server --example sse_clients)
"""
import argparse, os, re, socket, statistics, subprocess, sys, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from servers import free_port  # noqa: E402

BINARY = os.path.join(HERE, "target", "release", "examples", "sse_server")
CLIENTS = os.path.join(HERE, "target", "release", "examples", "sse_clients")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def get(port, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".encode())
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out.split(b"\r\n\r\n", 1)[1].decode()


def stats(port):
    return {k: int(v) for k, v in (line.split() for line in get(port, "/stats").strip().splitlines())}


def wrk(port, duration):
    out = subprocess.run(
        ["taskset", "-c", "0", "wrk", "-t1", "-c50", f"-d{duration}s", "--latency", f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    return rps, p99


class Streams:
    """N event-stream clients, read on one thread by bench/examples/sse_clients.rs."""

    def __init__(self, port, n):
        self.proc = subprocess.Popen(["taskset", "-c", "0", CLIENTS, str(port), str(n)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.events = 0
        first = self.proc.stdout.readline()
        assert first.startswith("open"), first
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        for line in self.proc.stdout:
            if line.startswith("events "):
                self.events = int(line.split()[1])

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()
        self.thread.join()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    a = ap.parse_args()
    port = free_port()
    server = subprocess.Popen(["taskset", "-c", "1", BINARY, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while True:
            try:
                get(port, "/stats")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        # Warm up: the allocator's arenas, the pages of a first burst.
        wrk(port, 2)
        # Memory is measured from here: later rounds reuse what the first one's streams took.
        rss_base = rss_kib(server.pid)
        rows = []
        for r in range(a.rounds):
            base_rps, base_p99 = wrk(port, a.duration)
            rss0 = rss_kib(server.pid)
            t0 = time.time()
            streams = Streams(port, a.streams)
            while stats(port)["streams"] < a.streams:
                if time.time() - t0 > 120:
                    raise RuntimeError(f"only {stats(port)['streams']} streams after 120 s")
                time.sleep(0.2)
            opened = time.time() - t0
            time.sleep(3)
            rss1 = rss_kib(server.pid)
            s0, e0, t1 = stats(port), streams.events, time.time()
            rps, p99 = wrk(port, a.duration)
            s1, e1, t2 = stats(port), streams.events, time.time()
            events_per_s = (e1 - e0) / (t2 - t1)
            row = dict(round=r + 1, base_rps=base_rps, base_p99=base_p99, rps=rps, p99=p99,
                       ratio=rps / base_rps, kib_per_stream=(rss1 - rss_base) / a.streams, rss0=rss0, rss1=rss1,
                       ns_per_send=s1["ns_per_send"], full=s1["full"] - s0["full"],
                       worst_round_ms=s1["worst_round_us"] / 1000, events_per_s=events_per_s, opened_s=opened)
            rows.append(row)
            print(row, flush=True)
            streams.close()
            while stats(port)["streams"] > 0 and time.time() - t2 < 60:
                time.sleep(0.2)
        print()
        print("| round | wrk req/s, no streams | p99 ms | wrk req/s, %d streams | p99 ms | ratio | KiB per stream | "
              "producer ns per send | worst send round ms | events/s received | full queues |" % a.streams)
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for x in rows:
            print(f"| {x['round']} | {x['base_rps']:.0f} | {x['base_p99']:.2f} | {x['rps']:.0f} | {x['p99']:.2f} | "
                  f"{x['ratio']:.2f} | {x['kib_per_stream']:.2f} | {x['ns_per_send']} | {x['worst_round_ms']:.1f} | "
                  f"{x['events_per_s']:.0f} | {x['full']} |")
        med = lambda k: statistics.median(x[k] for x in rows)
        print(f"| median | {med('base_rps'):.0f} | {med('base_p99'):.2f} | {med('rps'):.0f} | {med('p99'):.2f} | "
              f"{med('ratio'):.2f} | {med('kib_per_stream'):.2f} | {med('ns_per_send'):.0f} | "
              f"{med('worst_round_ms'):.1f} | {med('events_per_s'):.0f} | {med('full'):.0f} |")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
