"""A real WebSocket server for the client's tests: Python's `websockets` package.

Usage: websocket_server.py MODE [CERT KEY]
MODE is `plain` (no compression), `deflate` (the package's default permessage-deflate:
server_max_window_bits=12, context takeover) or `deflate-nocontext` (no context takeover
either way). With CERT and KEY (PEM files) it serves wss://. Prints the port it listens on
(127.0.0.1), then serves until killed.

Paths:
  /echo        echoes every message
  /extensions  first sends the extensions agreed (JSON), then echoes
  /fragments   sends a text message in three fragments and a binary one in two, then echoes
  /ping        pings the client, sends "pong received" once the pong came, then echoes
  /close/CODE  closes with CODE and the reason "bye"
  /protocol    sends the subprotocol chosen ("chat" when offered, else none), then echoes
"""

import json
import ssl
import sys

from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.sync.server import serve

TIMEOUT = 10


def echo(ws):
    for message in ws:
        ws.send(message)


def handler(ws):
    try:
        serve_path(ws, ws.request.path)
    except ConnectionClosed:
        # The tests close with every code, and fail connections on purpose.
        pass


def serve_path(ws, path):
    if path == "/echo":
        echo(ws)
    elif path == "/extensions":
        agreed = [
            {
                "name": e.name,
                "remote_no_context_takeover": e.remote_no_context_takeover,
                "local_no_context_takeover": e.local_no_context_takeover,
            }
            for e in ws.protocol.extensions
        ]
        ws.send(json.dumps(agreed))
        echo(ws)
    elif path == "/fragments":
        ws.send(["frag", "mented ", "text ✓"])
        ws.send([b"\x00\x01", b"\x02\x03"])
        echo(ws)
    elif path == "/ping":
        pong = ws.ping(b"are you there")
        ws.send("pong received" if pong.wait(TIMEOUT) else "no pong")
        echo(ws)
    elif path.startswith("/close/"):
        ws.close(int(path.rsplit("/", 1)[1]), "bye")
    elif path == "/protocol":
        ws.send(ws.subprotocol or "")
        echo(ws)


def select_subprotocol(connection, offered):
    return "chat" if "chat" in offered else None


def main(mode, cert=None, key=None):
    options = {"max_size": None, "ping_interval": None, "select_subprotocol": select_subprotocol}
    if mode == "plain":
        options["compression"] = None
    elif mode == "deflate-nocontext":
        options["compression"] = None
        options["extensions"] = [
            ServerPerMessageDeflateFactory(server_no_context_takeover=True, client_no_context_takeover=True)
        ]
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        options["ssl"] = context
    with serve(handler, "127.0.0.1", 0, **options) as server:
        print(server.socket.getsockname()[1], flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:])
