"""A real WebSocket client for the websocket example: Python's `websockets` package.

Usage: websocket_peer.py BASE_URL   (for instance ws://127.0.0.1:8080)
Checks the echo at /echo (text and binary) and the chat at /chat (what one member says
reaches both), then prints "ok". Any failure raises, which exits non-zero.
"""

import sys

from websockets.sync.client import connect

TIMEOUT = 10


def main(base):
    with connect(base + "/echo", open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        for text in ["hello", "ünïcødé ✓", "x" * 70000]:
            ws.send(text)
            got = ws.recv(timeout=TIMEOUT)
            assert got == text, (len(got), len(text))
        ws.send(b"\x00\x01binary")
        assert ws.recv(timeout=TIMEOUT) == b"\x00\x01binary"
    with connect(base + "/chat", open_timeout=TIMEOUT) as a, connect(base + "/chat", open_timeout=TIMEOUT) as b:
        # Both members are in the room once each has heard something said after it joined.
        a.send("hi from a")
        assert a.recv(timeout=TIMEOUT) == "hi from a"
        b.send("hi from b")
        seen = b.recv(timeout=TIMEOUT)
        while seen != "hi from b":
            seen = b.recv(timeout=TIMEOUT)
        assert a.recv(timeout=TIMEOUT) == "hi from b"
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1])
