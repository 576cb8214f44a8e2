"""How a benchmark process starts: as many sockets as the system allows, uvloop where it
is installed, and the exact command that produced its figures for RESULTS.md."""

import argparse
import asyncio
import resource
import shlex
import sys
from collections.abc import Callable, Coroutine
from typing import Any


def run_benchmark(
    module: str,
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace, str], Coroutine[Any, Any, int | None]],
) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # many sockets at once
    command = shlex.join([".venv/bin/python", "-m", module, *sys.argv[1:]])
    try:
        import uvloop
    except ImportError:
        sys.exit(asyncio.run(run(args, command)))
    sys.exit(uvloop.run(run(args, command)))
