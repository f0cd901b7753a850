#!/usr/bin/env python3
"""Real workloads side by side: static files, a large upload, a JSON echo, a route table.

Each server is pinned to CPU 1 and wrk to CPU 0 (taskset). Every round starts each server
afresh and runs every cell, interleaved across servers, the servers of a workload taking
turns to go first; the medians over rounds are printed
with the ratios to the peer. Server CPU per request is the server's utime + stime
(/proc/PID/stat) over the wrk run divided by the requests.

| cell | ours | peer |
| --- | --- | --- |
| static 1 KiB, 100 KiB, 10 MiB (GET) | `Server::serve_dir` | nginx (one process, one worker, sendfile, tcp_nopush) |
| upload 10 MiB (POST, handler reads it whole) | `Context::read_body` | hyper 1.x collecting the body |
| upload 10 MiB, streamed (POST, read as it arrives) | a streaming route, `Context::body` through 64 KiB | hyper 1.x frame by frame |
| JSON echo 2 KiB (POST, parse and write back) | `Context::json` + `Response::json` | hyper 1.x + serde_json |
| routes: `/hello` on a table of 1 route, and paths on a table of 200 patterns | ours | ours |

The files and the JSON document are made in a temporary directory. Servers:
`bench/target/release-lto/examples/workloads_server` (`cargo build --profile release-lto
--example workloads_server` in bench/; a `--release` build is used when there is none),
`bench/peers/target/release/hyper_workloads` (`cargo build --release --bin hyper_workloads` in
bench/peers/, fat LTO as well), Debian's nginx via nginx_peer.sh. A missing binary leaves its
cells out. `--lookup` also runs the in-process route timing (`cargo build --profile release-lto
--example route_lookup`).

Usage: bench/workloads.py [--rounds 3] [--duration 5] [--only static,upload,json,routes]
                          [--conns 50] [--big-conns 8] [--warmup 1] [--lookup]
                          [--server NAME=PATH ...]
`--server NAME=PATH` (repeatable) measures another build of workloads_server in every cell of
ours, interleaved with it (for example a build before a change), as rows "label (NAME)".
"""
import argparse, itertools, json, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time
import urllib.request
from servers import free_port, cpu_ticks, wait_listening  # the helpers the benches share

HERE = os.path.dirname(os.path.abspath(__file__))
# The `release-lto` build (fat LTO, one codegen unit, as the peers), else the release one.
OURS, LOOKUP = [next((p for p in (os.path.join(HERE, "target", prof, "examples", name) for prof in ("release-lto", "release"))
                      if os.path.exists(p)), os.path.join(HERE, "target", "release", "examples", name))
                for name in ("workloads_server", "route_lookup")]
HYPER = os.path.join(HERE, "peers", "target", "release", "hyper_workloads")
NGINX = os.path.join(HERE, "nginx_peer.sh")
TICK = os.sysconf("SC_CLK_TCK")
KIB, MIB = 1024, 1024 * 1024
FILES = {"1k.bin": KIB, "100k.bin": 100 * KIB, "10m.bin": 10 * MIB}
ROUTE_PATHS = ["/api/v1/reviews/search", "/api/v1/reviews/42/history/7", "/admin/reviews/42/edit"]


def start(cmd, port):
    p = subprocess.Popen(["taskset", "-c", "1"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    return wait_listening(p, port, cmd[0], stop)


def stop(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()


def server_pid(p):
    """The server's own pid: taskset execs it, nginx_peer.sh execs nginx."""
    return p.pid


def make_document():
    """A JSON document of about 2 KiB: an order with a customer and line items."""
    doc = {"id": 90210, "status": "paid", "currency": "EUR", "note": "leave at the door, \"ring twice\"",
           "customer": {"id": 77, "name": "Ann Example", "email": "ann@example.com", "vip": True,
                        "address": {"street": "1 Main Street", "city": "Springfield", "zip": "12345"}},
           "items": []}
    i = 0
    while len(json.dumps(doc, separators=(",", ":"))) < 2048 - 120:
        doc["items"].append({"sku": f"SKU-{1000 + i}", "name": f"Item number {i}", "qty": i % 5 + 1,
                             "price": round(3.5 + i * 1.25, 2), "tags": ["red", "small"][: i % 3]})
        i += 1
    return json.dumps(doc, separators=(",", ":")).encode()


def write_lua(path, body_file, content_type):
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\n'
                f'local f = io.open("{body_file}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
                f'wrk.headers["Content-Type"] = "{content_type}"\n')


def wrk(url, conns, duration, lua=None):
    cmd = ["taskset", "-c", "0", "wrk", "-t1", f"-c{conns}", f"-d{duration}s"]
    if lua:
        cmd += ["-s", lua]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": errors.group(0) if errors else "",
    }


def measured(pid, url, conns, duration, lua=None):
    t0 = cpu_ticks(pid)
    r = wrk(url, conns, duration, lua)
    t1 = cpu_ticks(pid)
    r["cpu"] = (t1 - t0) / TICK * 1e6 / max(r["requests"], 1)
    return r


def check(url, body=None, content_type=None, expect=None):
    """One request before measuring: a 200 and the expected body (or body length)."""
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if content_type:
        req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=30) as r:
        data = r.read()
        if r.status != 200:
            raise RuntimeError(f"{url}: status {r.status}")
    if isinstance(expect, int) and len(data) != expect:
        raise RuntimeError(f"{url}: {len(data)} bytes, expected {expect}")
    if content_type == "application/json" and json.loads(data) != json.loads(expect):
        raise RuntimeError(f"{url}: the echo differs from the document")
    elif content_type != "application/json" and isinstance(expect, bytes) and data != expect:
        raise RuntimeError(f"{url}: unexpected body {data[:80]!r}")


