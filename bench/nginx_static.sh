#!/bin/sh
# nginx as the static-file peer for bench/workloads.py: `nginx_static.sh --port N --root DIR`
# serves DIR at / (so DIR/static/x is /static/x). One process (no master, one worker), no
# access log, `sendfile on` and `tcp_nopush on` (as in Debian's packaged nginx.conf), default ETag
# and Last-Modified.
set -e
port="$2"
root="$4"
dir=$(mktemp -d /tmp/nginx-static.XXXXXX)
cat > "$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 20000; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    client_body_temp_path $dir;
    proxy_temp_path $dir;
    fastcgi_temp_path $dir;
    uwsgi_temp_path $dir;
    scgi_temp_path $dir;
    server {
        listen 127.0.0.1:$port reuseport backlog=4096;
        root $root;
    }
}
CONF
exec /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf"
