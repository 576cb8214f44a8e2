"""Fuzz the Service API with schemathesis, by hand (`make fuzz`); not part of `make test`.

    .venv/bin/python -m tests.fuzz.service_api [--postgres] [--max-examples 300] [--seed N]

Serves Kiln as `make run` does (migrate, bootstrap the example apps, offline model) on a
throw-away SQLite database, or with --postgres on a throw-away database of the machine's
PostgreSQL (created and dropped here), then runs `schemathesis run` over every operation of
Dify's chat-app spec (tests/fixtures/spec, a copy of the contract's) once per example app
key, positive and negative cases, with the `not_a_server_error` check: any input must get a
4xx, never a 5xx. Prints schemathesis's summary per key and the tracebacks Kiln logged;
exits 1 on any failure. A random seed per run finds new inputs; --seed repeats a run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "tests" / "fixtures" / "spec" / "chat-app-api.openapi.json"
BIN = Path(sys.executable).parent
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432"


async def _postgres(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def _database(postgres: bool, folder: Path) -> Iterator[str]:
    if not postgres:
        yield f"sqlite+aiosqlite:///{folder / 'kiln.db'}"
        return
    name = f"kiln_fuzz_{os.getpid()}"
    asyncio.run(_postgres(f"CREATE DATABASE {name}"))
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        asyncio.run(_postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _own_settings_removed(environ: Mapping[str, str]) -> dict[str, str]:
    """As `make run` serves: no Redis, no provider keys or endpoints of the caller's."""
    return {
        name: value
        for name, value in environ.items()
        if not name.startswith("KILN_")
        and not name.endswith(("_API_KEY", "_API_BASE", "_BASE_URL"))
    }


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _kiln(env: dict[str, str], log: Path) -> Iterator[tuple[str, list[str]]]:
    """Migrate, bootstrap the example apps (their keys), serve; stop at the end."""
    kiln = str(BIN / "kiln")
    subprocess.run([kiln, "migrate"], env=env, check=True, capture_output=True)
    listing = subprocess.run(
        [kiln, "apps", "bootstrap", str(ROOT / "examples" / "apps")],
        env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    keys = [line.split()[-1] for line in listing.splitlines() if line.strip()]
    port = _free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [kiln, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"kiln serve did not start; see {log}")
                time.sleep(0.1)
            yield url, keys
        finally:
            server.terminate()
            server.wait(30)


def _schemathesis(url: str, key: str, args: argparse.Namespace, folder: Path) -> tuple[int, str]:
    command = [
        str(BIN / "schemathesis"), "run", str(SPEC), "--url", f"{url}/v1",
        "-H", f"Authorization: Bearer {key}", "--checks", "not_a_server_error",
        "--mode", "all", "--max-examples", str(args.max_examples), "--seed", str(args.seed),
        "--request-timeout", "60", "--no-color",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=folder)  # its cache
    return done.returncode, done.stdout + done.stderr


def _summary(output: str) -> str:
    start = output.rfind("SUMMARY")
    return output[output.find("\n", start) + 1 :] if start >= 0 else output[-3000:]


def _errors(log: Path) -> list[str]:
    """Each traceback Kiln logged, as its innermost frame in app/ and its exception."""
    found: list[str] = []
    frame, inside = "", False
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("Traceback"):
            inside = True
        elif inside and line.lstrip().startswith('File "') and "/app/" in line:
            frame = line.strip()
        elif inside and line and not line.startswith((" ", "During", "The above")):
            found.append(f"{frame}\n{line}")
            frame, inside = "", False
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="the machine's PostgreSQL")
    parser.add_argument("--max-examples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=random.randrange(2**63))
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="kiln-fuzz-") as tmp:
        folder = Path(tmp)
        with _database(args.postgres, folder) as database_url:
            env = {
                **_own_settings_removed(os.environ),
                "KILN_DATABASE_URL": database_url,
                "KILN_STORAGE_PATH": str(folder / "storage"),
                "KILN_LOG_LEVEL": "warning",
            }
            log = folder / "kiln.log"
            with _kiln(env, log) as (url, keys):
                print(f"seed {args.seed}, database {database_url.split('://')[0]}")
                for key in keys:
                    code, output = _schemathesis(url, key, args, folder)
                    failed = failed or code != 0
                    print(f"\n## app key {key[:8]}…: exit {code}\n{_summary(output)}")
            for error in _errors(log):
                failed = True
                print(f"\n## Kiln logged a traceback\n{error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
