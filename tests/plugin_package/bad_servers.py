"""A loopback HTTP server that answers badly on purpose (imported by the valet_os tests).

Each connection's request is read whole (headers, Content-Length body), then the reply is
whatever the test's `reply(sock)` writes: a canned JSON answer, a body a byte at a time,
headers a byte at a time, a gzip bomb. Optionally behind TLS (ssl_context).
"""

import json
import socket
import threading
import time
import zlib


class BadServer:
    def __init__(self, reply, ssl_context=None):
        self.reply = reply
        self.ssl_context = ssl_context
        self.requests = []  # (request line, body bytes)
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self):
        return "%s://127.0.0.1:%d/v1" % ("https" if self.ssl_context else "http", self.port)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._sock.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        try:
            if self.ssl_context is not None:
                conn = self.ssl_context.wrap_socket(conn, server_side=True)
            while True:  # keep-alive: one request after the other
                head = b""
                while b"\r\n\r\n" not in head:
                    data = conn.recv(65536)
                    if not data:
                        return
                    head += data
                head, body = head.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append((lines[0], body))
                self.reply(conn)
        except (OSError, ValueError):
            pass
        finally:
            conn.close()


def response(body, status="200 OK", headers=()):
    head = ["HTTP/1.1 %s" % status, "Content-Length: %d" % len(body), "Content-Type: application/json"]
    return ("\r\n".join(head + list(headers)) + "\r\n\r\n").encode() + body


def canned(payload, status="201 Created"):
    """Always the same reply: payload is JSON-dumped unless it is bytes already."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()

    def reply(sock):
        sock.sendall(response(body, status))

    return reply


def trickle(data, every, limit):
    """Send data a byte every `every` seconds, for at most `limit` seconds, then drop."""

    def reply(sock):
        end = time.monotonic() + limit
        for i in range(len(data)):
            if time.monotonic() > end:
                break
            sock.sendall(data[i : i + 1])
            time.sleep(every)
        sock.close()

    return reply


def slow_body(every=0.1, limit=20):
    body = json.dumps({"placement": {"location": "h1"}}).encode() + b" " * 10000
    whole = response(body)
    cut = whole.index(b"\r\n\r\n") + 4

    def reply(sock):
        sock.sendall(whole[:cut])
        trickle(whole[cut:], every, limit)(sock)

    return reply


def slow_headers(every=0.1, limit=20):
    many = ["X-Pad-%d: %s" % (i, "x" * 50) for i in range(90)]
    return trickle(response(b"{}", headers=many), every, limit)


def gzip_bomb(megabytes=200):
    """A gzip body of about 200 KB that unpacks to `megabytes` MiB of spaces (made 1 MiB at a time)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1024 * 1024)
    body = b"".join(packer.compress(block) for _ in range(megabytes)) + packer.flush()

    def reply(sock):
        sock.sendall(response(body, headers=["Content-Encoding: gzip"]))

    return reply
