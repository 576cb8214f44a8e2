"""The dify-sandbox client against a small fake dify-sandbox server started here: it runs
the runner with this interpreter (python3) or node (nodejs), or answers canned failures."""

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.sandbox.errors import SandboxError, SandboxOutputTooLargeError, SandboxUnavailableError
from app.sandbox.remote import RemoteSandbox, extract_result
from tests.sandbox.conftest import sandbox_settings

API_KEY = "test-sandbox-key"


class FakeDifySandbox(ThreadingHTTPServer):
    mode = "run"
    requests: list[dict[str, Any]]


class Handler(BaseHTTPRequestHandler):
    server: FakeDifySandbox

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "key": self.headers["X-Api-Key"], **body})
        mode = self.server.mode
        if self.path != "/v1/sandbox/run" or self.headers["X-Api-Key"] != API_KEY:
            return self.answer(401, {"code": -401, "message": "unauthorized"})
        if mode == "503":
            return self.answer(503, {"code": -503, "message": "busy"})
        if mode == "500":
            return self.answer(500, {})
        if mode == "refused":
            return self.answer(200, {"code": -429, "message": "no uid", "data": None})
        if mode == "garbage":
            return self.answer(200, {"code": 0, "message": "success", "data": {"stdout": "hi"}})
        if body["language"] == "python3":
            argv = [sys.executable, "-I", "-c", body["code"]]
        else:
            argv = ["node", "-e", body["code"]]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        error = done.stderr if done.returncode else ""
        self.answer(
            200, {"code": 0, "message": "success", "data": {"stdout": done.stdout, "error": error}}
        )


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeDifySandbox]:
    server = FakeDifySandbox(("127.0.0.1", 0), Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
async def remote(fake_server: FakeDifySandbox) -> AsyncIterator[RemoteSandbox]:
    fake_server.mode = "run"
    fake_server.requests.clear()
    host, port = fake_server.server_address[:2]
    box = RemoteSandbox(
        sandbox_settings(
            code_execution_endpoint=f"http://{host!s}:{port}/",
            code_execution_api_key=API_KEY,
        )
    )
    yield box
    await box.aclose()


async def test_python_runs_remotely(remote: RemoteSandbox, fake_server: FakeDifySandbox) -> None:
    code = (
        "def main(a: str, b: int) -> dict:\n"
        "    print('noise')\n"
        "    return {'r': a * b, 'x': '1e3'}\n"
    )
    assert await remote.run_code("python3", code, {"a": "é", "b": 2}) == {"r": "éé", "x": 1000.0}
    request = fake_server.requests[-1]
    assert request["path"] == "/v1/sandbox/run"
    assert request["key"] == API_KEY
    assert request["language"] == "python3"
    assert request["preload"] == ""
    assert request["enable_network"] is True
    assert request["code"].startswith(code)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_javascript_runs_remotely(
    remote: RemoteSandbox, fake_server: FakeDifySandbox
) -> None:
    code = "function main({a, b}) {\n  console.log('noise');\n  return {r: a.repeat(b)}\n}"
    assert await remote.run_code("javascript", code, {"a": "é", "b": 2}) == {"r": "éé"}
    assert fake_server.requests[-1]["language"] == "nodejs"


async def test_template_renders_remotely(remote: RemoteSandbox) -> None:
    output = await remote.render_template("{{ who }} {{ n + 1 }}", {"who": "<Ada>", "n": 1})
    assert output == "<Ada> 2"
    with pytest.raises(SandboxOutputTooLargeError):
        await remote.render_template("{{ 'a' * 80001 }}", {})


async def test_user_error_is_the_sandboxes_stderr(remote: RemoteSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await remote.run_code("python3", "def main():\n    raise ValueError('boom')\n", {})
    assert "ValueError: boom" in info.value.message


async def test_result_must_be_a_dict(remote: RemoteSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await remote.run_code("python3", "def main():\n    return [1]\n", {})
    assert info.value.message == "main() must return a dict, got list"


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [
        ("503", SandboxUnavailableError, "Code execution service is unavailable"),
        (
            "500",
            SandboxError,
            "Failed to execute code, got status code 500, please check if the sandbox "
            "service is running",
        ),
        ("refused", SandboxError, "Got error code: -429. Got error msg: no uid"),
        ("garbage", SandboxError, "Failed to parse result"),
    ],
)
async def test_failures(
    remote: RemoteSandbox,
    fake_server: FakeDifySandbox,
    mode: str,
    error: type[SandboxError],
    message: str,
) -> None:
    fake_server.mode = mode
    with pytest.raises(error) as info:
        await remote.run_code("python3", "def main():\n    return {}\n", {})
    assert info.value.message == message


async def test_wrong_key_is_a_failure(fake_server: FakeDifySandbox) -> None:
    host, port = fake_server.server_address[:2]
    box = RemoteSandbox(
        sandbox_settings(
            code_execution_endpoint=f"http://{host!s}:{port}", code_execution_api_key="x"
        )
    )
    try:
        with pytest.raises(SandboxError, match="status code 401"):
            await box.run_code("python3", "def main():\n    return {}\n", {})
    finally:
        await box.aclose()


async def test_unreachable_server_is_unavailable() -> None:
    box = RemoteSandbox(sandbox_settings(code_execution_endpoint="http://127.0.0.1:9"))
    try:
        with pytest.raises(SandboxUnavailableError, match="likely a network issue"):
            await box.run_code("python3", "def main():\n    return {}\n", {})
    finally:
        await box.aclose()


def test_extract_result_takes_the_outermost_markers() -> None:
    assert extract_result('x<<RESULT>>{"a": "<<RESULT>>"}<<RESULT>>y') == {"a": "<<RESULT>>"}
    with pytest.raises(SandboxError, match="Failed to parse result"):
        extract_result("no markers")
