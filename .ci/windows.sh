#!/usr/bin/env bash
# The server and the client run for real on Windows: built for x86_64-pc-windows-gnu with
# MinGW's gcc and run under Wine (Debian's wine64) in a prefix made by this run. `.ci/run`
# calls it after the cross-target checks; it also runs alone: `.ci/windows.sh`.
#
# Which integration test files run under Wine, and why the others cannot:
#
#   runs under Wine                       what it needs
#   server_readiness                      std sockets and our server (written for this run)
#   server_basic server_bodies            our server and raw sockets
#   server_limits server_bad_input        "
#   server_trickle server_slow_peers      "
#   server_streams server_responder       "
#   server_routes server_content          "
#   server_hooks server_typed             "
#   server_upgrade server_logging         "
#   server_proxy_headers                  "
#   server_without_sockets                our server's in-memory engine
#   server_static                         "  (its symbolic links are made on Unix only: see the file)
#   server_listeners                      "  (Unix sockets and SO_REUSEPORT tests are Unix only)
#   server_transports                     "  and rustls (the Unix socket test is Unix only; the
#                                            curl tests are skipped below: curl is a Linux program)
#   server_tls_conveniences               our server, rustls and rcgen
#   webapp_endpoints                      our server, and the webapp example built for Windows
#   client_basic client_broken            our client against our server or raw-socket servers
#   client_early_response client_edges    "
#   client_garbage client_gzip            "
#   client_intercept client_pool          "
#   client_redirects_cookies              "
#   client_request_builder                "
#   client_request_head                   "
#   client_response_heads                 "
#   client_timeouts client_upgrade        "
#   client_with_server                    "
#   client_https                          our client and an in-process rustls server
#   client_native_roots                   the client's system store (SSL_CERT_FILE is read on Windows too)
#   client_fetch_example                  the fetch example built for Windows, raw-socket servers
#   server_api server_body_limit          our server and raw sockets
#   server_middleware                     "  (the curl test is skipped below)
#   server_hub                            "
#   server_tls_close                      our server and rustls' client
#   client_redirect_leaks                 our client against raw-socket and rustls servers
#   client_socks                          our client and a SOCKS server in the test (the pproxy
#                                            test is skipped below: pproxy is a Python program here)
#   client_happy_eyeballs                 our client and loopback listeners
#   server_websocket                      our server's WebSockets, tungstenite, our client and
#                                            raw sockets (the Python tests are skipped below)
#   server_websocket_threads              (Linux only inside: it counts threads in /proc)
#   client_websocket                      our client against tungstenite and raw-socket servers
#                                            (the Python and tinyproxy tests are skipped below)
#   client_multi                          our one-thread client against our server (the
#                                            tinyproxy test is skipped below)
#   server_json_errors server_access_log  our server and raw sockets
#   server_route_methods                  "
#   server_basic_auth server_header_case  "  (their curl tests are skipped below)
#   client_attempts                       our client against silent and slow servers
#
#   not under Wine                        why
#   behind_balancers                      nginx and HAProxy (Linux programs), SIGTERM; #![cfg(unix)]
#   server_signals                        signals and systemd's socket hand-over; #![cfg(unix)]
#   server_behind_nginx client_nginx      nginx, a Linux program a Windows test cannot start
#   client_proxy                          tinyproxy, likewise
#   fetch_like_curl                       curl, likewise
#   notes_example                         curl, and stops the example with SIGTERM; #![cfg(unix)]
#   hello_example                         stops the example with SIGTERM (`kill`); the hello example
#                                         is checked under Wine from outside instead (below)
#   webapp_browser                        chromium, likewise
#   notes_browser                         chromium, and the notes example; #![cfg(unix)]
#   websocket_example                     Python's websockets package, likewise
#   tls_example                           stops the example with SIGTERM (`kill`), as hello_example
#
# The hello example built for Windows is then started under Wine and checked from the Linux
# side by .ci/wine/hello_check.py: keep-alive, pipelining, a head a byte at a time, and 1,000
# clients that connect and go away.
#
# Anything that cannot be set up (packages, the Rust target, the prefix) fails the run loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
target=x86_64-pc-windows-gnu
started=$SECONDS

