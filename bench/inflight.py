"""Many concurrent 1-second GETs from one client process: http-client's one-thread
interface (`Client::multi`), today's thread-per-request use of `Client::send`, and Python's
aiohttp on one asyncio loop, in the same run against one local server that holds every
waiting request without a thread (examples/delay_server.rs).

For each client and count: wall time (first request to last answer, as the client measures
it), the threads of the client process (the most seen, sampled every 5 ms), its peak RSS and
its CPU time (user + system, from wait4). Rounds are interleaved so that every client meets
the same machine state; medians are printed.

python3 bench/inflight.py [--counts 1000,10000] [--rounds 3] [--delay-ms 1000]
"""
import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_client(cmd):
    """Runs one client; returns its JSON line with the sampled threads, RSS and CPU added."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_threads = 0
    status = f"/proc/{proc.pid}/status"
    while True:
        pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("Threads:"):
                        peak_threads = max(peak_threads, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
        time.sleep(0.005)
    out, err = proc.stdout.read(), proc.stderr.read()
    if code != 0:
        sys.exit(f"{cmd} failed ({code}): {err}")
    if err.strip():
        print(f"  {cmd[0]}: {err.strip()}", file=sys.stderr)
    result = json.loads(out.strip().splitlines()[-1])
    result["threads"] = max(result["threads"], peak_threads)
    result["rss_mb"] = usage.ru_maxrss / 1024
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--counts", default="1000,10000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--delay-ms", type=int, default=1000)
    args = ap.parse_args()
    counts = [int(c) for c in args.counts.split(",")]

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < max(counts) + 1000:
        sys.exit(f"the open-file limit ({hard}) is too low for {max(counts)} connections")

    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "delay_server"], cwd=HERE, check=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "inflight"],
                   cwd=os.path.join(HERE, "client"), check=True)
    inflight = os.path.join(HERE, "client", "target", "release", "inflight")
    port = free_port()
    server = subprocess.Popen([os.path.join(HERE, "target", "release", "examples", "delay_server"),
                               "--port", str(port), "--delay-ms", str(args.delay_ms)])
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/wait"
        clients = {
            "http-client Multi (one thread)": lambda n: [inflight, "multi", str(n), url],
            "http-client send, thread per request": lambda n: [inflight, "threads", str(n), url],
            "aiohttp (asyncio, one thread)": lambda n: [sys.executable, os.path.join(HERE, "inflight_aiohttp.py"),
                                                        str(n), url],
        }
        results = {(name, n): [] for name in clients for n in counts}
        for r in range(args.rounds):
            for n in counts:
                for name, cmd in clients.items():
                    res = run_client(cmd(n))
                    if res["ok"] != n:
                        print(f"  {name} n={n}: {res['errors']} errors", file=sys.stderr)
                    results[(name, n)].append(res)
                    print(f"round {r + 1} n={n} {name}: {res}", file=sys.stderr)
                    # Let the sockets of the last run leave TIME_WAIT's way a moment.
                    time.sleep(1)
        print(f"\n{args.rounds} rounds, {args.delay_ms} ms answers, medians\n")
        print("| in flight | client | wall s | threads | peak RSS MB | CPU s | errors |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for n in counts:
            for name in clients:
                rs = results[(name, n)]
                med = lambda k: statistics.median(x[k] for x in rs)
                print(f"| {n:,} | {name} | {med('wall'):.2f} | {max(x['threads'] for x in rs)} | "
                      f"{med('rss_mb'):.1f} | {med('cpu_s'):.2f} | {sum(x['errors'] for x in rs)} |")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
