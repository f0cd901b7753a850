#!/usr/bin/env bash
# Client benchmark: keep-alive GETs against nginx (one worker) on CPU 1, clients on CPU 0.
# http-client and ureq 3 run interleaved in one process; curl (one connection, URL glob) after.
# Usage: bench/client/run.sh [SECONDS] [ROUNDS] [THREADS]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SECS="${1:-3}"; ROUNDS="${2:-3}"; THREADS="${3:-50}"
command -v nginx >/dev/null || { echo "nginx missing: apt-get install -y nginx" >&2; exit 1; }
(cd "$HERE" && cargo build --release --quiet)
DIR="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$DIR/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $DIR; proxy_temp_path $DIR; fastcgi_temp_path $DIR;
    uwsgi_temp_path $DIR; scgi_temp_path $DIR;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    server {
        listen 127.0.0.1:$PORT;
        location / { default_type text/plain; return 200 "hello world\n"; }
    }
}
CONF
taskset -c 1 nginx -c "$DIR/nginx.conf" -p "$DIR" &
NGINX=$!
trap 'kill $NGINX 2>/dev/null; wait $NGINX 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/"
echo "nginx 1 worker on CPU 1; clients on CPU 0; $ROUNDS rounds of $SECS s"
taskset -c 0 "$HERE/target/release/bench-client" "$URL" "$SECS" "$ROUNDS" "$THREADS"
if command -v curl >/dev/null; then
    N=30000
    START=$(date +%s.%N)
    taskset -c 0 curl -s -o /dev/null "$URL?[1-$N]"
    END=$(date +%s.%N)
    python3 -c "print(f'curl (one connection, sequential): {$N/($END-$START):.0f} req/s')"
fi