warn() {
  echo "ci: WARNING: $*" >&2
  exit 1
}

# Tests that fail under Wine because of the server's own code, not Wine's: skipped in their
# file, then each run alone and its result printed, without failing the run. None today; a test
# goes here only with the failure it shows and an issue that says why.
known_failures=(
)

wine_files=(
  server_readiness server_basic server_bodies server_limits server_bad_input server_trickle
  server_slow_peers server_streams server_responder server_routes server_content server_hooks
  server_typed server_upgrade server_logging server_proxy_headers server_without_sockets
  server_static server_listeners server_transports server_tls_conveniences webapp_endpoints
  client_basic client_broken client_early_response client_edges client_garbage client_gzip
  client_intercept client_pool client_redirects_cookies client_request_builder
  client_request_head client_response_heads client_timeouts client_upgrade client_with_server
  client_https client_native_roots client_fetch_example server_api server_middleware
  server_body_limit server_tls_close client_redirect_leaks client_socks client_happy_eyeballs
  server_hub server_websocket server_websocket_threads client_websocket client_multi
  server_json_errors server_access_log server_route_methods server_basic_auth server_header_case
  client_attempts
)
# Tests inside those files skipped under Wine (substring filters of the test harness).
declare -A skip=(
  [server_transports]="--skip curl_"
  [server_middleware]="--skip through_curl"
  [client_socks]="--skip through_pproxy"
  [server_websocket]="--skip python"
  [client_websocket]="--skip python_ --skip through_tinyproxy"
  [client_multi]="--skip through_tinyproxy"
  [server_basic_auth]="--skip as_curl"
  [server_header_case]="--skip curl_"
)

# --- What the run needs: Wine, MinGW's gcc, the Rust target -------------------------------
wine_bin() {
  for w in /usr/lib/wine/wine64 "$(command -v wine64 2>/dev/null || true)"; do
    if [ -n "$w" ] && [ -x "$w" ]; then
      echo "$w"
      return
    fi
  done
}
need=()
[ -n "$(wine_bin)" ] || need+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq || warn "apt-get update failed; Wine cannot be installed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" ||
    warn "${need[*]} cannot be installed; the Windows tests cannot run"
fi
wine=$(wine_bin)
[ -n "$wine" ] || warn "wine64 is not installed; the Windows tests cannot run"
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 ||
  warn "x86_64-w64-mingw32-gcc cannot be installed; the Windows tests cannot run"
rustup target add "$target" >/dev/null 2>&1 ||
  warn "the Rust target $target cannot be added; the Windows tests cannot run"
# wineboot and wineserver live beside wine64 in Debian's package.
export PATH="$(dirname "$wine"):$PATH"
command -v wineserver >/dev/null 2>&1 || warn "wineserver is not installed beside $wine"

# --- A fresh Wine prefix --------------------------------------------------------------------
# No display is needed for console programs. Mono and Gecko (which would ask to be downloaded
# in a window) are switched off; Wine's own debug channels are silenced.
export WINEPREFIX="$PWD/target/wine-prefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
export WINEARCH=win64
stop_wine() { wineserver -k >/dev/null 2>&1 || true; }
stop_wine
rm -rf "$WINEPREFIX"
mkdir -p "$WINEPREFIX"
prefix_started=$SECONDS
timeout 300 "$wine" wineboot -i >/dev/null 2>&1 || warn "wineboot could not make a Wine prefix in $WINEPREFIX"
timeout 120 wineserver -w || true
system32="$WINEPREFIX/drive_c/windows/system32"
[ -d "$system32" ] || warn "the Wine prefix has no system32 ($system32)"
trap stop_wine EXIT

