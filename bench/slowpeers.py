#!/usr/bin/env python3
"""Slow peers against each server: Debian's slowhttptest holds 1000 connections in slow-body
(-B, R-U-Dead-Yet) and slow-read (-X) mode while a probe asks for a small page every 100 ms
on a fresh connection and records what it gets and when.

slowhttptest reports a server as "available" when its own probe gets any answer, a 503
included, so the probe here is what counts: per server and mode, the share of probes answered
2xx within 1 s, median and p99 latency (a probe that times out counts as its timeout, 3 s),
how many got 503, how many failed (no answer in time, reset, refused), and a timeline of
prompt 2xx answers per second (one digit per second: answers out of 10, `+` for all 10).

Servers and targets:
- http-toolkit, -B: examples/hello built in release (`cargo build --release --example hello` at
  the root). POST / runs the urlencoded content parser, which reads the body, so the slow
  bodies go to `/`; the probe asks for `/`.
- http-toolkit, -X: hello's answer (13 bytes; slowhttptest pipelines at most 10 requests)
  fits in the socket buffers and never makes a server wait, so the slow readers ask for a
  1 MiB file of random bytes instead, served by bench/features' server in static mode
  (`cd bench/features && cargo build --release`; this script builds it when it is missing);
  the probe asks for a small file beside it. `--x-target hello` sends them to hello's `/`.
- nginx (Debian's nginx-light), one worker process. `location /` returns 'hello'; for a POST
  it answers at once and discards the body in the background, which is not reading it, so
  the slow bodies go to `/upload`, proxied to a second server block of the same nginx: with
  request buffering (the default) nginx reads the whole body before it opens the upstream
  connection, as a handler that reads its body does. For -X, `/static/` serves the same files
  as above. Only nginx's built-in modules are used (the echo module Debian installs beside
  nginx-light would read a body too, with `echo_read_request_body`, but needs load_module).

Each server is pinned to CPU 1, slowhttptest and the probe to CPU 0 (taskset), as in
servers.py.

Usage: bench/slowpeers.py [--duration 35] [--connections 1000] [--rate 200] [--interval 5]
       [--modes B,X] [--only http-toolkit,nginx] [--x-target file|hello] [--hello PATH]
       [--static-server PATH] [--probe-every 0.1]
With the defaults the whole run takes about 2.5 minutes.
"""
import argparse, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import free_port  # noqa: E402  (the bench scripts share it)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HELLO = os.path.join(ROOT, "target", "release", "examples", "hello")
FEATURES = os.path.join(HERE, "features")
STATIC_SERVER = os.path.join(FEATURES, "target", "release", "bench-features")
PROMPT = 1.0  # seconds: a probe answered 2xx within this counts
PROBE_TIMEOUT = 3.0  # seconds a probe waits at most

NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {d}; proxy_temp_path {d};
  fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{ return 200 'hello'; }}
    location = /upload {{
      client_max_body_size 10m;
      proxy_pass http://127.0.0.1:{inner}/;
    }}
  }}
  server {{
    listen 127.0.0.1:{inner};
    location / {{ return 200 'uploaded'; }}
  }}
}}
"""


def wait_listening(port, proc, name):
    deadline = time.time() + 10
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not start")


class Server:
    """A server under test for one mode: started on a free port, stopped on exit. `slow_path`
    is where slowhttptest sends its peers, `probe_path` what the probe asks for."""

    def __init__(self, name, mode, a, files):
        self.name, self.mode, self.a, self.files = name, mode, a, files
        self.port = free_port()
        self.dir = None

    def __enter__(self):
        big_file = self.mode == "X" and self.a.x_target == "file"
        self.slow_path, self.probe_path = ("/static/big.bin", "/static/hello.txt") if big_file else ("/", "/")
        if self.name == "http-toolkit":
            if big_file:
                cmd = [self.a.static_server, "--port", str(self.port), "--mode", "static", "--root", self.files]
            else:
                cmd = [self.a.hello, "--port", str(self.port)]
        else:
            self.dir = tempfile.mkdtemp(prefix="slowpeers-nginx-")
            conf = os.path.join(self.dir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(d=self.dir, port=self.port, inner=free_port(), files=self.files))
            cmd = [shutil.which("nginx") or "/usr/sbin/nginx", "-c", conf, "-p", self.dir]
            if self.mode == "B":
                self.slow_path = "/upload"
        self.proc = subprocess.Popen(["taskset", "-c", "1"] + cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        wait_listening(self.port, self.proc, self.name)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def probe_once(port, path):
    """GET `path` with Connection: close on a fresh socket: (status or None, seconds, failure)."""
    t0 = time.monotonic()
    deadline = t0 + PROBE_TIMEOUT
    data = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=PROBE_TIMEOUT) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n".encode())
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, PROBE_TIMEOUT, "timeout"
                s.settimeout(left)
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except socket.timeout:
        return None, PROBE_TIMEOUT, "timeout"
    except ConnectionResetError:
        return None, time.monotonic() - t0, "reset"
    except ConnectionRefusedError:
        return None, time.monotonic() - t0, "refused"
    except OSError as e:
        return None, time.monotonic() - t0, type(e).__name__
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    if not m:
        return None, time.monotonic() - t0, "closed" if not data else "garbage"
    return int(m.group(1)), time.monotonic() - t0, None


def probe_loop(port, path, every, stop, results):
    """Starts a probe every `every` seconds, each in its own thread, until `stop` is set."""
    threads = []
    t0 = time.monotonic()
    i = 0
    while not stop.is_set():
        started = time.monotonic() - t0

        def one(started=started):
            results.append((started,) + probe_once(port, path))

        t = threading.Thread(target=one, daemon=True)
        t.start()
        threads.append(t)
        i += 1
        stop.wait(max(0.0, t0 + i * every - time.monotonic()))
    for t in threads:
        t.join(PROBE_TIMEOUT + 1)


def slowhttptest(mode, port, path, a):
    cmd = ["taskset", "-c", "0", "slowhttptest", f"-{mode}", "-c", str(a.connections), "-r", str(a.rate),
           "-l", str(a.duration), "-i", str(a.interval), "-p", "3",
           "-u", f"http://127.0.0.1:{port}{path}"]
    if mode == "B":
        cmd += ["-s", "8192"]
    else:
        # Slow read: pipelined requests, a tiny advertised window, a few bytes a second.
        cmd += ["-k", str(a.pipeline), "-w", "1", "-y", "512", "-n", "1", "-z", "32"]
    return cmd


def last_stats(out):
    """slowhttptest's last status block (connection counts, availability) and exit status."""
    out = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", out)
    get = lambda key: (re.findall(key + r":\s+(\w+)", out) or ["?"])[-1]
    stats = {k: get(k) for k in ("pending", "connected", "error", "closed", "service available")}
    ended = re.findall(r"Exit status:\s*(.*)", out)
    stats["exit"] = ended[-1].strip() if ended else "?"
    return stats


def run(server, mode, a):
    cmd = slowhttptest(mode, server.port, server.slow_path, a)
    results, stop = [], threading.Event()
    tool = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    prober = threading.Thread(target=probe_loop, args=(server.port, server.probe_path, a.probe_every, stop, results))
    prober.start()
    try:
        out, _ = tool.communicate(timeout=a.duration + 30)
    except subprocess.TimeoutExpired:
        os.killpg(tool.pid, signal.SIGKILL)
        out, _ = tool.communicate()
    stop.set()
    prober.join()
    return summarize(results, a.probe_every), last_stats(out), " ".join(cmd[3:])


