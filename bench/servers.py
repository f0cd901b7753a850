#!/usr/bin/env python3
"""Side-by-side hello-world server benchmark.

Each server is pinned to CPU 1 and wrk to CPU 0 (taskset). For every round (interleaved across
servers) it measures, per connection count: req/s, p50/p99 latency, server CPU per request, how
busy the server kept its core (`server busy`, its CPU seconds per second of the run: near 100 %,
the server's core sets the rate), RSS, threads, how busy wrk kept its own core (near 100 %:
wrk's core sets the rate) and wrk's own CPU per answer (user and kernel; where wrk's core sets
the rate, whether a server's answers cost the client more to read). Then, once per server (or
once per server in each extras round): throughput with 5,000 idle keep-alive connections held
open (and RSS per idle connection), 5,000 connections opened at once (time until all are
answered), and a pipelined run (depth 16).

Usage: bench/servers.py [--rounds 3] [--duration 10] [--only name,name] [--skip-extras]
                        [--extras-rounds 1] [--pipelined 256] [--server name=/path/to/binary ...]
                        [--paired [--versus name,name] [--warmup 2]] [--conns 50,256]
                        [--close 50,1000] [--loader wrk|loadgen]
Every round also measures a pipelined run (16 requests per write, `--pipelined` connections;
0 leaves it out), with its server CPU per request like the others. `--close N,N` adds runs
where every request comes on a new connection (wrk sends `Connection: close`, so the server
answers and closes, and wrk connects again), with N connections at a time; they show as
`N close` (servers that ignore `Connection: close`, in IGNORES_CLOSE, are left out of them).
`--conns ""` leaves out the keep-alive runs.
`--loader loadgen` makes the pipelined runs (every round's and the extras') with
bench/loadgen (`cd bench/loadgen && cargo build --release`) in place of wrk and pipeline.lua:
the same closed loop of 16 requests per write on each connection, but it counts answers by
their Content-Length instead of parsing them: about 0.7 of wrk's CPU per answer (under half of
its user time; the loopback kernel work of the writes and reads, alike for both, is most of the
rest), so the server's core, not the generator's, sets the pipelined rate. Its rows show as
`N pipelined loadgen`, without latency (nan); the keep-alive and close runs stay on wrk.
Servers are given in SERVERS below as name -> command (the port is appended). `--server
name="PATH [ARG...]"` (repeatable) adds one more, run as `PATH ARG... --port PORT` like
http-toolkit: for example two builds of examples/hello measured side by side, or
bench/examples/hello_named with `--server-name M` (answers byte for byte as long as
may_minihttp's). `--only` picks among all of them; a server
whose binary is missing is left out, except one given with `--server`, which is an error.
`--extras-rounds N` repeats the idle, burst and pipelined measurements N times, interleaved
across servers like the main rounds, and prints their medians after the rows of every round.
`--paired` starts every server once and, in each round, measures one setting (connection count
or the pipelined run) on all servers back to back before the next, the order turned by one each
round: measurements compared are seconds apart, not a round apart, so the machine's slow and
fast stretches fall on all servers alike. It then prints, round by round, the first server's
CPU per request over the lowest of its peers' (`--versus` picks them) and its req/s over the
highest, with medians and the rounds it won. Before the first round it runs every setting on
every server for `--warmup` seconds, untimed.
"""
import argparse, os, re, resource, selectors, shlex, socket, statistics, subprocess, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS = os.path.join(HERE, "peers", "target", "release")
SERVERS = {
    # `cargo build --profile release-lto --example hello` (fat LTO, one codegen unit, as the
    # peers in bench/peers are built).
    "http-toolkit": [os.path.join(ROOT, "target", "release-lto", "examples", "hello"), "--port"],
    "hyper": [os.path.join(PEERS, "hyper_hello"), "--port"],
    "naive-threads": [os.path.join(PEERS, "naive_hello"), "--port"],
    "tiny_http": [os.path.join(PEERS, "tiny_hello"), "--port"],
    "may_minihttp": [os.path.join(PEERS, "may_hello"), "--port"],
    # Debian's nginx, one process (no master, one worker): see nginx_peer.sh.
    "nginx": [os.path.join(HERE, "nginx_peer.sh"), "--port"],
}
# Servers that keep the connection open after answering a request with `Connection: close`
# (RFC 9112 §9.6 says the server closes): their close runs would measure keep-alive, so they
# are left out of those runs.
IGNORES_CLOSE = {"may_minihttp"}
TICK = os.sysconf("SC_CLK_TCK")
PIPELINE_LUA = os.path.join(HERE, "pipeline.lua")
# `cd bench/loadgen && cargo build --release`; `--loader loadgen`.
LOADGEN_BIN = os.path.join(HERE, "loadgen", "target", "release", "loadgen")
LOADGEN = "loadgen"  # in place of a Lua script: the pipelined run by LOADGEN_BIN


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_listening(p, port, what, stop):
    """Returns `p` once `port` accepts connections (10 s at most); otherwise stops it with
    `stop(p)` and fails."""
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return p
        except OSError:
            time.sleep(0.05)
    stop(p)
    raise RuntimeError(f"{what} did not start")


