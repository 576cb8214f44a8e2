"""A loopback S3-compatible server for tests: path-style PUT/GET/HEAD/DELETE of objects,
checking each request's SigV4 signature and payload hash."""

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from app.storage.sigv4 import EMPTY_SHA256, authorization


class FakeS3:
    def __init__(self, access_key: str, secret_key: str, region: str = "us-east-1") -> None:
        self.access_key, self.secret_key, self.region = access_key, secret_key, region
        self.objects: dict[str, bytes] = {}
        self.methods: list[str] = []
        self.rejected = 0


@contextlib.contextmanager
def fake_s3(access_key: str, secret_key: str) -> Iterator[tuple[str, FakeS3]]:
    state = FakeS3(access_key, secret_key)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _check(self, body: bytes) -> bool:
            declared = self.headers.get("x-amz-content-sha256", "")
            if declared != hashlib.sha256(body).hexdigest() and not (
                declared == EMPTY_SHA256 and not body
            ):
                return False
            signed = self.headers.get("Authorization", "").split("SignedHeaders=")[1]
            names = signed.split(",")[0].split(";")
            headers = {n: self.headers.get(n, "") for n in names}
            url = httpx.URL(f"http://{self.headers['Host']}{self.path}")
            expected = authorization(
                self.command, url, headers, declared, state.access_key, state.secret_key,
                state.region,
            )  # fmt: skip
            return expected == self.headers.get("Authorization")

        def _answer(self, status: int, body: bytes = b"", length: int | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)

        def _handle(self) -> None:
            state.methods.append(self.command)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if not self._check(body):
                state.rejected += 1
                self._answer(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
                return
            key = self.path.split("?", 1)[0]
            if self.command == "PUT":
                state.objects[key] = body
                self._answer(200)
            elif key not in state.objects:
                self._answer(404, b"<Error><Code>NoSuchKey</Code></Error>")
            elif self.command == "DELETE":
                del state.objects[key]
                self._answer(204)
            elif self.command == "HEAD":
                self._answer(200, length=len(state.objects[key]))
            else:
                self._answer(200, state.objects[key])

        do_PUT = do_GET = do_HEAD = do_DELETE = _handle  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
