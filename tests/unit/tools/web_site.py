"""A loopback web server for the builtin web tools (own thread, 127.0.0.1): pages to read,
DuckDuckGo's HTML endpoint, Tavily's API and a Jina Reader stand-in. Every request is
recorded (method, path, headers, body).

- GET `/article` (an HTML article with a nav and a footer), `/plain`, `/data.json`,
  `/report.pdf`, `/missing` (404), `/latin1` (ISO-8859-1 without a declared charset)
- POST `/html/`: DuckDuckGo's result page (two results, one ad) for form field `q`
- POST `/search`, `/extract`: Tavily-shaped answers; 401 without `Bearer tvly-test`
- GET `/r/<url>`: a Jina Reader stand-in answering JSON; 401 without `Bearer jina-test`
"""

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

ARTICLE = """<!doctype html><html><head><title>Kiln field notes</title>
<meta name="author" content="Ada Lovelace"></head><body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<div class="sidebar ad">Buy things! Advertising block.</div>
<article><h1>Kiln field notes</h1>
<p>Kilns fire clay at high temperatures, and a steady ramp keeps the ware from cracking,
which every potter learns the hard way.</p>
<p>Cone packs, placed where the shelves are visible, tell the real temperature better than
any thermocouple can, at least for the glaze.</p>
</article>
<footer>Copyright 2024 Kiln Society</footer>
<script>var tracking = true;</script>
</body></html>"""

DDG_PAGE = """<html><body><div id="links" class="results">
<div class="result results_links results_links_deep result--ad">
  <a class="result__a" href="https://ads.example.test/">Sponsored kilns</a>
  <a class="result__snippet">Buy now</a></div>
<div class="result results_links results_links_deep web-result">
  <h2 class="result__title"><a rel="nofollow" class="result__a"
   href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fkiln.example.test%2Fguide&amp;rut=abc">Kiln
   <b>guide</b></a></h2>
  <a class="result__snippet" href="#">How to fire a <b>kiln</b> safely.</a></div>
<div class="result results_links results_links_deep web-result">
  <h2 class="result__title"><a class="result__a" href="https://pots.example.test/">Pots</a></h2>
  <a class="result__snippet">All about pots.</a></div>
</div></body></html>"""


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class WebSite:
    base: str
    requests: list[Seen] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: WebSite


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        return

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _record(self) -> Seen:
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(
            self.command,
            self.path,
            {k.lower(): v for k, v in self.headers.items()},
            self.rfile.read(length) if length else b"",
        )
        self.server.site.requests.append(seen)
        return seen

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        seen = self._record()
        path = self.path
        if path == "/article":
            self._send(200, ARTICLE.encode(), "text/html; charset=utf-8")
        elif path == "/plain":
            self._send(200, "just text, ünïcode".encode(), "text/plain; charset=utf-8")
        elif path == "/data.json":
            self._send(200, b'{"a": 1}', "application/json")
        elif path == "/report.pdf":
            self._send(200, b"%PDF-1.4", "application/pdf")
        elif path == "/latin1":
            html = (
                "<html><body><article><p>Caf\xe9 cr\xe8me br\xfbl\xe9e, et voil\xe0,"
                " un texte assez long pour compter.</p></article></body></html>"
            )
            self._send(200, html.encode("latin-1"), "text/html")
        elif path.startswith("/r/"):
            if seen.headers.get("authorization") != "Bearer jina-test":
                self._json(401, {"code": 401, "message": "bad key"})
                return
            target = path[3:]
            data = {"title": "Reader", "url": target, "content": f"# Read {target}"}
            self._json(200, {"code": 200, "status": 20000, "data": data})
        else:
            self._send(404, b"not here", "text/plain")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        seen = self._record()
        if self.path == "/html/":
            self._send(200, DDG_PAGE.encode(), "text/html; charset=utf-8")
            return
        if self.path in ("/search", "/extract"):
            if seen.headers.get("authorization") != "Bearer tvly-test":
                self._json(401, {"detail": {"error": "Unauthorized: missing or invalid API key."}})
                return
            body = seen.json()
            if self.path == "/search":
                if body.get("query") == "nothing":
                    self._json(200, {"query": "nothing", "results": []})
                    return
                self._json(
                    200,
                    {
                        "query": body["query"],
                        "answer": "Kilns are hot.",
                        "images": ["https://img.example.test/k.jpg"],
                        "results": [
                            {
                                "title": "Kiln",
                                "url": "https://kiln.example.test/",
                                "content": "A kiln is an oven.",
                                "score": 0.9,
                            }
                        ],
                    },
                )
            else:
                self._json(
                    200,
                    {
                        "results": [
                            {"url": u, "raw_content": f"content of {u}"} for u in body["urls"]
                        ],
                        "failed_results": [],
                    },
                )
            return
        self._send(404, b"not here", "text/plain")


@contextlib.contextmanager
def web_site() -> Iterator[WebSite]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.site = WebSite(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.site
    finally:
        server.shutdown()
        server.server_close()
