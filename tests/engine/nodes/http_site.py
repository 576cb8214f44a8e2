"""A loopback HTTP server for the http-request node tests (own thread, 127.0.0.1, any
method). Each request is recorded (method, path, headers, body); routes:

- `/echo...`: JSON `{method, path, query, headers, body}` (all headers, lower-cased names)
- `/status/<code>`: that status, text body `status <code>`
- `/png`: a PNG; `/attachment`: text with `Content-Disposition: attachment`
- `/octet-json`: `application/octet-stream` whose body is JSON text
- `/text?n=`, `/binary?n=`: n bytes of text / of binary
- `/slow?s=`: headers only after s seconds
- `/redirect?status=&to=`: a redirect to `to`
- `/gzip`: gzip-compressed JSON; `/bomb`: a small gzip body of 5 MB of zeros
"""

import contextlib
import gzip
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.files import PNG


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Site:
    base: str
    requests: list[Seen] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: Site

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # clients cut slow or large answers short on purpose


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        return

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response_only(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.site.requests.append(Seen(self.command, self.path, headers, body))
        path = parts.path
        number = int(query.get("n", ["0"])[0])
        if path.startswith("/echo"):
            payload = {
                "method": self.command,
                "path": path,
                "query": query,
                "headers": headers,
                "body": body.decode("utf-8", "replace"),
            }
            self._reply(200, json.dumps(payload).encode(), {"Content-Type": "application/json"})
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self._reply(code, f"status {code}".encode(), {"Content-Type": "text/plain"})
        elif path == "/png":
            self._reply(200, PNG, {"Content-Type": "image/png"})
        elif path == "/attachment":
            disposition = 'attachment; filename="report.txt"'
            headers_out = {"Content-Type": "text/plain", "Content-Disposition": disposition}
            self._reply(200, b"a report", headers_out)
        elif path == "/octet-json":
            self._reply(200, b'{"ok": true}', {"Content-Type": "application/octet-stream"})
        elif path == "/text":
            self._reply(200, b"t" * number, {"Content-Type": "text/plain; charset=utf-8"})
        elif path == "/binary":
            self._reply(200, b"\xff\xfe" * (number // 2), {"Content-Type": "application/zip"})
        elif path == "/slow":
            time.sleep(float(query.get("s", ["3"])[0]))
            self._reply(200, b"late", {"Content-Type": "text/plain"})
        elif path == "/redirect":
            status = int(query.get("status", ["302"])[0])
            self._reply(status, b"", {"Location": query["to"][0]})
        elif path == "/gzip":
            data = gzip.compress(json.dumps({"zipped": True}).encode())
            self._reply(200, data, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
        elif path == "/bomb":
            data = gzip.compress(b"\0" * 5_000_000)
            self._reply(200, data, {"Content-Type": "text/plain", "Content-Encoding": "gzip"})
        else:
            self._reply(404, b"not found", {"Content-Type": "text/plain"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


@contextlib.contextmanager
def http_site() -> Iterator[Site]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.site = Site(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
