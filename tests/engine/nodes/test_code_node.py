"""The code node against the real local sandbox: native inputs (files as Dify's file
mappings, missing values as None), Python and JavaScript, Dify's output validation, and
failures as Dify reports them."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.engine.nodes.base import NodeConfigError, NodeError
from app.engine.nodes.code.errors import exception_line
from app.engine.nodes.code.node import CodeNode
from app.engine.variables.values import FileValue
from app.engine.workflow.env import WorkflowServices
from app.sandbox.errors import SandboxError, SandboxTimeoutError
from tests.engine.graph_cases import close_shared_sandbox, shared_sandbox
from tests.engine.nodes.single_node import pool_with, run_node, spec

DOC = FileValue(
    type="document",
    transfer_method="remote_url",
    filename="summary.pdf",
    extension=".pdf",
    mime_type="application/pdf",
    size=2048,
    url="https://files.example.test/summary.pdf",
    remote_url="https://files.example.test/summary.pdf",
)


@pytest.fixture(scope="module")
async def services() -> AsyncIterator[WorkflowServices]:
    yield WorkflowServices(sandbox=shared_sandbox())
    await close_shared_sandbox()


def code(
    source: str,
    outputs: dict[str, Any] | None,
    variables: tuple[tuple[str, list[str]], ...] = (),
    language: str = "python3",
) -> dict[str, Any]:
    return {
        "code_language": language,
        "code": source,
        "outputs": outputs,
        "variables": [{"variable": name, "value_selector": sel} for name, sel in variables],
    }


def typed(**kinds: str) -> dict[str, Any]:
    return {name: {"type": kind, "children": None} for name, kind in kinds.items()}


async def test_python_outputs_are_validated_and_converted(services: WorkflowServices) -> None:
    data = code(
        "def main(line: str, n: int) -> dict:\n"
        "    words = line.split()\n"
        "    return {'upper': line.upper(), 'count': len(words) * n, 'words': words,\n"
        "            'info': {'first': words[0], 'deep': {'ok': True}}, 'big': '1.5e+3',\n"
        "            'flag': True, 'ratio': 0.25, 'pairs': [{'w': w} for w in words]}\n",
        typed(
            upper="string",
            count="number",
            words="array[string]",
            info="object",
            big="number",
            flag="number",
            ratio="number",
            pairs="array[object]",
        ),
        (("line", ["start", "line"]), ("n", ["start", "n"])),
    )
    pool = pool_with({"start": {"line": "make it so", "n": 2}})
    result = await run_node("code", data, pool, services)
    assert result.outputs == {
        "upper": "MAKE IT SO",
        "count": 6,
        "words": ["make", "it", "so"],
        "info": {"first": "make", "deep": {"ok": True}},
        "big": 1500.0,  # a scientific-notation string becomes the number it spells
        "flag": 1,  # a boolean for a number output counts as 0/1
        "ratio": 0.25,
        "pairs": [{"w": "make"}, {"w": "it"}, {"w": "so"}],
    }
    assert result.inputs == {"line": "make it so", "n": 2}


async def test_javascript_gets_one_object(services: WorkflowServices) -> None:
    data = code(
        "function main({words, count}) {\n"
        "  return {joined: words.join('-'), doubled: count * 2, reversed: [...words].reverse()};\n"
        "}\n",
        typed(joined="string", doubled="number", reversed="array[string]"),
        (("words", ["py", "words"]), ("count", ["py", "count"])),
        language="javascript",
    )
    pool = pool_with({"py": {"words": ["a", "b"], "count": 2}})
    result = await run_node("code", data, pool, services)
    assert result.outputs == {"joined": "a-b", "doubled": 4, "reversed": ["b", "a"]}


async def test_files_and_missing_values_as_inputs(services: WorkflowServices) -> None:
    data = code(
        "def main(doc, docs, name, size, gone) -> dict:\n"
        "    return {'kind': doc['dify_model_identity'], 'name': doc['filename'],\n"
        "            'names': [d['filename'] for d in docs], 'attr': f'{name}/{size}',\n"
        "            'gone': gone is None}\n",
        typed(kind="string", name="string", names="array[string]", attr="string", gone="boolean"),
        (
            ("doc", ["start", "doc"]),
            ("docs", ["start", "docs"]),
            ("name", ["start", "doc", "name"]),
            ("size", ["start", "doc", "size"]),
            ("gone", ["start", "nothing"]),
        ),
    )
    pool = pool_with({"start": {"doc": DOC, "docs": [DOC, DOC]}})
    result = await run_node("code", data, pool, services)
    assert result.outputs == {
        "kind": "__dify__file__",
        "name": "summary.pdf",
        "names": ["summary.pdf", "summary.pdf"],
        "attr": "summary.pdf/2048",
        "gone": True,
    }
    assert result.inputs["doc"]["url"] == DOC.url and result.inputs["gone"] is None


@pytest.mark.parametrize(
    ("source", "outputs", "message", "error_type"),
    [
        (
            "def main():\n    return {'a': 1, 'extra': 2}\n",
            typed(a="number"),
            "Not all output parameters are validated.",
            "CodeNodeError",
        ),
        (
            "def main():\n    return {}\n",
            typed(a="string"),
            "Output a is missing.",
            "OutputValidationError",
        ),
        (
            "def main():\n    return {'a': 3}\n",
            typed(a="string"),
            "Output a must be a string, got int instead.",
            "OutputValidationError",
        ),
        (
            "def main():\n    return {'a': ['x'] * 31}\n",
            typed(a="array[string]"),
            "The length of output variable `a` must be less than 30 elements.",
            "OutputValidationError",
        ),
        (
            "def main():\n    return {'a': {'b': {'c': {'d': {'e': {'f': 1}}}}}}\n",
            typed(a="object"),
            "Depth limit 5 reached, object too deep.",
            "DepthLimitError",
        ),
        (
            "def main():\n    return {'a': [1, 'x']}\n",
            typed(a="array[number]"),
            "The element at index 1 of output variable `a` must be a number.",
            "OutputValidationError",
        ),
    ],
)
async def test_output_validation_failures(
    services: WorkflowServices,
    source: str,
    outputs: dict[str, Any],
    message: str,
    error_type: str,
) -> None:
    with pytest.raises(NodeError) as caught:
        await run_node("code", code(source, outputs), services=services)
    assert (caught.value.message, caught.value.error_type) == (message, error_type)


async def test_nested_children_are_checked(services: WorkflowServices) -> None:
    outputs = {
        "info": {"type": "object", "children": {"n": {"type": "number", "children": None}}},
    }
    good = code("def main():\n    return {'info': {'n': 2}}\n", outputs)
    assert (await run_node("code", good, services=services)).outputs == {"info": {"n": 2}}
    bad = code("def main():\n    return {'info': {'n': 'x'}}\n", outputs)
    with pytest.raises(NodeError, match=r"^Output info.n is not a number"):
        await run_node("code", bad, services=services)


@pytest.mark.parametrize(
    ("language", "source", "message"),
    [
        (
            "python3",
            "def main(d):\n    raise ZeroDivisionError('cannot divide by zero')\n",
            "ZeroDivisionError: cannot divide by zero",
        ),
        ("python3", "def main(d:\n  pass\n", "SyntaxError: '(' was never closed"),
        (
            "javascript",
            "function main({d}) { throw new Error('bad thing ' + d); }",
            "Error: bad thing 1",
        ),
        (
            "javascript",
            "function main({d}) { return undefinedName + d; }",
            "ReferenceError: undefinedName is not defined",
        ),
    ],
)
async def test_user_code_errors_show_the_exception_line(
    services: WorkflowServices, language: str, source: str, message: str
) -> None:
    data = code(source, typed(x="number"), (("d", ["start", "d"]),), language=language)
    with pytest.raises(NodeError) as caught:
        await run_node("code", data, pool_with({"start": {"d": 1}}), services)
    assert caught.value.message == message
    assert caught.value.error_type == "CodeExecutionError"
    assert caught.value.inputs == {"d": 1}
    assert message in caught.value.process_data["error_detail"]  # the whole text kept


def test_exception_line_of_node_stderr() -> None:
    stderr = (
        "[eval]:3\n    throw new TypeError('nope')\n    ^\n\nTypeError: nope\n"
        "    at main ([eval]:3:11)\n\nNode.js v20.11.0\n"
    )
    assert exception_line("javascript", stderr) == "TypeError: nope"
    traceback = "Traceback ...\n  File x\nKeyError: 'a'\n\n"
    assert exception_line("python3", traceback) == "KeyError: 'a'"


class _Refusing:
    def __init__(self, error: SandboxError) -> None:
        self.error = error

    async def run_code(self, language: str, code: str, inputs: dict[str, Any]) -> dict[str, Any]:
        raise self.error

    async def render_template(self, template: str, variables: dict[str, Any]) -> str:
        raise self.error


async def test_sandbox_failures_and_no_sandbox() -> None:
    data = code("def main():\n    return {}\n", {})
    timeout = SandboxTimeoutError("Code execution timed out after 15 seconds")
    with pytest.raises(NodeError) as caught:
        await run_node("code", data, services=WorkflowServices(sandbox=_Refusing(timeout)))
    assert caught.value.message == "Code execution timed out after 15 seconds"
    with pytest.raises(NodeError, match="no code sandbox configured"):
        await run_node("code", data, services=WorkflowServices())


async def test_no_declared_outputs_means_an_empty_result(services: WorkflowServices) -> None:
    result = await run_node("code", code("def main():\n    return {}\n", None), services=services)
    assert result.outputs == {}


@pytest.mark.parametrize(
    "data",
    [
        {"code_language": "jinja2", "code": "x", "outputs": {}},
        {"code_language": "python3", "outputs": {}},
        {"code_language": "python3", "code": "x", "outputs": typed(a="file")},
        {"code_language": "python3", "code": "x", "outputs": typed(a="array[any]")},
        {"code_language": "python3", "code": "x", "outputs": [], "variables": []},
        {"code_language": "python3", "code": "x", "outputs": {}, "variables": [{"variable": "a"}]},
    ],
)
def test_data_that_can_never_run(data: dict[str, Any]) -> None:
    with pytest.raises(NodeConfigError):
        CodeNode(spec("code", data))
