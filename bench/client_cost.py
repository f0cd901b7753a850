#!/usr/bin/env python3
"""wrk's own CPU per answer, against several servers in interleaved rounds.

Where wrk's single core is the limit (its core ~100 % busy, see `servers.py`), the rate of a
server that does not fill its own core is 1 / (wrk's CPU per answer). This measures that cost
(user and kernel time of wrk, from the rusage of the child) for each server, round by round,
so that one can tell whether a server's answers cost the client more to read (longer heads,
more segments, more wake-ups) or whether the rates only differ by the machine's drift.

Servers run on CPU 1 and wrk on CPU 0, as in `servers.py`. By default: our hello example, the
same with `Server: M` (answers byte for byte as long as may_minihttp's), and may_minihttp.

Usage: bench/client_cost.py [--mode pipelined|keepalive] [--rounds 8] [--duration 4]
Needs wrk; build the servers first (`cargo build --profile release-lto --example hello` at the
root, `--example hello_named` in bench/, `may_hello` in bench/peers).
"""
import argparse, os, re, resource, statistics, subprocess, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
SERVERS = {
    "http-toolkit": [os.path.join(ROOT, "target", "release-lto", "examples", "hello")],
    "equal-bytes": [os.path.join(HERE, "target", "release-lto", "examples", "hello_named"), "--server-name", "M"],
    "may_minihttp": [os.path.join(HERE, "peers", "target", "release", "may_hello")],
}


def wrk_once(port, mode, duration):
    cmd = ["taskset", "-c", "0", "wrk", "-t1", f"-d{duration}s"]
    cmd += ["-c256", "-s", os.path.join(HERE, "pipeline.lua")] if mode == "pipelined" else ["-c50"]
    cmd.append(f"http://127.0.0.1:{port}/")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    answers = int(re.search(r"(\d+) requests in", out).group(1))
    user = (after.ru_utime - before.ru_utime) * 1e6 / max(answers, 1)
    kernel = (after.ru_stime - before.ru_stime) * 1e6 / max(answers, 1)
    return answers / duration, user, kernel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["pipelined", "keepalive"], default="pipelined")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--duration", type=int, default=4)
    a = ap.parse_args()
    if a.mode == "pipelined" and not os.path.exists(os.path.join(HERE, "pipeline.lua")):
        with open(os.path.join(HERE, "pipeline.lua"), "w") as f:
            f.write('init = function(args)\n  local r = {}\n  for i = 1, 16 do r[i] = wrk.format(nil, "/") end\n'
                    '  req = table.concat(r)\nend\nrequest = function() return req end\n')
    procs = {}
    try:
        for i, (name, cmd) in enumerate(SERVERS.items()):
            if not os.path.exists(cmd[0]):
                print(f"{name}: {cmd[0]} is not built; left out")
                continue
            port = 4400 + i
            p = subprocess.Popen(["taskset", "-c", "1"] + cmd + ["--port", str(port)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs[name] = (p, port)
        time.sleep(1)
        results = {name: [] for name in procs}
        for rnd in range(a.rounds):
            for name, (_, port) in procs.items():
                r = wrk_once(port, a.mode, a.duration)
                results[name].append(r)
                print(f"round {rnd + 1} {name:13} {r[0]:>10.0f} req/s  wrk user {r[1]:.3f} µs  kernel {r[2]:.3f} µs per answer",
                      flush=True)
        print(f"\n| server ({a.mode}) | req/s | wrk user µs per answer | wrk kernel µs per answer |")
        print("| --- | --- | --- | --- |")
        for name, rs in results.items():
            med = [statistics.median(r[k] for r in rs) for k in range(3)]
            print(f"| {name} | {med[0]:.0f} | {med[1]:.3f} | {med[2]:.3f} |")
    finally:
        for p, _ in procs.values():
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
