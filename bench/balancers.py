#!/usr/bin/env python3
"""Instances of examples/service behind nginx (2 workers, docs/deploy/nginx.conf).

Measures, in interleaved rounds: requests per second through nginx to 1 and to 3 instances
(wrk, keep-alive to nginx; nginx opens a connection to an instance per request, as the guide's
configuration does), and the same load while the 3 instances are restarted one after another
(a new instance on the same socket, then SIGTERM to the old one), counting what wrk saw fail
(socket errors and non-2xx answers) and what the old instances' exit statuses were.

Usage: bench/balancers.py [--rounds 3] [--duration 10] [--conns 50] [--mode handed|reuseport]
Needs target/release/examples/service (cargo build --release --example service), nginx and wrk.
--mode handed (default): each instance gets its slot's listening socket as descriptor 3 with
LISTEN_FDS/LISTEN_PID, as systemd hands it over; reuseport: each new instance binds the slot's
port with SO_REUSEPORT beside the old one.
Nothing is pinned: wrk, nginx and the instances share the machine's cores.
"""
import argparse, os, re, signal, socket, statistics, subprocess, sys, tempfile, time
from servers import free_port  # the helpers the benches share

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SERVICE = os.path.join(ROOT, "target", "release", "examples", "service")
NGINX = "/usr/sbin/nginx"


class Slot:
    """One instance's place: a socket held here (handed) or a port (reuseport)."""

    def __init__(self, mode):
        self.mode = mode
        if mode == "handed":
            self.sock = socket.socket()
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", 0))
            self.sock.listen(4096)
            self.sock.set_inheritable(True)
            self.port = self.sock.getsockname()[1]
        else:
            self.port = free_port()

    def start(self, name):
        args = [SERVICE, "--name", name, "--trust", "127.0.0.1"]
        if self.mode == "handed":
            fd = self.sock.fileno()
            cmd = ["bash", "-c", f'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@" 3<&{fd}'] + args
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, pass_fds=(fd,))
        else:
            cmd = args + ["--port", str(self.port), "--bind", "127.0.0.1", "--reuse-port"]
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = p.stdout.readline()
        if b"listening on" not in line:
            p.kill()
            raise RuntimeError(f"{name} did not start: {line!r}")
        return p


def stop(p, limit=15):
    p.send_signal(signal.SIGTERM)
    return p.wait(timeout=limit)


def nginx(ports, tmp):
    with open(os.path.join(ROOT, "docs", "deploy", "nginx.conf")) as f:
        site = f.read()
    port = free_port()
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    lines = []
    for line in site.splitlines():
        m = re.match(r"\s+server 127\.0\.0\.1:808(\d);", line)
        if m:
            i = int(m.group(1)) - 1
            if i >= len(ports):
                continue
            line = line.replace(f"127.0.0.1:808{i + 1}", f"127.0.0.1:{ports[i]}")
        lines.append(line)
    site = "\n".join(lines)
    conf = (
        f"daemon off;\nworker_processes 2;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
        f"events {{ worker_connections 4096; }}\nhttp {{\n access_log off;\n"
        f" client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};\n"
        f" uwsgi_temp_path {tmp}; scgi_temp_path {tmp};\n{site}\n}}\n"
    )
    path = os.path.join(tmp, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    p = subprocess.Popen([NGINX, "-c", path, "-p", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError("nginx did not start")


def wrk_cmd(port, conns, duration):
    return ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", f"http://127.0.0.1:{port}/health"]


def parse(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    failed = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        failed += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        failed += int(m.group(1))
    return rps, requests, failed


def steady(n, args, tmp, round_no):
    slots = [Slot(args.mode) for _ in range(n)]
    procs = [s.start(f"r{round_no}n{n}s{i}") for i, s in enumerate(slots)]
    ng, port = nginx([s.port for s in slots], tmp)
    try:
        out = subprocess.run(wrk_cmd(port, args.conns, args.duration), capture_output=True, text=True,
                             timeout=args.duration + 60).stdout
        return parse(out)
    finally:
        ng.terminate()
        ng.wait()
        for p in procs:
            stop(p)


def rolling(args, tmp, round_no):
    slots = [Slot(args.mode) for _ in range(3)]
    procs = [s.start(f"r{round_no}g0s{i}") for i, s in enumerate(slots)]
    ng, port = nginx([s.port for s in slots], tmp)
    statuses = []
    try:
        load = subprocess.Popen(wrk_cmd(port, args.conns, args.duration), stdout=subprocess.PIPE, text=True)
        gap = args.duration / 4
        for i, s in enumerate(slots):
            time.sleep(gap * 0.8)
            new = s.start(f"r{round_no}g1s{i}")
            time.sleep(0.2)
            statuses.append(stop(procs[i]))
            procs[i] = new
        out, _ = load.communicate(timeout=args.duration + 60)
        rps, requests, failed = parse(out)
        return rps, requests, failed, statuses
    finally:
        ng.terminate()
        ng.wait()
        for p in procs:
            stop(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--mode", choices=["handed", "reuseport"], default="handed")
    args = ap.parse_args()
    if not os.path.exists(SERVICE):
        sys.exit(f"{SERVICE} is missing: cargo build --release --example service")
    results = {"1": [], "3": [], "rolling": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for n in (1, 3):
                rps, requests, failed = steady(n, args, tmp, r)
                results[str(n)].append(rps)
                print(f"round {r + 1}: nginx -> {n} instance(s): {rps:,.0f} req/s, {requests} requests, "
                      f"{failed} failed", flush=True)
            rps, requests, failed, statuses = rolling(args, tmp, r)
            results["rolling"].append((rps, requests, failed))
            print(f"round {r + 1}: nginx -> 3 instances, each restarted once ({args.mode}): {rps:,.0f} req/s, "
                  f"{requests} requests, {failed} failed, old instances' exit statuses {statuses}", flush=True)
    print()
    print(f"median req/s: 1 instance {statistics.median(results['1']):,.0f}, "
          f"3 instances {statistics.median(results['3']):,.0f}, "
          f"3 instances during rolling restarts {statistics.median(r[0] for r in results['rolling']):,.0f}")
    print(f"failed during rolling restarts: {sum(r[2] for r in results['rolling'])} of "
          f"{sum(r[1] for r in results['rolling'])} requests")


if __name__ == "__main__":
    main()
