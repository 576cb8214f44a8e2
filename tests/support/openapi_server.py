"""A local API described by an OpenAPI document, for the OpenAPI tool tests (standard
library only, one thread on 127.0.0.1).

`GET /openapi.yaml` and `GET /openapi.json` serve `DOCUMENT` (its server is the relative
`/api`, so a document fetched by URL resolves it against its own address). Every answer
under `/api` checks what it was sent server-side and echoes it as JSON:

- `GET /api/pets/{petId}`: path, query (`verbose`, `tag` repeated), header `X-Trace`,
  cookie `session`;
- `POST /api/pets`: a JSON body (`Pet`, by `$ref`, with `allOf`);
- `POST /api/forms`: an urlencoded body; `POST /api/upload`: multipart with a file;
- `GET /api/secure/{bearer,key-header,key-query,basic}`: 401 unless the right credential;
- `GET /api/big` (more than a mebibyte), `/api/fail` (500), `/api/report` (an attachment),
  `/api/list` (a JSON list), `/api/empty` (no body), `/api/text`, `/api/slow` (2 s),
  `/api/redirect` (302 to `/api/text`), `/` (the root operation, no operationId).
"""

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

BEARER = "t0k-bearer"
API_KEY = "k3y-value"
BASIC = ("ada", "s3cret")
BIG = 1024 * 1024 + 10

_ok = {"200": {"description": "ok"}}


def _get(operation_id: str, **extra: Any) -> dict[str, Any]:
    return {"get": {"operationId": operation_id, "responses": _ok, **extra}}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Local pets", "version": "1.0.0", "description": "pets for tests"},
    "servers": [{"url": "/api"}],
    "paths": {
        "/": {"get": {"summary": "The root", "responses": _ok}},
        "/pets/{petId}": {
            "parameters": [{"$ref": "#/components/parameters/PetId"}],
            "get": {
                "operationId": "getPet",
                "description": "Read one pet",
                "parameters": [
                    {"name": "verbose", "in": "query", "schema": {"type": "boolean"}},
                    {
                        "name": "tag",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "string"}},
                    },
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 5}},
                    {
                        "name": "X-Trace",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                ],
                "responses": _ok,
            },
        },
        "/pets": {
            "post": {
                "operationId": "addPet",
                "summary": "Add a pet",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}
                    },
                },
                "responses": {"201": {"description": "created"}},
            }
        },
        "/forms": {
            "post": {
                "operationId": "sendForm",
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["q"],
                                "properties": {
                                    "q": {"type": "string"},
                                    "n": {"type": "integer"},
                                    "lang": {"type": "string", "default": "en"},
                                },
                            }
                        }
                    }
                },
                "responses": _ok,
            }
        },
        "/upload": {
            "post": {
                "operationId": "upload",
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "note": {"type": "string"},
                                },
                            }
                        }
                    }
                },
                "responses": _ok,
            }
        },
        "/secure/bearer": _get("bearerOnly"),
        "/secure/key-header": _get("keyHeader"),
        "/secure/key-query": _get("keyQuery"),
        "/secure/basic": _get("basicOnly"),
        "/big": _get("big"),
        "/fail": _get("fail"),
        "/report": _get("report"),
        "/list": _get("listPets"),
        "/empty": _get("empty"),
        "/text": _get("text"),
        "/slow": _get("slow"),
        "/redirect": _get("redirect"),
    },
    "components": {
        "parameters": {
            "PetId": {
                "name": "petId",
                "in": "path",
                "required": True,
                "description": "The pet's id",
                "schema": {"type": "integer"},
            }
        },
        "schemas": {
            "Named": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string", "description": "The pet's name"}},
            },
            "NewPet": {
                "allOf": [
                    {"$ref": "#/components/schemas/Named"},
                    {
                        "type": "object",
                        "properties": {
                            "age": {"type": "integer"},
                            "weight": {"type": "number"},
                            "vaccinated": {"type": "boolean"},
                            "tags": {"type": "array", "items": {"type": "string"}, "default": []},
                            "owner": {"$ref": "#/components/schemas/Owner"},
                            "kind": {"type": "string", "default": "dog", "enum": ["dog", "cat"]},
                        },
                    },
                ]
            },
            "Owner": {"type": "object", "properties": {"email": {"type": "string"}}},
        },
    },
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        return

    def _send(
        self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        auth = self.headers.get("Authorization", "")
        if path == "/openapi.yaml":
            self._send(200, yaml.safe_dump(DOCUMENT, sort_keys=False).encode(), "application/yaml")
        elif path == "/openapi.json":
            self._json(200, DOCUMENT)
        elif path == "/api/":
            self._json(200, {"root": True})
        elif path.startswith("/api/pets/"):
            self._json(
                200,
                {
                    "petId": path.rsplit("/", 1)[1],
                    "query": query,
                    "trace": self.headers.get("X-Trace"),
                    "cookie": self.headers.get("Cookie"),
                },
            )
        elif path == "/api/secure/bearer":
            self._guarded(auth == f"Bearer {BEARER}")
        elif path == "/api/secure/key-header":
            self._guarded(self.headers.get("X-API-Key") == f"Token {API_KEY}")
        elif path == "/api/secure/key-query":
            self._guarded(query.get("api_key") == [API_KEY])
        elif path == "/api/secure/basic":
            pair = base64.b64encode(f"{BASIC[0]}:{BASIC[1]}".encode()).decode()
            self._guarded(auth == f"Basic {pair}")
        elif path == "/api/big":
            self._send(200, b"x" * BIG, "text/plain")
        elif path == "/api/fail":
            self._send(500, b"the server broke", "text/plain")
        elif path == "/api/report":
            extra = {"Content-Disposition": 'attachment; filename="report.csv"'}
            self._send(200, b"a,b\n1,2\n", "text/csv", extra)
        elif path == "/api/list":
            self._json(200, [{"id": 1}, {"id": 2}])
        elif path == "/api/empty":
            self._send(200, b"", "application/json")
        elif path == "/api/text":
            self._send(200, "plain words, ünïcode".encode(), "text/plain; charset=utf-8")
        elif path == "/api/slow":
            time.sleep(2)
            self._send(200, b"late", "text/plain")
        elif path == "/api/redirect":
            self._send(302, b"", "text/plain", {"Location": "/api/text"})
        else:
            self._send(404, b"no such route", "text/plain")

    def _guarded(self, ok: bool) -> None:
        if ok:
            self._json(200, {"authorized": True})
        else:
            self._send(401, b"unauthorized", "text/plain")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self._body()
        content_type = self.headers.get("Content-Type", "")
        if path == "/api/pets":
            if content_type != "application/json":
                self._send(415, b"json only", "text/plain")
                return
            self._json(201, {"created": json.loads(body)})
        elif path == "/api/forms":
            self._json(200, {"type": content_type, "form": parse_qs(body.decode())})
        elif path == "/api/upload":
            self._json(200, {"type": content_type.split(";")[0], "raw": body.decode("latin-1")})
        else:
            self._send(404, b"no such route", "text/plain")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that hung up early (the size cap) is no test failure


@contextmanager
def openapi_server() -> Iterator[str]:
    """Run the local API; yields its base URL (`http://127.0.0.1:<port>`)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
