#!/bin/sh
# nginx as a hello-world peer for bench/servers.py: `nginx_hello.sh --port N`. One process
# (no master, one worker), no access log, `Hello, world!` from `return 200`.
set -e
port="$2"
dir=$(mktemp -d /tmp/nginx-hello.XXXXXX)
cat > "$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $dir;
    proxy_temp_path $dir;
    fastcgi_temp_path $dir;
    uwsgi_temp_path $dir;
    scgi_temp_path $dir;
    server {
        listen 127.0.0.1:$port reuseport backlog=4096;
        location / {
            default_type "text/plain; charset=utf-8";
            return 200 "Hello, world!";
        }
    }
}
CONF
exec /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf"
