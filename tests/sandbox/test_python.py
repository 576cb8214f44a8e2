"""Python code nodes in the local sandbox: Dify's contract and its errors."""

import pytest

from app.sandbox.errors import SandboxError, SandboxOutputTooLargeError, SandboxTimeoutError
from app.sandbox.pool import LocalSandbox
from tests.sandbox.conftest import sandbox_settings


async def test_main_gets_keyword_arguments(sandbox: LocalSandbox) -> None:
    code = "def main(arg1: str, arg2: int) -> dict:\n    return {'result': arg1 * arg2}\n"
    assert await sandbox.run_code("python3", code, {"arg1": "ab", "arg2": 3}) == {
        "result": "ababab"
    }


async def test_common_modules_and_lazy_imports(sandbox: LocalSandbox) -> None:
    code = """
import json, re, datetime, math, base64, hashlib, random, time, collections, itertools
import functools, urllib.parse, fractions, zoneinfo, statistics

def main(text):
    return {
        "digest": hashlib.sha256(text.encode()).hexdigest()[:8],
        "words": re.findall(r"\\w+", text),
        "quoted": urllib.parse.quote(text),
        "half": str(fractions.Fraction(1, 2)),
        "mean": statistics.mean([1, 2, 3]),
        "paris": str(datetime.datetime(2024, 1, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))),
        "b64": base64.b64encode(b"x").decode(),
        "now": time.time() > 0,
        "random": 0 <= random.random() < 1,
    }
"""
    result = await sandbox.run_code("python3", code, {"text": "hello world"})
    assert result["words"] == ["hello", "world"]
    assert result["half"] == "1/2"
    assert result["paris"] == "2024-01-01 00:00:00+01:00"
    assert result["now"] and result["random"]


async def test_printing_does_not_corrupt_the_result(sandbox: LocalSandbox) -> None:
    code = """
import os, sys
def main():
    print("noise", flush=True)
    print("<<RESULT>>{}<<RESULT>>")
    sys.stderr.write("more noise\\n")
    os.write(1, b"raw noise")
    os.write(2, b"raw noise")
    return {"ok": True}
"""
    assert await sandbox.run_code("python3", code, {}) == {"ok": True}


async def test_exception_shows_a_traceback_of_user_code(sandbox: LocalSandbox) -> None:
    code = "def helper():\n    raise ValueError('boom')\n\ndef main():\n    helper()\n"
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("python3", code, {})
    message = info.value.message
    assert message.startswith("Traceback (most recent call last):")
    assert 'File "<code>", line 5, in main' in message
    assert "raise ValueError('boom')" in message
    assert message.endswith("ValueError: boom")
    assert "python_runner" not in message


async def test_syntax_error(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("python3", "def main(:\n    return {}\n", {})
    assert "SyntaxError" in info.value.message
    assert 'File "<code>", line 1' in info.value.message


async def test_missing_main(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("python3", "x = 1\n", {})
    assert info.value.message == "The code must define a function main(...)"


async def test_unexpected_argument_is_reported(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("python3", "def main():\n    return {}\n", {"x": 1})
    assert "TypeError" in info.value.message and "'x'" in info.value.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("return [1, 2]", "main() must return a dict, got list"),
        ("return None", "main() must return a dict, got NoneType"),
        ("return {1: 'a'}", "main() must return a dict with string keys, got the key 1"),
    ],
)
async def test_result_must_be_a_dict_with_string_keys(
    sandbox: LocalSandbox, body: str, message: str
) -> None:
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("python3", f"def main():\n    {body}\n", {})
    assert info.value.message == message


async def test_result_must_be_json(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("python3", "def main():\n    return {'x': object()}\n", {})
    assert "not JSON serializable" in info.value.message


async def test_scientific_notation_strings_become_floats(sandbox: LocalSandbox) -> None:
    code = "def main():\n    return {'a': '1.5e-07', 'b': ['2E3'], 'c': 'e5', 'd': 1e-7}\n"
    assert await sandbox.run_code("python3", code, {}) == {
        "a": 1.5e-07,
        "b": [2000.0],
        "c": "e5",
        "d": 1e-07,
    }


async def test_unicode_round_trip(sandbox: LocalSandbox) -> None:
    code = "def main(s):\n    return {'s': s + ' ✓', 'n': len(s)}\n"
    assert await sandbox.run_code("python3", code, {"s": "héllo 世界 \U0001f600"}) == {
        "s": "héllo 世界 \U0001f600 ✓",
        "n": 10,
    }


async def test_endless_cpu_loop_is_killed(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxTimeoutError) as info:
        await sandbox.run_code("python3", "def main():\n    while True:\n        pass\n", {})
    assert info.value.message == "Code execution timed out after 2 seconds"


async def test_endless_sleep_is_killed(sandbox: LocalSandbox) -> None:
    code = "import time\ndef main():\n    time.sleep(3600)\n"
    with pytest.raises(SandboxTimeoutError):
        await sandbox.run_code("python3", code, {})


async def test_huge_allocation_is_a_memory_error(sandbox: LocalSandbox) -> None:
    code = "def main():\n    x = bytearray(2 * 1024 ** 3)\n    return {'n': len(x)}\n"
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("python3", code, {})
    assert "MemoryError" in info.value.message


async def test_growing_memory_is_a_memory_error() -> None:
    box = LocalSandbox(sandbox_settings(code_sandbox_memory_mb=128, code_execution_timeout=10))
    try:
        code = "def main():\n    x = []\n    while True:\n        x.append('a' * 10**6)\n"
        with pytest.raises(SandboxError) as info:
            await box.run_code("python3", code, {})
        assert "MemoryError" in info.value.message
    finally:
        await box.aclose()


async def test_result_too_large(sandbox: LocalSandbox) -> None:
    code = "def main():\n    return {'x': 'a' * (2 * 1024 * 1024)}\n"
    with pytest.raises(SandboxOutputTooLargeError) as info:
        await sandbox.run_code("python3", code, {})
    assert info.value.message == "The code's result is larger than 1048576 bytes"


async def test_result_too_deep_to_serialise(sandbox: LocalSandbox) -> None:
    code = (
        "def main():\n    d = {}\n    for _ in range(100000):\n        d = {'d': d}\n    return d\n"
    )
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("python3", code, {})
    assert "RecursionError" in info.value.message


async def test_unsupported_language(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("ruby", "", {})
    assert info.value.message == "Unsupported code language: ruby"


async def test_inputs_must_be_json(sandbox: LocalSandbox) -> None:
    with pytest.raises(SandboxError) as info:
        await sandbox.run_code("python3", "def main(x):\n    return {}\n", {"x": object()})
    assert info.value.message.startswith("The inputs cannot be passed to the sandbox")
