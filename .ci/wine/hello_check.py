#!/usr/bin/env python3
"""Checks the hello example from outside, over loopback: `hello_check.py PORT`.

.ci/windows.sh runs the example built for Windows under Wine and this script on the Linux side:
requests on a kept-alive connection (HTTP/1.1 and HTTP/1.0 keep-alive), pipelined requests in
one write, a head sent one byte at a time and one split inside its final CRLFCRLF, then 1,000
clients that connect and go away (some after half a request), after which a normal request must
still be answered promptly. Every wait is bounded by a socket timeout. Exit status 0 when every
check passed; otherwise the first failure is printed and the status is 1.
"""

import socket
import sys
import time

HELLO = b"<h1>Hello, world!</h1>"
TIMEOUT = 10.0


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Reader:
    """Reads responses framed by Content-Length from one connection."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise AssertionError("the server closed the connection before answering")
        self.buf += data

    def response(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise AssertionError("a response head over 64 KiB")
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        length = int(fields.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, fields, body


def expect_hello(reply, what):
    status, _, body = reply
    if status != 200 or body != HELLO:
        raise AssertionError(f"{what}: got {status} {body!r}")


def kept_alive(port):
    with connect(port) as s:
        r = Reader(s)
        for i in range(3):
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            expect_hello(r.response(), f"HTTP/1.1 request {i + 1} on one connection")
        # After a pause, as a next click comes: the connection waited and is woken.
        time.sleep(0.1)
        s.sendall(b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n")
        expect_hello(r.response(), "a request after a pause on a kept-alive connection")
    with connect(port) as s:
        r = Reader(s)
        for i in range(3):
            s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            reply = r.response()
            expect_hello(reply, f"HTTP/1.0 keep-alive request {i + 1}")
            if reply[1].get("connection", "").lower() != "keep-alive":
                raise AssertionError(f"HTTP/1.0 keep-alive answered with {reply[1]}")


def pipelined(port):
    with connect(port) as s:
        r = Reader(s)
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" * 10)
        for i in range(10):
            expect_hello(r.response(), f"pipelined request {i + 1} of 10")


def in_pieces(port):
    head = b"GET /index.html HTTP/1.1\r\nHost: t\r\nX-A: b\r\n\r\n"
    with connect(port) as s:
        r = Reader(s)
        for i in range(2):
            for byte in head:
                s.sendall(bytes([byte]))
                time.sleep(0.002)
            expect_hello(r.response(), f"head {i + 1} sent a byte at a time")
        for cut in range(len(head) - 4, len(head)):
            s.sendall(head[:cut])
            time.sleep(0.02)
            s.sendall(head[cut:])
            expect_hello(r.response(), f"head split at byte {cut} of {len(head)}")


def churn(port):
    started = time.monotonic()
    for i in range(1000):
        s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        if i % 3 == 0:
            s.sendall(b"GET / HT")
        elif i % 3 == 1:
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        s.close()
    took = time.monotonic() - started
    asked = time.monotonic()
    with connect(port) as s:
        r = Reader(s)
        for _ in range(2):
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            expect_hello(r.response(), "a normal request after 1,000 connect-and-close clients")
    waited = time.monotonic() - asked
    if waited > 2.0:
        raise AssertionError(f"answered {waited:.2f} s after the churn (the churn took {took:.2f} s)")
    return f"1,000 clients in {took:.2f} s, then answered in {waited * 1000:.0f} ms"


def main():
    port = int(sys.argv[1])
    checks = [
        ("kept-alive HTTP/1.1 and HTTP/1.0", kept_alive),
        ("pipelined in one write", pipelined),
        ("byte at a time and split CRLFCRLF", in_pieces),
        ("1,000 connect-and-close clients", churn),
    ]
    for name, check in checks:
        try:
            note = check(port)
        except (AssertionError, OSError) as e:
            print(f"hello under Wine: {name}: FAILED: {e}", flush=True)
            return 1
        print(f"hello under Wine: {name}: ok" + (f" ({note})" if note else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
