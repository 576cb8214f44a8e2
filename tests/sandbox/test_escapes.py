"""What confined user code cannot do: read secrets, write files, reach the network, start
processes, signal others, raise its limits, or see the server's environment."""

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import PROJECT_ROOT
from app.sandbox.pool import LocalSandbox
from tests.sandbox.conftest import sandbox_settings

PROBE = """
def main(action, arg):
    import ctypes, os, signal, socket, subprocess
    try:
        if action == "read":
            with open(arg, "rb") as f:
                return {"outcome": "allowed", "data": f.read(64).decode("latin-1")}
        if action == "listdir":
            return {"outcome": "allowed", "data": os.listdir(arg)}
        if action == "write":
            with open(arg, "w") as f:
                f.write("x")
            return {"outcome": "allowed"}
        if action == "tcp":
            s = socket.create_connection(("127.0.0.1", int(arg)), timeout=1)
            return {"outcome": "allowed"}
        if action == "udp":
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 9))
            return {"outcome": "allowed"}
        if action == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(arg)
            return {"outcome": "allowed"}
        if action == "system":
            return {"outcome": "allowed" if os.system("true") == 0 else "refused"}
        if action == "subprocess":
            subprocess.run(["/bin/true"], check=True)
            return {"outcome": "allowed"}
        if action == "fork":
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            return {"outcome": "allowed"}
        if action == "exec":
            os.execv("/bin/true", ["true"])
        if action == "ctypes_fork":
            libc = ctypes.CDLL(None, use_errno=True)
            return {"outcome": "allowed" if libc.syscall(57) >= 0 else "refused"}
        if action == "ctypes_unshare":
            libc = ctypes.CDLL(None, use_errno=True)
            return {"outcome": "allowed" if libc.unshare(0x40000000) == 0 else "refused"}
        if action == "kill":
            os.kill(int(arg), 0)
            return {"outcome": "allowed"}
        if action == "rlimit":
            import resource
            resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            return {"outcome": "allowed"}
        if action == "environ":
            return {"outcome": "allowed", "data": dict(os.environ)}
    except (OSError, ValueError) as exc:
        return {"outcome": "refused", "data": f"{type(exc).__name__}: {exc}"}
    return {"outcome": "unknown"}
"""


async def probe(sandbox: LocalSandbox, action: str, arg: str = "") -> dict[str, object]:
    return await sandbox.run_code("python3", PROBE, {"action": action, "arg": arg})


@pytest.fixture
def secret_file() -> Iterator[Path]:
    data = PROJECT_ROOT / "data"
    data.mkdir(exist_ok=True)
    path = data / f"sandbox-secret-{uuid.uuid4().hex}.txt"
    path.write_text("top secret")
    yield path
    path.unlink()


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "/etc/shadow",
        "/proc/1/environ",
        "/proc/1/cmdline",
        str(PROJECT_ROOT / "pyproject.toml"),
        "/root/.bash_history",
    ],
)
async def test_reading_outside_the_interpreter_is_refused(sandbox: LocalSandbox, path: str) -> None:
    assert (await probe(sandbox, "read", path))["outcome"] == "refused"


async def test_reading_the_checkouts_data_is_refused(
    sandbox: LocalSandbox, secret_file: Path
) -> None:
    result = await probe(sandbox, "read", str(secret_file))
    assert result["outcome"] == "refused"
    assert (await probe(sandbox, "listdir", str(secret_file.parent)))["outcome"] == "refused"


async def test_reading_the_servers_environment_is_refused(sandbox: LocalSandbox) -> None:
    for path in (f"/proc/{os.getpid()}/environ", f"/proc/{os.getpid()}/cmdline"):
        assert (await probe(sandbox, "read", path))["outcome"] == "refused"


async def test_the_standard_library_is_readable(sandbox: LocalSandbox) -> None:
    result = await probe(sandbox, "read", os.__file__)
    assert result["outcome"] == "allowed"


