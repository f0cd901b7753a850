#!/bin/sh
# System calls and thread switches per request of a server under wrk, counted by the kernel's
# tracepoints (perf stat), which cost the server little, unlike strace:
#   bench/syscalls.sh [--close|--pipelined] NAME COMMAND [ARG...]
# runs `COMMAND ARG... --port PORT` pinned to CPU 1, wrk -t1 -c$C (default 50) for $D seconds
# (default 4) on CPU 0, with `Connection: close` when --close is given, or 16 requests per write
# (bench/pipeline.lua) when --pipelined is given (C defaults to 256 then), and prints each count
# divided by the requests wrk got answered. Needs perf (Debian: linux-perf) and root, or
# kernel.perf_event_paranoid <= -1. Examples:
#   bench/syscalls.sh --close ours target/release-lto/examples/hello
#   bench/syscalls.sh --close nginx bench/nginx_peer.sh
set -e
close=""
pipelined=""
if [ "$1" = "--close" ]; then close="Connection: close"; shift; fi
if [ "$1" = "--pipelined" ]; then pipelined=1; C=${C:-256}; shift; fi
PORT=${PORT:-19003}; C=${C:-50}; D=${D:-4}
name=$1; shift
out=$(mktemp -d)
taskset -c 1 "$@" --port "$PORT" >/dev/null 2>&1 &
spid=$!
sleep 1
ev=""
for s in accept4 setsockopt fcntl epoll_ctl epoll_wait recvfrom read sendto write writev shutdown close futex; do
    ev="$ev -e syscalls:sys_enter_$s"
done
perf stat $ev -e raw_syscalls:sys_enter -e context-switches -p "$spid" -o "$out/perf.txt" &
ppid=$!
sleep 0.5
if [ -n "$pipelined" ]; then
    taskset -c 0 wrk -t1 -c"$C" -d"${D}s" -s "$(dirname "$0")/pipeline.lua" "http://127.0.0.1:$PORT/" > "$out/wrk.txt"
elif [ -n "$close" ]; then
    taskset -c 0 wrk -t1 -c"$C" -d"${D}s" -H "$close" "http://127.0.0.1:$PORT/" > "$out/wrk.txt"
else
    taskset -c 0 wrk -t1 -c"$C" -d"${D}s" "http://127.0.0.1:$PORT/" > "$out/wrk.txt"
fi
kill -INT $ppid; wait $ppid || true
kill $spid; wait $spid 2>/dev/null || true
n=$(grep -oE "^ +[0-9]+ requests" "$out/wrk.txt" | awk '{print $1}')
mode=${close:-keep-alive}; [ -n "$pipelined" ] && mode="pipelined, 16 per write"
echo "$name: $n requests (c=$C, $mode)"
grep -E "syscalls|context" "$out/perf.txt" | awk -v n="$n" '{gsub(",","",$1); if ($1 > 0) printf "  %-28s %.3f per request\n", $2, $1/n}'
rm -rf "$out"