def cells(a, tmp):
    """(group, label, server, path, conns, lua, bytes per request, check arguments)."""
    doc = open(os.path.join(tmp, "doc.json"), "rb").read()
    out = []
    if "static" in a.only:
        for name, size in FILES.items():
            conns = a.big_conns if size >= MIB else a.conns
            for server in ("ours", "nginx"):
                out.append(("static", f"static {name}", server, f"/static/{name}", conns, None, size,
                            dict(expect=size)))
    if "upload" in a.only:
        upload = os.path.join(tmp, "upload.bin")
        for server in ("ours", "hyper"):
            out.append(("upload", "upload 10 MiB", server, "/upload", a.big_conns, os.path.join(tmp, "upload.lua"),
                        10 * MIB, dict(body=open(upload, "rb").read(), content_type="application/octet-stream",
                                       expect=str(10 * MIB).encode())))
        for server in ("ours", "hyper"):
            out.append(("upload", "upload 10 MiB, streamed", server, "/upload-stream", a.big_conns,
                        os.path.join(tmp, "upload.lua"), 10 * MIB,
                        dict(body=open(upload, "rb").read(), content_type="application/octet-stream",
                             expect=str(10 * MIB).encode())))
    if "json" in a.only:
        for server in ("ours", "hyper"):
            out.append(("json", f"JSON echo {len(doc)} B", server, "/echo", a.conns, os.path.join(tmp, "json.lua"),
                        len(doc), dict(body=doc, content_type="application/json", expect=doc)))
    if "routes" in a.only:
        out.append(("routes", "/hello, 1 route", "ours", "/hello", a.conns, None, 0, dict(expect=b"Hello, world!")))
        out.append(("routes", "/hello, 200 routes", "ours-200", "/hello", a.conns, None, 0,
                    dict(expect=b"Hello, world!")))
        for path in ROUTE_PATHS:
            out.append(("routes", f"{path}, 200 routes", "ours-200", path, a.conns, None, 0, dict()))
    # Other builds of our server (`--server NAME=PATH`) in every cell of ours, right after it.
    with_variants = []
    for cell in out:
        with_variants.append(cell)
        if cell[2] == "ours":
            with_variants += [cell[:2] + (name,) + cell[3:] for name in a.variants]
    return with_variants


def in_turn(todo, rnd):
    """The cells in the order of round `rnd`: the servers of each workload (the cells sharing a
    label) take turns going first, as the first server measured in a workload was seen to pay
    more than the others (two builds of the same code 1.3x apart in CPU per upload)."""
    out = []
    for _, group in itertools.groupby(todo, key=lambda cell: cell[1]):
        group = list(group)
        k = rnd % len(group)
        out += group[k:] + group[:k]
    return out