async def test_server_secrets_are_not_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    monkeypatch.setenv("KILN_SECRET_KEY", "kiln-test-secret")
    box = LocalSandbox(sandbox_settings())
    try:
        result = await probe(box, "environ")
        assert result["outcome"] == "allowed"
        environment = result["data"]
        assert isinstance(environment, dict)
        assert "OPENAI_API_KEY" not in environment
        assert "KILN_SECRET_KEY" not in environment
        assert "sk-test-secret" not in str(environment)
        # nor in the worker's environment (the child's parent)
        worker_environ = "/proc/{}/environ"
        code = (
            "import os\ndef main():\n"
            f"    return {{'e': open('{worker_environ}'.format(os.getppid()), 'rb').read()}}\n"
        )
        with pytest.raises(Exception, match="PermissionError"):
            await box.run_code("python3", code, {})
    finally:
        await box.aclose()


@pytest.mark.parametrize(
    "path",
    ["/tmp/kiln-sandbox-escape", str(PROJECT_ROOT / "data" / "kiln-sandbox-escape"), "/dev/shm/x"],
)
async def test_writing_files_is_refused(sandbox: LocalSandbox, path: str) -> None:
    assert (await probe(sandbox, "write", path))["outcome"] == "refused"
    assert not os.path.exists(path)


async def test_tcp_to_loopback_is_refused(sandbox: LocalSandbox) -> None:
    connected = asyncio.Event()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await probe(sandbox, "tcp", str(port))
        assert result["outcome"] == "refused"
        assert "Operation not permitted" in str(result["data"])
        assert not connected.is_set()
    finally:
        server.close()
        await server.wait_closed()


async def test_udp_is_refused(sandbox: LocalSandbox) -> None:
    assert (await probe(sandbox, "udp"))["outcome"] == "refused"


async def test_unix_socket_is_refused(sandbox: LocalSandbox, tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    try:
        assert (await probe(sandbox, "unix", path))["outcome"] == "refused"
    finally:
        listener.close()


@pytest.mark.parametrize(
    "action", ["system", "subprocess", "fork", "exec", "ctypes_fork", "ctypes_unshare"]
)
async def test_new_processes_and_exec_are_refused(sandbox: LocalSandbox, action: str) -> None:
    assert (await probe(sandbox, action))["outcome"] == "refused"


async def test_signalling_other_processes_is_refused(sandbox: LocalSandbox) -> None:
    assert (await probe(sandbox, "kill", str(os.getpid())))["outcome"] == "refused"
    assert (await probe(sandbox, "kill", "1"))["outcome"] == "refused"


async def test_limits_cannot_be_raised(sandbox: LocalSandbox) -> None:
    assert (await probe(sandbox, "rlimit"))["outcome"] == "refused"


async def test_threads_still_work(sandbox: LocalSandbox) -> None:
    code = """
import threading
def main():
    out = []
    threads = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    return {"n": sorted(out)}
"""
    assert await sandbox.run_code("python3", code, {}) == {"n": [0, 1, 2, 3]}


SCAN = """
import re
def main(head, tail):
    # Never builds head + tail itself: finds head, then compares what follows with tail.
    head, tail = head.encode(), tail.encode()
    found = 0
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
        for line in maps:
            addresses, perms = line.split()[:2]
            if not perms.startswith("r") or "[vvar" in line or "[vsyscall" in line:
                continue
            start, end = (int(x, 16) for x in addresses.split("-"))
            if end - start > 256 * 1024 * 1024:
                continue
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            position = chunk.find(head)
            while position >= 0:
                after = position + len(head)
                if chunk[after : after + len(tail)] == tail:
                    found += 1
                position = chunk.find(head, position + 1)
    return {"found": found}
"""


async def test_no_trace_of_earlier_calls_in_memory() -> None:
    box = LocalSandbox(sandbox_settings(code_sandbox_workers=1))
    try:
        secret = f"kiln-secret-{uuid.uuid4().hex}"
        code = "def main(s):\n    return {'n': len(s), 'echo': s}\n"
        for _ in range(2):
            assert (await box.run_code("python3", code, {"s": secret}))["n"] == len(secret)
        found = await box.run_code("python3", SCAN, {"head": secret[:20], "tail": secret[20:]})
        assert found == {"found": 0}
        template_secret = f"kiln-template-{uuid.uuid4().hex}"
        await box.render_template("{{ s }}", {"s": template_secret})
        halves = {"head": template_secret[:20], "tail": template_secret[20:]}
        found = await box.run_code("python3", SCAN, halves)
        assert found == {"found": 0}
    finally:
        await box.aclose()