def summarize(results, every):
    results.sort(key=lambda r: r[0])
    n = len(results)
    prompt = sum(1 for _, st, t, _ in results if st is not None and 200 <= st < 300 and t <= PROMPT)
    lat = sorted(t for _, _, t, _ in results)
    failures = {}
    for _, st, _, why in results:
        if st is None:
            failures[why] = failures.get(why, 0) + 1
    per_sec = max(1, round(1 / every))
    timeline = ""
    if results:
        for sec in range(int(results[-1][0]) + 1):
            ok = sum(1 for s, st, t, _ in results
                     if int(s) == sec and st is not None and 200 <= st < 300 and t <= PROMPT)
            timeline += "+" if ok >= per_sec else str(min(ok, 9))
    return {
        "probes": n,
        "ok": prompt,
        "ok_pct": 100.0 * prompt / n if n else float("nan"),
        "median_ms": 1000 * statistics.median(lat) if lat else float("nan"),
        "p99_ms": 1000 * lat[min(n - 1, int(0.99 * n))] if lat else float("nan"),
        "s503": sum(1 for _, st, _, _ in results if st == 503),
        "other": sum(1 for _, st, _, _ in results if st is not None and not 200 <= st < 300 and st != 503),
        "failed": sum(failures.values()),
        "failures": failures,
        "timeline": timeline,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=35, help="seconds slowhttptest runs per mode and server")
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--rate", type=int, default=200, help="slow connections opened per second")
    ap.add_argument("--interval", type=int, default=5, help="seconds between a slow peer's sends or reads")
    ap.add_argument("--pipeline", type=int, default=3, help="requests per connection in -X mode (at most 10)")
    ap.add_argument("--x-target", choices=["file", "hello"], default="file",
                    help="what the slow readers ask for: a 1 MiB file, or hello's /")
    ap.add_argument("--probe-every", type=float, default=0.1)
    ap.add_argument("--modes", default="B,X")
    ap.add_argument("--only", default="http-toolkit,nginx")
    ap.add_argument("--hello", default=HELLO, help="the hello example's binary")
    ap.add_argument("--static-server", default=STATIC_SERVER, help="bench/features' binary")
    a = ap.parse_args()
    if not shutil.which("slowhttptest"):
        sys.exit("slowhttptest is not installed (apt-get install slowhttptest)")
    names = [n for n in a.only.split(",") if n]
    if "http-toolkit" in names and not os.path.exists(a.hello):
        sys.exit(f"{a.hello} is missing: cargo build --release --example hello")
    modes = [m for m in a.modes.split(",") if m]
    if "http-toolkit" in names and "X" in modes and a.x_target == "file" and not os.path.exists(a.static_server):
        if a.static_server != STATIC_SERVER:
            sys.exit(f"{a.static_server} is missing")
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=FEATURES, check=True)
    if "nginx" in names and not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        sys.exit("nginx is not installed (apt-get install nginx-light)")
    files = tempfile.mkdtemp(prefix="slowpeers-files-")
    with open(os.path.join(files, "big.bin"), "wb") as f:
        f.write(os.urandom(1 << 20))
    with open(os.path.join(files, "hello.txt"), "w") as f:
        f.write("hello")
    rows = []
    try:
        for name in names:
            for mode in modes:
                rows.append(one(name, mode, a, files))
    finally:
        shutil.rmtree(files, ignore_errors=True)
    print(f"\n| server | mode | probes | 2xx within {PROMPT:.0f} s | median ms | p99 ms | 503s | failures "
          "| slowhttptest: connected / closed / available |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, mode, r, tool in rows:
        print(f"| {name} | -{mode} | {r['probes']} | {r['ok_pct']:.1f}% | {r['median_ms']:.1f} | {r['p99_ms']:.1f} "
              f"| {r['s503']} | {r['failed']} | {tool['connected']} / {tool['closed']} / {tool['service available']} |")


def one(name, mode, a, files):
    """One server in one mode: the probe's summary and slowhttptest's last word, printed."""
    with Server(name, mode, a, files) as server:
        r, tool, cmd = run(server, mode, a)
    print(f"{name:12} -{mode}  slowhttptest {cmd}", flush=True)
    print(f"    probes of {server.probe_path}: {r['probes']}; 2xx within {PROMPT:.0f} s {r['ok']} "
          f"({r['ok_pct']:.1f}%), median {r['median_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, 503s {r['s503']}, "
          f"other statuses {r['other']}, failures {r['failed']} {r['failures'] or ''}", flush=True)
    print(f"    prompt 2xx per second: {r['timeline']}", flush=True)
    print(f"    slowhttptest at the end: {tool}", flush=True)
    return name, mode, r, tool


if __name__ == "__main__":
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    main()