def start_pinned(cmd, port, what=None):
    """Runs `cmd` pinned to CPU 1, its output discarded, and returns it once `port` accepts
    connections (see wait_listening; `what` names it in the error, `cmd[0]` by default)."""
    p = subprocess.Popen(["taskset", "-c", "1"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_listening(p, port, what or cmd[0], lambda p: p.kill())


def start(name, port):
    return start_pinned(SERVERS[name] + [str(port)], port, name)


def cpu_split(pid):
    """The process's CPU time so far in clock ticks: (user, kernel), as /proc counts them."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])  # utime, stime


def cpu_ticks(pid):
    return sum(cpu_split(pid))


def status(pid):
    rss = threads = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads


def to_us(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    v, u = float(m.group(1)), m.group(2)
    return v * {"us": 1, "ms": 1000, "s": 1e6}[u]


CLOSE = "close"  # in place of a Lua script: every request with `Connection: close`


def takes_part(name, lua):
    """False for a close run of a server that ignores `Connection: close`."""
    return not (lua == CLOSE and name in IGNORES_CLOSE)


def client_cpu(before, after, elapsed, answers):
    """The load generator's own CPU, from RUSAGE_CHILDREN `before` and `after` it ran for
    `elapsed` seconds (taskset execs it in the child): how busy it kept its core (near 100 %,
    its core is what sets the rate, not the server's, and the rate is 1 / its CPU per answer)
    and its CPU per answer, user and kernel."""
    user_s, kernel_s = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    return {
        "client_busy": 100.0 * (user_s + kernel_s) / elapsed,
        "client_user_us": user_s * 1e6 / max(answers, 1),
        "client_kernel_us": kernel_s * 1e6 / max(answers, 1),
    }


def wrk(port, conns, duration, lua=None, scheme="http"):
    cmd = ["taskset", "-c", "0", "wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency"]
    if lua == CLOSE:
        cmd += ["-H", "Connection: close"]
    elif lua:
        cmd += ["-s", lua]
    cmd.append(f"{scheme}://127.0.0.1:{port}/")
    before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    after, elapsed = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic() - t0
    answers = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": to_us(p50.group(1)) if p50 else float("nan"),
        "p99": to_us(p99.group(1)) if p99 else float("nan"),
        "errors": errors.group(0) if errors else "",
        "requests": answers,
        **client_cpu(before, after, elapsed, answers),
    }


def loadgen(port, conns, duration):
    """The pipelined run by bench/loadgen (16 requests per write), with the keys wrk() gives
    (no latency: p50 and p99 are nan)."""
    cmd = ["taskset", "-c", "0", LOADGEN_BIN, "--port", str(port), "--conns", str(conns), "--depth", "16",
           "--duration", str(duration)]
    before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    after, elapsed = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError(f"loadgen failed: {p.stderr.strip()}")
    out = dict(line.split(None, 1) for line in p.stdout.splitlines() if line.strip())
    answers, seconds = int(out["requests"]), float(out["seconds"])
    non2xx, errors, reconnects = int(out["non2xx"]), int(out["errors"]), int(out["reconnects"])
    problems = [f"Non-2xx or 3xx responses: {non2xx}"] if non2xx else []
    problems += [f"Socket errors: {errors}, reconnects: {reconnects}"] if errors or reconnects else []
    return {
        "rps": answers / max(seconds, 1e-9),
        "p50": float("nan"),
        "p99": float("nan"),
        "errors": " ".join(problems),
        "requests": answers,
        # Its CPU measured as wrk's is, over its whole life.
        **client_cpu(before, after, elapsed, answers),
    }


def measured(pid, port, conns, duration, lua=None):
    (u0, k0), start = cpu_split(pid), time.monotonic()
    r = loadgen(port, conns, duration) if lua == LOADGEN else wrk(port, conns, duration, lua)
    (u1, k1), elapsed = cpu_split(pid), time.monotonic() - start
    t0, t1 = u0 + k0, u1 + k1
    r["cpu_us_per_req"] = (t1 - t0) / TICK * 1e6 / max(r["requests"], 1)
    # The kernel's share of the server's CPU (system time over user + system time): how much
    # of a request's cost no server code can cut (bench/kernel_share.sh cross-checks it).
    r["kernel_pct"] = 100.0 * (k1 - k0) / max(t1 - t0, 1)
    r["kernel_us_per_req"] = (k1 - k0) / TICK * 1e6 / max(r["requests"], 1)
    # The server's CPU seconds per second of the run (near 100 %: its one core is the limit).
    r["server_busy"] = 100.0 * (t1 - t0) / TICK / elapsed
    r["rss_kib"], r["threads"] = status(pid)
    return r


REQ = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def read_response(s):
    data = b""
    while b"Hello, world!" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed")
        data += chunk


def hold_idle(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(REQ)
        read_response(s)
        socks.append(s)
    return socks


def burst(port, n, limit=60.0):
    """Opens n connections at once, each sends one request; returns (seconds, answered)."""
    sel = selectors.DefaultSelector()
    start_t = time.time()
    pending = {}
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        sel.register(s, selectors.EVENT_WRITE)
        pending[s] = b""
    answered = 0
    while pending and time.time() - start_t < limit:
        for key, ev in sel.select(timeout=0.5):
            s = key.fileobj
            if ev & selectors.EVENT_WRITE:
                try:
                    s.send(REQ)
                    sel.modify(s, selectors.EVENT_READ)
                except OSError:
                    sel.unregister(s); s.close(); del pending[s]
            else:
                try:
                    chunk = s.recv(4096)
                except OSError:
                    chunk = b""
                if chunk:
                    pending[s] += chunk
                if not chunk or b"Hello, world!" in pending[s]:
                    if chunk:
                        answered += 1
                    sel.unregister(s); s.close(); del pending[s]
    elapsed = time.time() - start_t
    for s in list(pending):
        s.close()
    return elapsed, answered


def server_entry(arg):
    """`name=PATH [ARG...]`: a server run as `PATH ARG... --port PORT`."""
    name, sep, command = arg.partition("=")
    words = shlex.split(command)
    if not sep or not name or not words:
        raise argparse.ArgumentTypeError(f"expected name=/path/to/binary [args], got {arg!r}")
    return name, [os.path.abspath(words[0])] + words[1:]


def extras(name, a):
    """Idle connections, a burst of connects and a pipelined run against a fresh server."""
    port = free_port()
    p = start(name, port)
    try:
        base = measured(p.pid, port, 50, a.duration)
        r = {"base": base["rps"]}
        r["rss0"], _ = status(p.pid)
        try:
            socks = hold_idle(port, a.idle)
            time.sleep(1)
            r["rss1"], _ = status(p.pid)
            with_idle = measured(p.pid, port, 50, a.duration)
            for s in socks:
                s.close()
            r["idle"] = with_idle["rps"]
            r["kept"] = with_idle["rps"] / base["rps"]
            r["per_conn"] = (r["rss1"] - r["rss0"]) / a.idle
            r["idle_s"] = f"{r['idle']:.0f} | {r['kept']:.2f} | {r['rss0']} | {r['rss1']} | {r['per_conn']:.2f}"
        except Exception as e:  # a server that cannot hold them all
            r["idle_s"] = f"failed ({e}) | - | {r['rss0']} | - | -"
        time.sleep(1)
        r["burst_s"], r["answered"] = burst(port, a.idle)
        r["pipe"] = measured(p.pid, port, 50, a.duration, LOADGEN if a.loader == LOADGEN else PIPELINE_LUA)["rps"]
        return r
    finally:
        p.kill(); p.wait()


def cpu_ratios(results, base, peers, c):
    """Round by round, `base`'s CPU per request over the lowest of `peers`' at setting `c`
    (the peers measured there; none: an empty list)."""
    there = [p for p in peers if (p, c) in results]
    if not there:
        return []
    return [m["cpu_us_per_req"] / min(results[(p, c)][i]["cpu_us_per_req"] for p in there)
            for i, m in enumerate(results[(base, c)])]


def paired_ratios(names, settings, results, versus):
    """Per round: the first server's CPU per request over the lowest of the peers', and its
    req/s over the highest of theirs (from measurements seconds apart); their medians, and
    how many rounds the first server had the lower CPU and the higher rate."""
    base = names[0]
    peers = [n for n in names[1:] if not versus or n in versus.split(",")]
    if not peers:
        return
    print(f"\n{base} against the best of {', '.join(peers)}, round by round (paired)")
    print("| conns | CPU per request, ratio by round | median | rounds lower | req/s, ratio by round | median | rounds higher |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for c in settings:
        cpu = cpu_ratios(results, base, peers, c)
        if not cpu:
            continue
        there = [p for p in peers if (p, c) in results]
        rps = [m["rps"] / max(results[(p, c)][i]["rps"] for p in there) for i, m in enumerate(results[(base, c)])]
        show = lambda xs: " / ".join(f"{x:.2f}" for x in xs)
        print(f"| {c} | {show(cpu)} | {statistics.median(cpu):.2f} | {sum(x <= 1 for x in cpu)}/{len(cpu)}"
              f" | {show(rps)} | {statistics.median(rps):.2f} | {sum(x >= 1 for x in rps)}/{len(rps)} |")


def paired_each(names, settings, results):
    """The first server's CPU per request over each peer's, the median of the round-by-round
    ratios, per setting: one column per peer; then over the lowest peer of each round. The
    first server is the lowest of a setting when that last median is at most 1 (against each
    peer alone, medians under 1 can hide rounds that another peer won)."""
    base, peers = names[0], names[1:]
    print(f"\n{base}'s server CPU per request over each peer's (median of the paired rounds' ratios)")
    print("| conns | " + " | ".join(peers) + " | the round's lowest peer | lowest |")
    print("| --- | " + " | ".join("---" for _ in peers) + " | --- | --- |")
    for c in settings:
        each = [cpu_ratios(results, base, [p], c) for p in peers]
        cells = [f"{statistics.median(r):.2f}" if r else "-" for r in each]
        lowest = cpu_ratios(results, base, peers, c)
        best = statistics.median(lowest) if lowest else float("nan")
        print(f"| {c} | " + " | ".join(cells) + f" | {best:.2f} | {'yes' if best <= 1 else 'no'} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--only", default="")
    ap.add_argument("--conns", default="50,256")
    ap.add_argument("--close", default="", metavar="CONNS",
                    help="also runs with a new connection per request (Connection: close) at these connection counts")
    ap.add_argument("--pipelined", type=int, default=256, metavar="CONNS",
                    help="also a pipelined run (16 requests per write) with this many connections in every round; 0: none")
    ap.add_argument("--idle", type=int, default=5000)
    ap.add_argument("--skip-extras", action="store_true")
    ap.add_argument("--extras-rounds", type=int, default=1)
    ap.add_argument("--paired", action="store_true",
                    help="start every server once and measure each setting on all of them back to back")
    ap.add_argument("--warmup", type=int, default=2, metavar="SECONDS",
                    help="with --paired: an untimed run of every setting on every server first (0: none)")
    ap.add_argument("--versus", default="", metavar="NAME,NAME",
                    help="with --paired: the peers the first server is compared with (default: all)")
    ap.add_argument("--loader", choices=["wrk", LOADGEN], default="wrk",
                    help="what makes the pipelined runs: wrk with pipeline.lua, or bench/loadgen")
    ap.add_argument("--server", type=server_entry, action="append", default=[], metavar="NAME=PATH [ARG...]")
    a = ap.parse_args()
    if a.loader == LOADGEN and not os.path.exists(LOADGEN_BIN):
        ap.error(f"--loader loadgen: no {LOADGEN_BIN} (cd bench/loadgen && cargo build --release)")
    for name, command in a.server:
        if not os.path.exists(command[0]):
            ap.error(f"--server {name}: no such file {command[0]}")
        SERVERS[name] = command + ["--port"]
    given = {name for name, _ in a.server}
    names = [n for n in SERVERS if not a.only or n in a.only.split(",")]
    names = [n for n in names if n in given or os.path.exists(SERVERS[n][0])]
    conns = [int(c) for c in a.conns.split(",") if c]
    with open(PIPELINE_LUA, "w") as f:
        f.write('init = function(args)\n  local r = {}\n  for i = 1, 16 do r[i] = wrk.format(nil, "/") end\n'
                '  req = table.concat(r)\nend\nrequest = function() return req end\n')
    results = {}
    runs = [(c, c, None) for c in conns]
    runs += [(f"{c} close", int(c), CLOSE) for c in a.close.split(",") if c]
    if a.pipelined:
        if a.loader == LOADGEN:
            runs.append((f"{a.pipelined} pipelined loadgen", a.pipelined, LOADGEN))
        else:
            runs.append((f"{a.pipelined} pipelined", a.pipelined, PIPELINE_LUA))

    def one(rnd, name, pid, port, c, n, lua):
        if not takes_part(name, lua):
            return
        r = measured(pid, port, n, a.duration, lua)
        results.setdefault((name, c), []).append(r)
        client = LOADGEN if lua == LOADGEN else "wrk"
        print(f"round {rnd+1} {name:14} c={c:<4} {r['rps']:>9.0f} req/s  p50 {r['p50']:>8.0f}us  p99 {r['p99']:>8.0f}us"
              f"  cpu {r['cpu_us_per_req']:.2f}us/req (kernel {r['kernel_pct']:.0f}%)  server busy {r['server_busy']:.0f}%  rss {r['rss_kib']}KiB"
              f"  threads {r['threads']}  {client} {r['client_busy']:.0f}%"
              f" ({r['client_user_us'] + r['client_kernel_us']:.3f}us/answer) {r['errors']}", flush=True)

    if a.paired:
        procs = {}
        try:
            for name in names:
                port = free_port()
                procs[name] = (start(name, port), port)
            # One untimed pass over every setting and server first: the first measurement of a
            # run was seen to come out slow for whichever server took it.
            for c, n, lua in runs if a.warmup > 0 else []:
                for name in names:
                    if not takes_part(name, lua):
                        continue
                    p, port = procs[name]
                    measured(p.pid, port, n, a.warmup, lua)
            for rnd in range(a.rounds):
                # Every server is measured at one setting before the next setting, in an order
                # turned by one each round, so a slow stretch of the machine hits them alike.
                order = names[rnd % len(names):] + names[:rnd % len(names)]
                for c, n, lua in runs:
                    for name in order:
                        p, port = procs[name]
                        one(rnd, name, p.pid, port, c, n, lua)
        finally:
            for p, _ in procs.values():
                p.kill(); p.wait()
    else:
        for rnd in range(a.rounds):
            for name in names:
                port = free_port()
                p = start(name, port)
                try:
                    for c, n, lua in runs:
                        one(rnd, name, p.pid, port, c, n, lua)
                finally:
                    p.kill(); p.wait()
    print("\nmedians over rounds")
    print("| server | conns | req/s | p50 µs | p99 µs | server CPU µs/req | of it in the kernel | server's core busy"
          " | RSS KiB | threads | load generator's core busy | its CPU µs per answer (user + kernel) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (name, c), rs in results.items():
        med = lambda k: statistics.median(r[k] for r in rs)
        print(f"| {name} | {c} | {med('rps'):.0f} | {med('p50'):.0f} | {med('p99'):.0f} | {med('cpu_us_per_req'):.2f}"
              f" | {med('kernel_us_per_req'):.2f} µs, {med('kernel_pct'):.0f} % | {med('server_busy'):.0f} %"
              f" | {med('rss_kib'):.0f} | {med('threads'):.0f} | {med('client_busy'):.0f} %"
              f" | {med('client_user_us'):.3f} + {med('client_kernel_us'):.3f} |")
    if a.paired and len(names) > 1:
        paired_ratios(names, [c for c, _, _ in runs], results, a.versus)
        paired_each(names, [c for c, _, _ in runs], results)
    if a.skip_extras:
        return
    header = ("\n| server | base req/s c=50 | req/s with idle | ratio | RSS before KiB | RSS with idle KiB"
              " | KiB per idle conn | burst answered | burst s | pipelined req/s |")
    print(header)
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    extra = {}
    for rnd in range(a.extras_rounds):
        for name in names:
            r = extras(name, a)
            extra.setdefault(name, []).append(r)
            label = name if a.extras_rounds == 1 else f"{name} (round {rnd+1})"
            print(f"| {label} | {r['base']:.0f} | {r['idle_s']} | {r['answered']}/{a.idle} | {r['burst_s']:.2f} | {r['pipe']:.0f} |",
                  flush=True)
    if a.extras_rounds > 1:
        print("\nmedians over extras rounds (idle columns over the rounds where all were held)")
        print(header.lstrip("\n"))
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, rs in extra.items():
            med = lambda k, rows=rs: statistics.median(r[k] for r in rows)
            held = [r for r in rs if "kept" in r]
            if held:
                idle_s = (f"{med('idle', held):.0f} | {med('kept', held):.2f} | {med('rss0', held):.0f} | {med('rss1', held):.0f}"
                          f" | {med('per_conn', held):.2f}")
            else:
                idle_s = f"failed | - | {med('rss0'):.0f} | - | -"
            print(f"| {name} | {med('base'):.0f} | {idle_s} | {min(r['answered'] for r in rs)}/{a.idle} (fewest)"
                  f" | {med('burst_s'):.2f} | {med('pipe'):.0f} |")


if __name__ == "__main__":
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    main()
