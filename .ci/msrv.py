#!/usr/bin/env python3
"""Checks that the declared `rust-version` is the truth: no package the library crates
depend on (normal and build dependencies, as locked, every feature on) needs a newer Rust.
Dev-dependencies (tests, examples, benchmarks) do not count: users never build them.

Exits 1, naming the packages, when one needs more than declared. Prints the newest needed.
"""
import json
import subprocess
import sys


def version(v):
    parts = [int(x) for x in (v or "0").split(".")]
    return tuple(parts + [0] * (3 - len(parts)))[:3]


meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1", "--all-features", "--locked"],
    check=True, capture_output=True, text=True).stdout)
packages = {p["id"]: p for p in meta["packages"]}
members = set(meta["workspace_members"])
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
declared = {packages[m]["name"]: packages[m].get("rust_version") for m in members}
seen, todo = set(), list(members)
while todo:
    node = nodes[todo.pop()]
    for dep in node["deps"]:
        kinds = {k["kind"] for k in dep["dep_kinds"]}
        if kinds & {None, "build"} and dep["pkg"] not in seen:
            seen.add(dep["pkg"])
            todo.append(dep["pkg"])
needs = sorted(((version(packages[p].get("rust_version")), packages[p]["name"], packages[p]["version"])
                for p in seen if p not in members), reverse=True)
ours = min(version(v) for v in declared.values())
newest = needs[0] if needs else ((0, 0, 0), "-", "-")
print(f"msrv: declared {'.'.join(map(str, ours))}; the newest a dependency needs: "
      f"{'.'.join(map(str, newest[0]))} ({newest[1]} {newest[2]})")
too_new = [n for n in needs if n[0] > ours]
if too_new:
    for v, name, ver in too_new:
        print(f"msrv: {name} {ver} needs Rust {'.'.join(map(str, v))}", file=sys.stderr)
    sys.exit(1)
