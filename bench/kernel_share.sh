#!/bin/sh
# The share of a server's CPU time spent in the kernel under wrk, sampled by perf (the
# cross-check of the "kernel %" column servers.py takes from /proc's utime and stime):
#   bench/kernel_share.sh [--close|--pipelined] NAME COMMAND [ARG...]
# runs `COMMAND ARG... --port PORT` pinned to CPU 1, wrk -t1 -c$C (default 50; 256 with
# --pipelined) for $D seconds (default 8) on CPU 0, records the server's samples with
# `perf record` for the middle of the run, and prints each part's share of them: the kernel,
# the server's own binary, libc and the rest. Needs perf (Debian: linux-perf) and root, or
# kernel.perf_event_paranoid <= -1. Examples:
#   bench/kernel_share.sh --close ours target/release-lto/examples/hello
#   bench/kernel_share.sh --pipelined may_minihttp bench/peers/target/release/may_hello
set -e
mode=keep-alive
case "$1" in
    --close) mode=close; shift ;;
    --pipelined) mode=pipelined; C=${C:-256}; shift ;;
esac
PORT=${PORT:-19013}; C=${C:-50}; D=${D:-8}
name=$1; shift
out=$(mktemp -d)
taskset -c 1 "$@" --port "$PORT" >/dev/null 2>&1 &
spid=$!
sleep 1
case $mode in
    close) taskset -c 0 wrk -t1 -c"$C" -d"${D}s" -H "Connection: close" "http://127.0.0.1:$PORT/" > "$out/wrk.txt" & ;;
    pipelined) taskset -c 0 wrk -t1 -c"$C" -d"${D}s" -s "$(dirname "$0")/pipeline.lua" "http://127.0.0.1:$PORT/" > "$out/wrk.txt" & ;;
    *) taskset -c 0 wrk -t1 -c"$C" -d"${D}s" "http://127.0.0.1:$PORT/" > "$out/wrk.txt" & ;;
esac
wpid=$!
sleep 2
perf record -q -o "$out/perf.data" -p "$spid" -- sleep $((D - 4)) 2>/dev/null
wait $wpid
kill $spid 2>/dev/null; wait $spid 2>/dev/null || true
rps=$(awk '/Requests\/sec/ {print $2}' "$out/wrk.txt")
echo "$name: $mode, c=$C, $rps req/s"
perf report -i "$out/perf.data" --no-children --sort dso --stdio 2>/dev/null |
    awk '/%/ && $1 ~ /%$/ {
        share = $1; sub("%", "", share); dso = $2
        if (dso == "[kernel.kallsyms]") k += share; else if (dso ~ /^libc/) c += share; else if (dso ~ /^\[/) o += share; else u += share
    } END { printf "  kernel %.1f %%, its own code %.1f %%, libc %.1f %%, other %.1f %%\n", k, u, c, o }'
rm -rf "$out"
