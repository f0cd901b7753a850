#!/usr/bin/env python3
"""HTTPS side by side: our `tls` example beside nginx and hyper, with one certificate (ECDSA P-256).

Each server is pinned to CPU 1 and the clients to CPU 0 (taskset). Every server is started
once; in each round every setting is measured on all servers back to back, in an order turned
by one each round (paired rounds, as `servers.py --paired`). Server CPU comes from
/proc/PID/stat (user + system) around each measurement.

Settings:
  keepalive  wrk -c50 over HTTPS, connections kept: req/s and server CPU per request
  close      wrk -c50 with `Connection: close`: a new TLS connection per request (wrk keeps
             the session of a connection it closed cleanly and offers it again, so these are
             resumed handshakes where the server allows it; the resumption check printed first
             says whether each server does, for TLS 1.2 and 1.3)
  full13     `openssl s_time -new -tls1_3`: one full TLS 1.3 handshake and a GET after another
  full12     the same with TLS 1.2
  resume12   `openssl s_time -reuse -tls1_2`: every handshake but the first resumes a TLS 1.2
             session (a session ID or a ticket)
  resume13   the same with TLS 1.3 (a ticket, PSK with ECDHE)
For s_time rows, handshakes/s is what one sequential client got (its own CPU sets the pace)
and the server CPU per handshake is the figure to compare; `resumed R/N` says how many of the
N handshakes resumed a session (s_time prints an `r` for each).

Then, once per server: idle memory, `--idle` TLS connections opened (one GET each, then held
idle) and the server's RSS growth divided by their number.

The servers: ours, `examples/tls.rs` (rustls with ring, `ServerBuilder::tls_pem`); nginx
(`bench/nginx_peer.sh --tls`); hyper 1 over tokio-rustls (`bench/peers/src/bin/hyper_tls_hello.rs`,
rustls with ring, set up as ours), left out when its binary is missing. The medians are followed
by our CPU against each peer's, setting by setting.

Usage: bench/tls.py [--rounds 3] [--duration 5] [--idle 1000] [--only http-toolkit,nginx,hyper]
                    [--settings keepalive,close,full13,full12,resume12,resume13]
Our server: `cargo build --profile release-lto --example tls`; hyper's:
`(cd bench/peers && cargo build --release --bin hyper_tls_hello)`. The certificate is made with
openssl in a temporary directory.
"""
import argparse, os, re, resource, socket, ssl, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from servers import CLOSE, cpu_ticks, free_port, read_response, start_pinned, status, wrk  # noqa: E402
TLS_EXAMPLE = os.path.join(ROOT, "target", "release-lto", "examples", "tls")
NGINX = os.path.join(HERE, "nginx_peer.sh")
HYPER_TLS = os.path.join(HERE, "peers", "target", "release", "hyper_tls_hello")
OURS = "http-toolkit"
TICK = os.sysconf("SC_CLK_TCK")
SETTINGS = ["keepalive", "close", "full13", "full12", "resume12", "resume13"]


