"""Workflow engine benchmark: the scheduler's own cost, in-process (no server, no database).

    .venv/bin/python -m bench.engine_bench [--chain 100] [--runs 300] [--fanout 50]
        [--wait 1.0] [--rounds 100] [--no-write]

(a) CPU per node: a chain of `--chain` cheap nodes (start, trivial nodes that return a
    constant, end) compiled once and run `--runs` times after a warm-up; process CPU time
    divided by the nodes run. Everything a node run costs the engine is in it (task,
    scheduling, edge bookkeeping, node_started/node_finished events built and handed to a
    list, the answer/end coordinator); nothing is stored anywhere.
(b) Fan-out wall time: start → `--fanout` branches that each wait `--wait` seconds
    (asyncio.sleep) → one end joining them. Should take about `--wait`.
(c) CPU per iteration round: an iteration over `--rounds` items with one trivial node
    inside, sequential and parallel (parallel_nums 10).
(d) Persistence per node: the chain of (a) again, each node execution stored as a served
    run stores it (app/services/workflows/records.py: batched rows in a throw-away SQLite
    database, every row written before the run counts as done); the CPU above (a) is what
    storing costs a node.

Runs on uvloop when it is installed (as `kiln serve` does). Writes its figures into
bench/RESULTS.md between the engine-bench markers (the other benchmarks keep that block).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
START_MARK, END_MARK = "<!-- engine-bench:start -->", "<!-- engine-bench:end -->"


def _register() -> None:
    """Two bench-only node types: `bench-noop` (a constant) and `bench-wait` (a sleep)."""
    from app.engine.nodes.base import Node, NodeContext, NodeResult
    from app.engine.nodes.registry import NODE_TYPES

    class NoopNode(Node):
        node_type = "bench-noop"

        async def run(self, ctx: NodeContext) -> NodeResult:
            return NodeResult(outputs={"value": 1})

    class WaitNode(Node):
        node_type = "bench-wait"

        async def run(self, ctx: NodeContext) -> NodeResult:
            await asyncio.sleep(float(self.data["seconds"]))
            return NodeResult(outputs={"value": 1})

    NODE_TYPES[NoopNode.node_type] = NoopNode
    NODE_TYPES[WaitNode.node_type] = WaitNode


def _node(node_id: str, node_type: str, parent: str | None = None, **data: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": node_id, "data": {"type": node_type, "title": node_id, **data}}
    if parent:
        raw["parentId"] = parent
    return raw


def _edge(source: str, target: str) -> dict[str, Any]:
    return {"id": f"{source}-{target}", "source": source, "target": target}


def _end(selector: list[str]) -> dict[str, Any]:
    return _node("end", "end", outputs=[{"variable": "out", "value_selector": selector}])


def chain_graph(length: int) -> dict[str, Any]:
    middle = [f"n{i}" for i in range(length - 2)]
    ids = ["start", *middle, "end"]
    nodes = [_node("start", "start"), *(_node(i, "bench-noop") for i in middle)]
    nodes.append(_end([middle[-1], "value"]))
    return {"nodes": nodes, "edges": [_edge(a, b) for a, b in zip(ids, ids[1:], strict=False)]}


def fanout_graph(width: int, seconds: float) -> dict[str, Any]:
    branches = [f"b{i}" for i in range(width)]
    nodes = [_node("start", "start"), *(_node(b, "bench-wait", seconds=seconds) for b in branches)]
    nodes.append(_end([branches[0], "value"]))
    edges = [_edge("start", b) for b in branches] + [_edge(b, "end") for b in branches]
    return {"nodes": nodes, "edges": edges}


def iteration_graph(parallel: bool) -> dict[str, Any]:
    nodes = [
        _node("start", "start"),
        _node(
            "each",
            "iteration",
            iterator_selector=["start", "items"],
            output_selector=["inner", "value"],
            start_node_id="eachstart",
            is_parallel=parallel,
            parallel_nums=10,
        ),
        _node("eachstart", "iteration-start", "each"),
        _node("inner", "bench-noop", "each"),
        _end(["each", "output"]),
    ]
    edges = [_edge("start", "each"), _edge("each", "end"), _edge("eachstart", "inner")]
    return {"nodes": nodes, "edges": edges}


async def _runner(
    graph: dict[str, Any], inputs: dict[str, Any], persist: bool = False
) -> Callable[[], Any]:
    from app.core.app_mode import AppMode
    from app.core.config import Settings
    from app.engine.run_context import RunContext
    from app.engine.variables.pool import VariablePool
    from app.engine.workflow.engine import compile_workflow, run_workflow
    from app.engine.workflow.env import WorkflowRun
    from app.engine.workflow.events import WorkflowStream
    from app.gateway.gateway import ModelGateway

    compiled = compile_workflow({"graph": graph})
    compiled.check_runnable()
    gateway = ModelGateway(Settings())
    app_id, run_id = (await _stored_run()) if persist else ("app", "run")

    async def once() -> int:
        from app.services.workflows.records import NodeRecorder

        events: list[Any] = []
        run = RunContext.lasting(gateway, events.append, asyncio.Event(), 600)
        workflow = WorkflowRun(AppMode.WORKFLOW, app_id, "wf", run_id, "task", inputs=dict(inputs))
        recorder = NodeRecorder(app_id, "wf", run_id, frozenset()) if persist else None
        outcome = await run_workflow(
            compiled,
            workflow,
            VariablePool(),
            run,
            WorkflowStream("task", run_id),
            600,
            recorder.add if recorder is not None else None,
        )
        if recorder is not None:
            await recorder.close()
        if outcome.status != "succeeded":
            raise RuntimeError(f"bench run {outcome.status}: {outcome.error}")
        return len(events)

    return once


async def _stored_run() -> tuple[str, str]:
    """An app and a run row in the throw-away database the node rows point at."""
    from app.core.db import session_scope
    from app.models import App, WorkflowRun

    async with session_scope() as session:
        app = App(name="bench", mode="workflow", dsl={})
        session.add(app)
        await session.flush()
        run = WorkflowRun(app_id=app.id, workflow_id="wf", type="workflow", created_by="bench")
        session.add(run)
    return app.id, run.id


async def cpu_per_unit(
    graph: dict[str, Any], inputs: dict[str, Any], runs: int, persist: bool = False
) -> dict[str, float]:
    once = await _runner(graph, inputs, persist)
    for _ in range(max(runs // 10, 3)):  # warm-up
        await once()
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    events = 0
    for _ in range(runs):
        events += await once()
    return {
        "cpu": time.process_time() - cpu0,
        "wall": time.perf_counter() - wall0,
        "events": events / runs,
    }


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    _register()
    results: dict[str, Any] = {"load": os.getloadavg()[0]}
    chain = await cpu_per_unit(chain_graph(args.chain), {}, args.runs)
    results["chain"] = {
        **chain,
        "us_per_node": chain["cpu"] / (args.runs * args.chain) * 1e6,
        "ms_per_run": chain["wall"] / args.runs * 1e3,
    }
    once = await _runner(fanout_graph(args.fanout, args.wait), {})
    walls = []
    for _ in range(3):
        started = time.perf_counter()
        await once()
        walls.append(time.perf_counter() - started)
    results["fanout"] = {"walls": walls, "best": min(walls), "worst": max(walls)}
    stored = await cpu_per_unit(chain_graph(args.chain), {}, max(args.runs // 3, 20), True)
    stored_us = stored["cpu"] / (max(args.runs // 3, 20) * args.chain) * 1e6
    results["persisted"] = {
        "us_per_node": stored_us,
        "storing_us_per_node": stored_us - results["chain"]["us_per_node"],
    }
    items = {"items": list(range(args.rounds))}
    iteration_runs = max(args.runs // 10, 5)
    for name, parallel in (("sequential", False), ("parallel", True)):
        measured = await cpu_per_unit(iteration_graph(parallel), items, iteration_runs)
        results[name] = {
            **measured,
            "us_per_round": measured["cpu"] / (iteration_runs * args.rounds) * 1e6,
        }
    return results


def report(r: dict[str, Any], args: argparse.Namespace, command: str, loop: str) -> str:
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    chain, fan = r["chain"], r["fanout"]
    machine = (
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {loop}, "
        f"load average {r['load']:.1f} just before"
    )
    return "\n".join(
        [
            START_MARK,
            "## Workflow engine",
            "",
            f"Written by `bench/engine_bench.py` ({when}, `{command}`, {machine}). "
            "In-process: the engine alone, events built and handed to a list; nothing stored "
            "but in (d).",
            "",
            "| measure | value |",
            "|---|---|",
            f"| (a) CPU per node, chain of {args.chain} cheap nodes "
            f"({args.runs} runs) | **{chain['us_per_node']:.1f} µs** |",
            f"| (a) wall per run of the chain | {chain['ms_per_run']:.2f} ms "
            f"({chain['events']:.0f} events) |",
            f"| (b) fan-out: {args.fanout} branches each waiting {args.wait:g} s, then a join "
            f"(best / worst of 3) | **{fan['best']:.3f} s** / {fan['worst']:.3f} s |",
            f"| (c) CPU per iteration round, {args.rounds} items, one cheap node inside, "
            f"sequential | {r['sequential']['us_per_round']:.1f} µs |",
            f"| (c) same, parallel (parallel_nums 10) | {r['parallel']['us_per_round']:.1f} µs |",
            f"| (d) CPU per node of (a) with every node execution stored (SQLite) "
            f"| {r['persisted']['us_per_node']:.1f} µs, of which storing "
            f"**{r['persisted']['storing_us_per_node']:.1f} µs** |",
            "",
            END_MARK,
        ]
    )


def write_results(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else ""
    if START_MARK in text and END_MARK in text:
        head, rest = text.split(START_MARK, 1)
        text = head + section + rest.split(END_MARK, 1)[1]
    elif "## History" in text:
        head, tail = text.split("## History", 1)
        text = head + section + "\n\n## History" + tail
    else:
        text = text + "\n" + section + "\n"
    RESULTS.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chain", type=int, default=100, help="nodes in the chain (a)")
    parser.add_argument("--runs", type=int, default=300, help="runs of the chain (a)")
    parser.add_argument("--fanout", type=int, default=50, help="parallel branches (b)")
    parser.add_argument("--wait", type=float, default=1.0, help="seconds each branch waits (b)")
    parser.add_argument("--rounds", type=int, default=100, help="iteration items (c)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.chain < 3:
        parser.error("--chain must be at least 3")
    with tempfile.TemporaryDirectory(prefix="kiln-engine-bench-") as tmp:
        _throwaway_database(Path(tmp))
        _run_and_report(args, argv)


def _throwaway_database(tmp: Path) -> None:
    """(d) stores rows: point Kiln at a migrated SQLite file before anything reads settings."""
    url = f"sqlite+aiosqlite:///{tmp / 'kiln.db'}"
    os.environ["KILN_DATABASE_URL"] = url
    kiln = Path(sys.executable).with_name("kiln")
    subprocess.run([str(kiln), "migrate"], check=True, capture_output=True, env=os.environ)


def _run_and_report(args: argparse.Namespace, argv: list[str] | None) -> None:
    try:
        import uvloop

        loop = f"uvloop {uvloop.__version__}"
        results = uvloop.run(measure(args))
    except ImportError:
        loop = "asyncio"
        results = asyncio.run(measure(args))
    command = ".venv/bin/python -m bench.engine_bench " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    section = report(results, args, command.strip(), loop)
    print(section)
    if not args.no_write:
        write_results(section)


if __name__ == "__main__":
    main()
