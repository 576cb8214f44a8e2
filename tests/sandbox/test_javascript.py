"""JavaScript code nodes: V8 in the same confined child, `main(inputsObject)`."""

import pytest

from app.sandbox.errors import SandboxError, SandboxTimeoutError
from app.sandbox.pool import LocalSandbox
from tests.sandbox.conftest import sandbox_settings


async def test_main_gets_one_object(sandbox: LocalSandbox) -> None:
    code = (
        "function main({arg1, arg2}) {\n"
        "  return {result: arg1.repeat(arg2), last: [1, 2].at(-1)}\n}"
    )
    assert await sandbox.run_code("javascript", code, {"arg1": "ab", "arg2": 2}) == {
        "result": "abab",
        "last": 2,
    }


async def test_console_output_is_ignored(sandbox: LocalSandbox) -> None:
    code = "function main() { if (typeof console !== 'undefined') console.log('x'); return {a: 1} }"
    assert await sandbox.run_code("javascript", code, {}) == {"a": 1}


@pytest.mark.parametrize("name", ["require", "process", "fetch", "XMLHttpRequest", "Deno"])
async def test_no_node_or_network_globals(sandbox: LocalSandbox, name: str) -> None:
    code = f"function main() {{ return {{t: typeof {name}}} }}"
    assert await sandbox.run_code("javascript", code, {}) == {"t": "undefined"}


async def test_require_is_a_reference_error(sandbox: LocalSandbox) -> None:
    code = "function main() { const fs = require('fs'); return {} }"
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("javascript", code, {})
    assert "ReferenceError: require is not defined" in info.value.message


async def test_thrown_error(sandbox: LocalSandbox) -> None:
    code = "function main() {\n  throw new Error('boom')\n}"
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("javascript", code, {})
    assert "Error: boom" in info.value.message


async def test_syntax_error(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("javascript", "function main( {", {})
    assert "SyntaxError" in info.value.message


async def test_missing_main(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("javascript", "const x = 1", {})
    assert "main is not defined" in info.value.message


async def test_result_must_be_an_object(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("javascript", "function main() { return [1] }", {})
    assert info.value.message == "main() must return an object, got list"
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("javascript", "function main() { }", {})
    assert info.value.message == "main() must return an object"


async def test_endless_loop_is_stopped(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxTimeoutError) as info:
        await sandbox.run_code("javascript", "function main() { while (true) {} }", {})
    assert info.value.message == "Code execution timed out after 2 seconds"
    code = "while (true) {}\nfunction main() { return {} }"
    with pytest.raises(SandboxTimeoutError):
        await sandbox.run_code("javascript", code, {})


async def test_huge_array_runs_out_of_memory() -> None:
    box = LocalSandbox(sandbox_settings(code_sandbox_memory_mb=128, code_execution_timeout=10))
    try:
        code = "function main() { const a = []; while (true) a.push(new Array(1e7).fill(1)); }"
        with pytest.raises(SandboxError) as info:
            await box.run_code("javascript", code, {})
        assert info.value.message == "JavaScript ran out of memory"
    finally:
        await box.aclose()


async def test_huge_array_buffer_is_refused(sandbox: LocalSandbox) -> None:
    code = "function main() { const b = new ArrayBuffer(4 * 1024 ** 3); return {n: b.byteLength} }"
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("javascript", code, {})
    assert "RangeError" in info.value.message or "memory" in info.value.message