def make_cert(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "7", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def commands(cert, key):
    return {
        OURS: lambda port: [TLS_EXAMPLE, "--port", str(port), cert, key],
        "nginx": lambda port: [NGINX, "--port", str(port), "--tls", cert, key],
        "hyper": lambda port: [HYPER_TLS, "--port", str(port), cert, key],
    }


def run_s_time(port, duration, mode, version):
    cmd = ["taskset", "-c", "0", "openssl", "s_time", "-connect", f"127.0.0.1:{port}", f"-{mode}",
           f"-{version}", "-time", str(duration), "-www", "/"]
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    elapsed = time.monotonic() - t0
    # "N connections in T real seconds" (whole seconds: the rate is taken from the wall
    # clock); with -reuse the first handshake is a full one.
    m = re.findall(r"(\d+) connections in [\d.]+ real seconds", out)
    if not m:
        raise RuntimeError(f"s_time said: {out[-400:]}")
    n = int(m[-1])
    # A character per handshake after "starting" or "Collecting ...": `r` when the session
    # was resumed, `*` (or the version's letter) when it was a full handshake.
    marks = "".join(re.findall(r"^[r*t3]+$", out, re.M))
    return n, n / elapsed, f"resumed {marks.count('r')}/{len(marks)}"


def measure(pid, port, setting, duration):
    t0 = cpu_ticks(pid)
    if setting in ("keepalive", "close"):
        r = wrk(port, 50, duration, CLOSE if setting == "close" else None, scheme="https")
        n, rate, note = r["requests"], r["rps"], r["errors"]
    else:
        mode = "new" if setting.startswith("full") else "reuse"
        version = "tls1_3" if setting.endswith("13") else "tls1_2"
        n, rate, note = run_s_time(port, duration, mode, version)
    t1 = cpu_ticks(pid)
    return {"n": n, "rate": rate, "cpu_us": (t1 - t0) / TICK * 1e6 / max(n, 1), "note": note}


def resumes(port, cafile, version):
    """Whether the server resumes the session of a connection closed cleanly after one GET
    (the session a client such as wrk offers again on its next connection)."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ctx.maximum_version = version
    session = None
    for _ in range(2):
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                             server_hostname="localhost", session=session) as s:
            # The response is read first: TLS 1.3 tickets come after the handshake.
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            read_response(s)
            reused, session = s.session_reused, s.session
            try:
                # Our close_notify keeps the session resumable; nginx closes without its own.
                s.unwrap()
            except (OSError, ssl.SSLError):
                pass
    return reused


def idle_memory(pid, port, count, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    before = status(pid)[0]
    socks = []
    for _ in range(count):
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="localhost")
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        read_response(s)
        socks.append(s)
    time.sleep(1)
    after = status(pid)[0]
    for s in socks:
        s.close()
    return before, after, (after - before) / count


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--only", default="")
    ap.add_argument("--settings", default=",".join(SETTINGS))
    a = ap.parse_args()
    if not os.path.exists(TLS_EXAMPLE):
        sys.exit(f"{TLS_EXAMPLE} is missing: cargo build --profile release-lto --example tls")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    settings = [s for s in a.settings.split(",") if s]
    only = [n for n in a.only.split(",") if n]
    if "hyper" in only and not os.path.exists(HYPER_TLS):
        sys.exit(f"{HYPER_TLS} is missing: (cd bench/peers && cargo build --release --bin hyper_tls_hello)")
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = make_cert(tmp)
        cmds = commands(cert, key)
        names = [n for n in cmds if not only or n in only]
        if "hyper" in names and not os.path.exists(HYPER_TLS):
            print(f"hyper left out: no {HYPER_TLS} "
                  "(cd bench/peers && cargo build --release --bin hyper_tls_hello)", flush=True)
            names.remove("hyper")
        procs = {}
        results = {}
        try:
            for name in names:
                port = free_port()
                procs[name] = (start_pinned(cmds[name](port), port), port)
            print("| server | resumes a TLS 1.2 session on reconnect | resumes a TLS 1.3 session |")
            print("| --- | --- | --- |")
            for name in names:
                cells = []
                for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                    try:
                        cells.append("yes" if resumes(procs[name][1], cert, version) else "no")
                    except Exception as e:
                        cells.append(f"failed ({e})")
                print(f"| {name} | {' | '.join(cells)} |", flush=True)
            print()
            for s in settings:  # untimed warm-up
                for name in names:
                    p, port = procs[name]
                    measure(p.pid, port, s, 1)
            for rnd in range(a.rounds):
                order = names[rnd % len(names):] + names[:rnd % len(names)]
                for s in settings:
                    for name in order:
                        p, port = procs[name]
                        r = measure(p.pid, port, s, a.duration)
                        results.setdefault((name, s), []).append(r)
                        print(f"round {rnd + 1} {name:13} {s:9} {r['rate']:>9.0f}/s  cpu {r['cpu_us']:7.1f}us each"
                              f"  ({r['n']}) {r['note']}", flush=True)
            print("\nmedians over rounds (per request for keepalive, per connection otherwise)")
            print("| setting | server | rate /s | server CPU µs | ratio of CPU to the lowest peer's, by round |")
            print("| --- | --- | --- | --- | --- |")
            for s in settings:
                for name in names:
                    rs = results[(name, s)]
                    ratios = []
                    for i, r in enumerate(rs):
                        peers = [results[(n, s)][i]["cpu_us"] for n in names if n != name]
                        if peers:
                            ratios.append(r["cpu_us"] / min(peers))
                    shown = " / ".join(f"{x:.2f}" for x in ratios)
                    print(f"| {s} | {name} | {statistics.median(r['rate'] for r in rs):.0f}"
                          f" | {statistics.median(r['cpu_us'] for r in rs):.1f} | {shown} |")
            peers = [n for n in names if n != OURS]
            if OURS in names and peers:
                print("\nour server CPU over each peer's: the median of the rounds' ratios (each round's)")
                print("| setting | " + " | ".join(f"ours/{n}" for n in peers) + " |")
                print("| --- |" + " --- |" * len(peers))
                for s in settings:
                    cells = []
                    for n in peers:
                        ratios = [o["cpu_us"] / p["cpu_us"] if p["cpu_us"] else float("inf")
                                  for o, p in zip(results[(OURS, s)], results[(n, s)])]
                        each = " / ".join(f"{x:.2f}" for x in ratios)
                        cells.append(f"{statistics.median(ratios):.2f} ({each})" if len(ratios) > 1
                                     else f"{ratios[0]:.2f}")
                    print(f"| {s} | " + " | ".join(cells) + " |")
            print("\n| server | RSS before KiB | RSS with idle KiB | KiB per idle TLS connection |")
            print("| --- | --- | --- | --- |")
            for name in names:
                p, port = procs[name]
                try:
                    before, after, each = idle_memory(p.pid, port, a.idle, cert)
                    print(f"| {name} | {before} | {after} | {each:.2f} |", flush=True)
                except Exception as e:
                    print(f"| {name} | failed ({e}) | | |")
        finally:
            for p, _ in procs.values():
                p.kill()
                p.wait()


if __name__ == "__main__":
    main()
