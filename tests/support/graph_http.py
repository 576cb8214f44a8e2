"""A tiny deterministic HTTP server for the graph fixtures' http-request nodes.

Standard library only, so the graphon oracle (tools/oracle) and Kiln's own tests can both run
it. Every answer is a pure function of the request, and the only response headers are
`Content-Type` and `Content-Length` (no `Date` or `Server`), so goldens stay stable; only the
port changes, and goldens write it as `{port}`.

Routes:
- `GET|POST|PUT|PATCH|DELETE /echo...`: JSON `{"method", "path", "query", "headers", "body"}`
  where `query` maps each parameter to its list of values, `headers` keeps only the request
  headers whose names start with `x-` (lower-cased) plus `authorization` and `content-type`,
  and `body` is the request body as text ("" when none).
- `GET /status/<code>`: answers with that status and the text body `status <code>`.
- `GET /text`: `text/plain` body `plain words from the server`.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        return

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response_only(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        parts = urlsplit(self.path)
        if parts.path.startswith("/status/"):
            code = int(parts.path.rsplit("/", 1)[1])
            self._reply(code, f"status {code}".encode(), "text/plain; charset=utf-8")
            return
        if parts.path == "/text":
            self._reply(200, b"plain words from the server", "text/plain; charset=utf-8")
            return
        if parts.path.startswith("/echo"):
            headers = {
                name.lower(): value
                for name, value in self.headers.items()
                if name.lower().startswith("x-")
                or name.lower() in ("authorization", "content-type")
            }
            payload = {
                "method": self.command,
                "path": parts.path,
                "query": parse_qs(parts.query),
                "headers": dict(sorted(headers.items())),
                "body": body,
            }
            data = json.dumps(payload, sort_keys=True).encode()
            self._reply(200, data, "application/json")
            return
        self._reply(404, b"not found", "text/plain; charset=utf-8")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class GraphHttpServer:
    """Start with `start()` (binds 127.0.0.1 on a free port), stop with `stop()`."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "GraphHttpServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