# Rust's std calls ProcessPrng from bcryptprimitives.dll, which Wine 8 lacks: ours forwards to
# RtlGenRandom (see the C file). Should a Wine have a builtin one, ours is preferred.
x86_64-w64-mingw32-gcc -shared -O2 -Wall -Wextra -Werror -o "$system32/bcryptprimitives.dll" \
  .ci/wine/bcryptprimitives.c -ladvapi32 ||
  warn "bcryptprimitives.dll cannot be built; Rust programs cannot start under Wine"
for dir in /usr/lib/wine /usr/lib/*/wine /usr/lib64/wine; do
  if [ -e "$dir/x86_64-windows/bcryptprimitives.dll" ]; then
    export WINEDLLOVERRIDES="$WINEDLLOVERRIDES;bcryptprimitives=n"
  fi
done
echo "ci: Wine prefix ready in $((SECONDS - prefix_started)) s ($("$wine" --version))"

# --- Build once, then run each file ---------------------------------------------------------
build_started=$SECONDS
tests=()
for f in "${wine_files[@]}"; do tests+=(--test "$f"); done
cargo test --target "$target" --no-run "${tests[@]}"
# Examples the tests start (webapp, fetch) and the one checked from outside (hello).
cargo build --target "$target" --example hello --example webapp --example fetch
build_took=$((SECONDS - build_started))

export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine"
run_started=$SECONDS
results=()
failed=0
for f in "${wine_files[@]}"; do
  skips=()
  read -r -a skips <<<"${skip[$f]:-}"
  for known in "${known_failures[@]}"; do
    if [ "${known%% *}" = "$f" ]; then
      skips+=(--skip "${known#* }")
    fi
  done
  t=$SECONDS
  if timeout 600 cargo test -q --target "$target" --test "$f" -- "${skips[@]}"; then
    results+=("$(printf '%-26s passed  %4d s' "$f" $((SECONDS - t)))")
  else
    results+=("$(printf '%-26s FAILED  %4d s' "$f" $((SECONDS - t)))")
    failed=1
  fi
done
# Each known failure alone (one of them fails only beside its file's other tests).
for known in "${known_failures[@]}"; do
  if timeout 300 cargo test -q --target "$target" --test "${known%% *}" -- --exact "${known#* }" >/dev/null 2>&1; then
    alone="passes alone"
  else
    alone="fails alone too"
  fi
  results+=("$(printf '%-26s known failure (server code, see .ci/windows.sh), %s: %s' "${known%% *}" "$alone" "${known#* }")")
done
tests_took=$((SECONDS - run_started))

# --- The hello example under Wine, checked from outside -------------------------------------
hello_started=$SECONDS
out="$PWD/target/wine-hello.out"
"$wine" "target/$target/debug/examples/hello.exe" --port 0 >"$out" 2>&1 &
hello_pid=$!
port=""
for _ in $(seq 1 600); do
  port=$(sed -n 's/.*listening on http:\/\/localhost:\([0-9]*\).*/\1/p' "$out")
  [ -n "$port" ] && break
  kill -0 "$hello_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  cat "$out" >&2
  kill "$hello_pid" 2>/dev/null || true
  warn "the hello example did not start under Wine"
fi
if timeout 300 python3 .ci/wine/hello_check.py "$port"; then
  results+=("$(printf '%-26s passed  %4d s' "hello under Wine" $((SECONDS - hello_started)))")
else
  results+=("$(printf '%-26s FAILED  %4d s' "hello under Wine" $((SECONDS - hello_started)))")
  failed=1
fi
kill "$hello_pid" 2>/dev/null || true
wait "$hello_pid" 2>/dev/null || true

echo "ci: under Wine ($target):"
printf '  %s\n' "${results[@]}"
echo "ci: the Windows run took $((SECONDS - started)) s (build $build_took s, tests $tests_took s)"
if [ "$failed" -ne 0 ]; then
  echo "ci: WARNING: tests failed under Wine" >&2
  exit 1
fi
