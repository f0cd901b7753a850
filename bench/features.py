#!/usr/bin/env python3
"""Feature benchmark: what routing and static files cost.

Runs bench/features (built here with cargo) pinned to CPU 1 and wrk to CPU 0, 50 connections,
in interleaved rounds, and prints the median req/s, p50/p99 latency and transfer rate of:

  exact-1         one exact resource, GET /hello/world
  routes-pattern  100 routes, GET /hello/world served by the pattern /hello/{name}
  routes-exact    the same 100-route server, GET /exact (an exact resource beside them)
  static-64k      a 64 KiB text file from serve_dir, no Accept-Encoding
  static-64k-gzip the same file with Accept-Encoding: gzip (compressed on every request)

Usage: bench/features.py [--rounds 3] [--duration 5] [--conns 50]
"""
import argparse, os, re, signal, socket, statistics, subprocess, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.join(HERE, "features", "target", "release", "bench-features")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def to_us(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    v, u = float(m.group(1)), m.group(2)
    return v * {"us": 1, "ms": 1000, "s": 1e6}[u]


def to_mb(s):
    m = re.match(r"([\d.]+)([KMG]?B)", s)
    v, u = float(m.group(1)), m.group(2)
    return v * {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024}[u]


TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def start(mode, root):
    port = free_port()
    cmd = ["taskset", "-c", "1", BIN, "--port", str(port), "--mode", mode, "--root", root]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError(f"{mode} did not start")


def wrk(port, path, headers, conns, duration):
    cmd = ["taskset", "-c", "0", "wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise RuntimeError(f"{path}: {bad.group(0)}")
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": to_us(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": to_us(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "mb": to_mb(re.search(r"Transfer/sec:\s+(\S+)", out).group(1)),
    }


CASES = [
    ("exact-1", "exact", "/hello/world", []),
    ("routes-pattern", "routes", "/hello/world", []),
    ("routes-exact", "routes", "/exact", []),
    ("static-64k", "static", "/static/page.txt", []),
    ("static-64k-gzip", "static", "/static/page.txt", ["Accept-Encoding: gzip"]),
]


def make_root():
    root = tempfile.mkdtemp(prefix="bench-static-")
    # 64 KiB of varied text (compresses about as well as real pages do).
    words = ("request response header body chunk server client route pattern static file "
             "gzip range etag modified cache connection worker thread poller socket").split()
    out, i = [], 0
    while sum(len(x) for x in out) < 64 * 1024:
        line = " ".join(words[(i * 7 + k * 3) % len(words)] for k in range(12)) + f" {i}\n"
        out.append(line)
        i += 1
    data = "".join(out)[: 64 * 1024]
    with open(os.path.join(root, "page.txt"), "w") as f:
        f.write(data)
    return root


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--conns", type=int, default=50)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=os.path.join(HERE, "features"), check=True)
    root = make_root()
    print(f"load average before: {os.getloadavg()}")
    results = {name: [] for name, *_ in CASES}
    for rnd in range(args.rounds):
        for name, mode, path, headers in CASES:
            p, port = start(mode, root)
            try:
                wrk(port, path, headers, args.conns, 1)  # warm-up
                t0 = cpu_ticks(p.pid)
                r = wrk(port, path, headers, args.conns, args.duration)
                r["cpu"] = (cpu_ticks(p.pid) - t0) / TICK * 1e6 / max(r["requests"], 1)
            finally:
                p.send_signal(signal.SIGKILL)
                p.wait()
            results[name].append(r)
            print(f"round {rnd + 1} {name:16} {r['rps']:>10.0f} req/s  p50 {r['p50']:>7.0f} us  "
                  f"p99 {r['p99']:>7.0f} us  {r['mb']:>8.1f} MiB/s  cpu {r['cpu']:>6.1f} us/req", flush=True)
    print(f"load average after: {os.getloadavg()}")
    print("\n| case | req/s (median) | p50 µs | p99 µs | MiB/s | server CPU µs/req |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, *_ in CASES:
        rs = results[name]
        med = lambda k: statistics.median(r[k] for r in rs)
        print(f"| {name} | {med('rps'):,.0f} | {med('p50'):.0f} | {med('p99'):.0f} | {med('mb'):.1f} "
              f"| {med('cpu'):.1f} |")


if __name__ == "__main__":
    main()
