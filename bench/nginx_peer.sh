#!/bin/sh
# Debian's nginx as a peer for the benches, one process (no master, one worker), no access log:
#   nginx_peer.sh --port N              `<h1>Hello, world!</h1>` (HTML, as the hello example) from
#                                       `return 200` (bench/servers.py)
#   nginx_peer.sh --port N --root DIR   DIR served at / (so DIR/static/x is /static/x), with
#                                       `sendfile on` and `tcp_nopush on` as in Debian's packaged
#                                       nginx.conf, default ETag and Last-Modified (bench/workloads.py)
#   nginx_peer.sh --port N --tls CERT KEY   the hello answer over HTTPS with that certificate
#                                       and key (PEM), TLS 1.2 and 1.3, a session cache and
#                                       tickets (bench/tls.py)
# Its configuration and logs go to a fresh directory in /tmp; those of nginx processes no longer
# running are removed.
set -e
port="$2"
root=""
tls=""
case "$3" in
    --root) root="$4" ;;
    --tls) tls="ssl"; cert="$4"; key="$5" ;;
esac
for old in /tmp/nginx-peer.*; do
    [ -d "$old" ] || continue
    pid=$(cat "$old/nginx.pid" 2>/dev/null || true)
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        rm -rf "$old"
    fi
done
dir=$(mktemp -d /tmp/nginx-peer.XXXXXX)
if [ -n "$root" ]; then
    site="sendfile on;
    tcp_nopush on;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port reuseport backlog=4096;
        root $root;
    }"
else
    # The hello answer, over HTTPS with --tls.
    tls_lines=""
    [ -z "$tls" ] || tls_lines="ssl_certificate $cert;
        ssl_certificate_key $key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:10m;
        ssl_session_tickets on;"
    site="server {
        listen 127.0.0.1:$port $tls reuseport backlog=4096;
        $tls_lines
        location / {
            default_type \"text/html; charset=utf-8\";
            return 200 \"<h1>Hello, world!</h1>\";
        }
    }"
fi
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
    $site
}
CONF
exec /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf"