def server_entry(arg):
    name, sep, path = arg.partition("=")
    if not sep or not name or not path or name in ("ours", "ours-200", "nginx", "hyper"):
        raise argparse.ArgumentTypeError(f"expected name=/path/to/workloads_server, got {arg!r}")
    return name, os.path.abspath(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--only", default="static,upload,json,routes")
    ap.add_argument("--conns", type=int, default=50, help="connections for small requests")
    ap.add_argument("--big-conns", type=int, default=8, help="connections for 10 MiB bodies")
    ap.add_argument("--warmup", type=int, default=1, help="seconds of load before each measured run")
    ap.add_argument("--server", type=server_entry, action="append", default=[], metavar="NAME=PATH",
                    help="another build of workloads_server, measured in every cell of ours")
    ap.add_argument("--lookup", action="store_true", help="also time route lookups in process")
    a = ap.parse_args()
    a.only = a.only.split(",")
    a.variants = dict(a.server)
    for name, path in a.variants.items():
        if not os.path.exists(path):
            ap.error(f"--server {name}: no such file {path}")
    tmp = tempfile.mkdtemp(prefix="workloads.")
    try:
        run(a, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(a, tmp):
    os.mkdir(os.path.join(tmp, "static"))
    rand = open("/dev/urandom", "rb")
    for name, size in FILES.items():
        with open(os.path.join(tmp, "static", name), "wb") as f:
            f.write(rand.read(size))
    with open(os.path.join(tmp, "upload.bin"), "wb") as f:
        f.write(rand.read(10 * MIB))
    with open(os.path.join(tmp, "doc.json"), "wb") as f:
        f.write(make_document())
    write_lua(os.path.join(tmp, "upload.lua"), os.path.join(tmp, "upload.bin"), "application/octet-stream")
    write_lua(os.path.join(tmp, "json.lua"), os.path.join(tmp, "doc.json"), "application/json")
    root = os.path.join(tmp, "static")
    commands = {
        "ours": (OURS, lambda port: [OURS, "--port", str(port), "--root", root, "--routes", "1"]),
        "ours-200": (OURS, lambda port: [OURS, "--port", str(port), "--root", root, "--routes", "200"]),
        "nginx": ("/usr/sbin/nginx", lambda port: [NGINX, "--port", str(port), "--root", tmp]),
        "hyper": (HYPER, lambda port: [HYPER, "--port", str(port)]),
    }
    for name, path in a.variants.items():
        commands[name] = (path, lambda port, path=path: [path, "--port", str(port), "--root", root, "--routes", "1"])
    todo = [c for c in cells(a, tmp) if os.path.exists(commands[c[2]][0])]
    if not todo:
        sys.exit("nothing to run: build the servers first (see the module docstring)")
    needed = sorted({c[2] for c in todo})
    results = {}
    skipped = set()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {a.rounds} rounds of {a.duration} s, servers on CPU 1, wrk on CPU 0",
          flush=True)
    for rnd in range(a.rounds):
        running = {}
        try:
            for name in needed:
                port = free_port()
                running[name] = (start(commands[name][1](port), port), port)
            for group, label, server, path, conns, lua, size, chk in in_turn(todo, rnd):
                p, port = running[server]
                url = f"http://127.0.0.1:{port}{path}"
                if (label, server) in skipped:
                    continue
                if rnd == 0:
                    try:
                        check(url, **chk)
                    except Exception as e:
                        if server in a.variants:  # an older build may lack a route
                            print(f"{label} {server}: left out ({e})", flush=True)
                            skipped.add((label, server))
                            continue
                        raise
                if a.warmup > 0:
                    wrk(url, conns, a.warmup, lua)
                r = measured(server_pid(p), url, conns, a.duration, lua)
                results.setdefault((label, server), []).append(r)
                print(f"round {rnd + 1} {label:34} {server:9} c={conns:<3} {r['rps']:>9.0f} req/s"
                      f" {r['rps'] * size / 1e6:>8.1f} MB/s  cpu {r['cpu']:.2f} us/req {r['errors']}", flush=True)
        finally:
            for p, _ in running.values():
                stop(p)
    report(a, todo, results)
    if a.lookup and os.path.exists(LOOKUP):
        print("\nin-process route lookup (route_lookup example)\n")
        print(subprocess.run(["taskset", "-c", "1", LOOKUP], capture_output=True, text=True).stdout)


def report(a, todo, results):
    med = lambda label, server, k: statistics.median(r[k] for r in results[(label, server)])
    sizes = {c[1]: c[6] for c in todo}
    conns = {c[1]: c[4] for c in todo}
    print(f"\nmedians over {a.rounds} rounds ({time.strftime('%Y-%m-%d %H:%M')})\n")
    print("| workload | conns | peer | ours req/s | peer req/s | req/s ratio | ours MB/s | peer MB/s"
          " | ours CPU µs/req | peer CPU µs/req | CPU ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label in dict.fromkeys(c[1] for c in todo if c[0] != "routes"):
        peers = [s for (l, s) in results if l == label and s in ("nginx", "hyper")]
        if not peers:
            continue
        peer = peers[0]
        for ours in ["ours"] + list(a.variants):
            if (label, ours) not in results:
                continue
            o, q = med(label, ours, "rps"), med(label, peer, "rps")
            oc, qc = med(label, ours, "cpu"), med(label, peer, "cpu")
            mb = lambda rps: f"{rps * sizes[label] / 1e6:.1f}"
            name = label if ours == "ours" else f"{label} ({ours})"
            print(f"| {name} | {conns[label]} | {peer} | {o:.0f} | {q:.0f} | {o / q:.2f} | {mb(o)} | {mb(q)}"
                  f" | {oc:.2f} | {qc:.2f} | {oc / qc:.2f} |")
    routes = [c for c in todo if c[0] == "routes"]
    if routes:
        base = med(routes[0][1], routes[0][2], "cpu")
        print("\n| route lookup | req/s | CPU µs/req | CPU µs/req over /hello on 1 route |")
        print("| --- | --- | --- | --- |")
        for _, label, server, *_ in routes:
            c = med(label, server, "cpu")
            name = f"{label} ({server})" if server in a.variants else label
            print(f"| {name} | {med(label, server, 'rps'):.0f} | {c:.2f} | {c - base:+.2f} |")


if __name__ == "__main__":
    main()
