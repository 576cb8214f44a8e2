"""Dify's comparison operators on one value (`utils/condition/processor.py`): string,
number, array and null checks with Dify's messages, as conditions.py applies them.

Number comparisons follow current Dify (1.10+, also graphon): `=`/`≠` convert the expected
value with int() when the actual value is an int, else float(); `>`/`<`/`≥`/`≤` compare
with the expected value read as a number, so `0 ≤ "0.95"` holds."""

from collections.abc import Callable
from typing import Any


class ConditionError(ValueError):
    """A condition could not be evaluated (Dify raises ValueError or TypeError)."""


# -- the per-value checks ------------------------------------------------------------------


def _contains(value: Any, expected: Any) -> bool:
    if not value:
        return False
    if isinstance(value, str):
        return (expected if isinstance(expected, str) else str(expected)) in value
    if isinstance(value, list):
        return expected in value
    raise ConditionError("Invalid actual value type: string or array")


def _not_contains(value: Any, expected: Any) -> bool:
    if not value:
        return True
    if isinstance(value, str):
        return (expected if isinstance(expected, str) else str(expected)) not in value
    if isinstance(value, list):
        return expected not in value
    raise ConditionError("Invalid actual value type: string or array")


def _affix(value: Any, expected: Any, name: str) -> str | None:
    """The string to test, or None when the value is empty (both affix checks are false)."""
    if not value:
        return None
    if not isinstance(value, str):
        raise ConditionError("Invalid actual value type: string")
    if not isinstance(expected, str):
        raise ConditionError(f"Expected value must be a string for {name}")
    return value


def _start_with(value: Any, expected: Any) -> bool:
    text = _affix(value, expected, "startswith")
    return text is not None and text.startswith(expected)


def _end_with(value: Any, expected: Any) -> bool:
    text = _affix(value, expected, "endswith")
    return text is not None and text.endswith(expected)


def _is(value: Any, expected: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, str | bool):
        raise ConditionError("Invalid actual value type: string or boolean")
    return bool(value == expected)


def _is_not(value: Any, expected: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, str | bool):
        raise ConditionError("Invalid actual value type: string or boolean")
    return bool(value != expected)


def _equality_expected(value: Any, expected: Any) -> Any:
    """`=` and `≠`: the expected value in the actual value's type (int() for an int)."""
    if isinstance(value, bool):
        kind: type = bool
    elif isinstance(value, int):
        kind = int
    elif isinstance(value, float):
        kind = float
    else:
        raise ConditionError("Invalid actual value type: number or boolean")
    allowed = (bool, int, str) if kind is bool else (int, float, str)
    if not isinstance(expected, allowed):
        raise ConditionError(f"Cannot convert {type(expected)} to {kind.__name__}")
    try:
        return kind(expected)
    except (TypeError, ValueError) as exc:
        raise ConditionError(str(exc)) from exc


def _equal(value: Any, expected: Any) -> bool:
    return value is not None and bool(value == _equality_expected(value, expected))


def _not_equal(value: Any, expected: Any) -> bool:
    return value is not None and bool(value != _equality_expected(value, expected))


def _ordered(value: Any, expected: Any, test: Callable[[float, float], bool]) -> bool:
    """`>`, `<`, `≥`, `≤`: None is never in order; the expected value is read as a number."""
    if value is None:
        return False
    if not isinstance(value, int | float):
        raise ConditionError("Invalid actual value type: number")
    if isinstance(expected, str):
        try:
            number: float = float(expected)
        except ValueError as exc:
            raise ConditionError(f"Cannot convert '{expected}' to number") from exc
    elif isinstance(expected, int | float):
        number = expected
    else:
        raise ConditionError(f"Cannot convert {type(expected)} to number")
    return test(value, number)


def _in(value: Any, expected: Any) -> bool:
    if not value:
        return False
    if not isinstance(expected, list):
        raise ConditionError("Invalid expected value type: array")
    return value in expected


def _not_in(value: Any, expected: Any) -> bool:
    if not value:
        return True
    if not isinstance(expected, list):
        raise ConditionError("Invalid expected value type: array")
    return value not in expected


def _all_of(value: Any, expected: Any) -> bool:
    homogeneous = isinstance(expected, list) and (
        all(isinstance(item, str) for item in expected)
        or all(isinstance(item, bool) for item in expected)
    )
    if not homogeneous:
        raise ConditionError("all of operator expects homogeneous list of strings or booleans")
    if not value:
        return False
    if isinstance(value, list | tuple | set) or (
        isinstance(value, str) and all(isinstance(item, str) for item in expected)
    ):
        return all(item in value for item in expected)
    return False


_BINARY: dict[str, Callable[[Any, Any], bool]] = {
    "contains": _contains,
    "not contains": _not_contains,
    "start with": _start_with,
    "end with": _end_with,
    "is": _is,
    "is not": _is_not,
    "=": _equal,
    "≠": _not_equal,
    ">": lambda v, e: _ordered(v, e, lambda a, b: a > b),
    "<": lambda v, e: _ordered(v, e, lambda a, b: a < b),
    "≥": lambda v, e: _ordered(v, e, lambda a, b: a >= b),
    "≤": lambda v, e: _ordered(v, e, lambda a, b: a <= b),
    "in": _in,
    "not in": _not_in,
    "all of": _all_of,
}
_UNARY: dict[str, Callable[[Any], bool]] = {
    "empty": lambda v: not v,
    "not empty": lambda v: bool(v),
    "null": lambda v: v is None,
    "not null": lambda v: v is not None,
    "exists": lambda v: v is not None,
    "not exists": lambda v: v is None,
}
OPERATORS = frozenset((*_BINARY, *_UNARY))


def compare(operator: str, actual: Any, expected: Any = None) -> bool:
    """One operator on one value (the expected value already prepared)."""
    unary = _UNARY.get(operator)
    if unary is not None:
        return unary(actual)
    binary = _BINARY.get(operator)
    if binary is None:
        raise ConditionError(f"Unsupported operator: {operator}")
    try:
        return binary(actual, expected)
    except ConditionError:
        raise
    except (TypeError, ValueError) as exc:  # comparisons Dify lets Python refuse
        raise ConditionError(str(exc)) from exc
