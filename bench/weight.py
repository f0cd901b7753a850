#!/usr/bin/env python3
"""Build weight: how many crates a program pulls in and how long a clean release build takes.

Each case is a small program in bench/weight/<case> (its own workspace, its own Cargo.lock):

  hello        the README's hello world through the facade, default features
  server       the same hello with the server's TLS, gzip and typed JSON (features tls, gzip, json)
  client       one GET through the facade's client (default-features = false, features = ["client"])
  client-lean  one GET through http-toolkit-client with no optional feature (plain HTTP)
  axum         the hello world in axum 0.8 on tokio
  ureq         one GET in ureq 3 (default features)

For each: `cargo fetch` (not timed), then `cargo build --release` into a fresh CARGO_TARGET_DIR,
timed; crates are the distinct packages of `cargo tree -e normal --prefix none` (the program
itself included). Cases run one after another; the load average is printed before and after,
as other builds on the machine slow every case.

Usage: bench/weight.py [--rounds 1] [case ...]
"""
import argparse, os, re, shutil, subprocess, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = ["hello", "server", "client", "client-lean", "axum", "ureq"]


def crates(manifest):
    out = subprocess.run(["cargo", "tree", "-e", "normal", "--prefix", "none", "--manifest-path", manifest],
                         capture_output=True, text=True, check=True).stdout
    return len({re.sub(r" \(\*\)$", "", line.strip()) for line in out.splitlines() if line.strip()})


def build(manifest):
    target = tempfile.mkdtemp(prefix="weight-target-")
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    try:
        t0 = time.monotonic()
        subprocess.run(["cargo", "build", "--release", "--quiet", "--manifest-path", manifest], env=env, check=True)
        return time.monotonic() - t0
    finally:
        shutil.rmtree(target, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("cases", nargs="*", default=CASES)
    args = ap.parse_args()
    for case in args.cases:
        subprocess.run(["cargo", "fetch", "--quiet", "--manifest-path",
                        os.path.join(HERE, "weight", case, "Cargo.toml")], check=True)
    print(f"load average before: {os.getloadavg()}", flush=True)
    for case in args.cases:
        manifest = os.path.join(HERE, "weight", case, "Cargo.toml")
        n = crates(manifest)
        times = []
        for _ in range(args.rounds):
            times.append(build(manifest))
            print(f"{case:12} {n:4} crates  {times[-1]:6.1f} s  (load {os.getloadavg()[0]:.2f})", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
