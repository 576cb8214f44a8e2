"""Runs a JavaScript code node inside a confined child with an embedded V8 (mini-racer),
initialised only here, after the fork and after confinement: `main(inputsObject)` is
called with one object and its result comes back through `JSON.stringify`."""

import json
from typing import Any

from app.sandbox.python_runner import UserCodeError

_racer: Any = None


class JavaScriptTimeoutError(UserCodeError):
    """V8's own timeout fired (the worker's wall-clock kill is the backstop)."""


def prepare() -> None:
    """Start V8 and one isolate ahead of the call (~40 ms), in the confined child."""
    global _racer
    from py_mini_racer import MiniRacer

    _racer = MiniRacer()


def run(code: str, inputs: dict[str, Any], memory_bytes: int, timeout: float) -> dict[str, Any]:
    from py_mini_racer import JSEvalException, JSOOMException, JSTimeoutException

    if _racer is None:
        prepare()
    racer = _racer
    racer.set_hard_memory_limit(memory_bytes)
    call = f"JSON.stringify(main(JSON.parse({json.dumps(json.dumps(inputs))})))"
    try:
        racer.eval(code, timeout_sec=timeout)
        text = racer.eval(call, timeout_sec=timeout)
    except JSOOMException:
        raise UserCodeError("JavaScript ran out of memory") from None
    except JSTimeoutException:
        raise JavaScriptTimeoutError("JavaScript timed out") from None
    except JSEvalException as exc:
        raise UserCodeError(str(exc).strip()) from None
    if not isinstance(text, str):
        raise UserCodeError("main() must return an object")
    result = json.loads(text)
    if not isinstance(result, dict):
        raise UserCodeError(f"main() must return an object, got {type(result).__name__}")
    return result
