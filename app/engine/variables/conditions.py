"""Dify's condition processor (`utils/condition/processor.py`), as if-else cases, loop break
conditions and file sub-conditions use it.

A condition reads one variable (a missing one is an error: `Variable [...] not found`),
renders its expected value through `{{#…#}}` templates when it is a string, and compares
with one operator. Conditions combine with `and`/`or`, stopping at the first result that
decides. A list of files compared with `contains`/`not contains`/`all of` is checked
through sub-conditions on file attributes instead. Anything the operator cannot compare
raises ConditionError with Dify's message; the node using it fails with that message.
The operators themselves are in operators.py."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.engine.variables.operators import OPERATORS, ConditionError, compare
from app.engine.variables.pool import MISSING, VariablePool
from app.engine.variables.templates import render
from app.engine.variables.values import FileValue

LOGICAL_OPERATORS = ("and", "or")
FILE_ATTRIBUTES = (
    "type",
    "size",
    "name",
    "mime_type",
    "transfer_method",
    "url",
    "extension",
    "related_id",
)
_FILE_LIST_OPERATORS = frozenset(("contains", "not contains", "all of"))
_EXISTENCE_OPERATORS = frozenset(("exists", "not exists"))
_UNARY_OPERATORS = frozenset(("empty", "not empty", "null", "not null", "exists", "not exists"))


class InvalidConditions(ValueError):
    """Condition data in the DSL that can never be evaluated (found when parsing)."""


# -- conditions as the DSL writes them --------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubCondition:
    """A test on one attribute of each file in a list (`key` is the attribute)."""

    key: str
    operator: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "comparison_operator": self.operator, "value": self.value}


@dataclass(frozen=True, slots=True)
class Condition:
    selector: tuple[str, ...]
    operator: str
    value: Any = None  # str (a template), list[str], bool or None
    sub_operator: str = "and"
    sub_conditions: tuple[SubCondition, ...] | None = None  # None: no sub-conditions set

    def to_dict(self) -> dict[str, Any]:
        """The condition as Dify reports it (its model_dump) in process data."""
        sub: dict[str, Any] | None = None
        if self.sub_conditions is not None:
            sub = {
                "logical_operator": self.sub_operator,
                "conditions": [c.to_dict() for c in self.sub_conditions],
            }
        return {
            "variable_selector": list(self.selector),
            "comparison_operator": self.operator,
            "value": self.value,
            "sub_variable_condition": sub,
        }


def parse_logical_operator(raw: Any, default: str = "and") -> str:
    if raw is None:
        return default
    if raw not in LOGICAL_OPERATORS:
        raise InvalidConditions(f"logical operator must be 'and' or 'or', not {raw!r}")
    return str(raw)


def _parse_operator(raw: Any) -> str:
    if raw not in OPERATORS:
        raise InvalidConditions(f"unsupported comparison operator {raw!r}")
    return str(raw)


def _parse_value(raw: Any) -> Any:
    """Expected values: strings (templates), lists, booleans or None. The editor always
    writes numbers as strings; a bare number from a hand-written DSL is read as its text."""
    if raw is None or isinstance(raw, str | bool):
        return raw
    if isinstance(raw, int | float):
        return str(raw)
    if isinstance(raw, list) and all(isinstance(item, str | bool) for item in raw):
        return list(raw)
    raise InvalidConditions(f"unsupported condition value {raw!r}")


def _parse_sub(raw: Any) -> tuple[str, tuple[SubCondition, ...] | None]:
    if raw is None:
        return "and", None
    if not isinstance(raw, Mapping):
        raise InvalidConditions("sub_variable_condition must be an object")
    operator = raw.get("logical_operator")
    if operator not in LOGICAL_OPERATORS:
        raise InvalidConditions("sub_variable_condition needs logical_operator 'and' or 'or'")
    found: list[SubCondition] = []
    for item in raw.get("conditions") or []:
        if not isinstance(item, Mapping):
            raise InvalidConditions("a sub-condition must be an object")
        value = item.get("value")
        if not (value is None or isinstance(value, str) or isinstance(value, list)):
            raise InvalidConditions(f"unsupported sub-condition value {value!r}")
        key = item.get("key")
        if not isinstance(key, str):
            raise InvalidConditions("a sub-condition needs a key")
        found.append(SubCondition(key, _parse_operator(item.get("comparison_operator")), value))
    return str(operator), tuple(found)


def parse_condition(raw: Any) -> Condition:
    if not isinstance(raw, Mapping):
        raise InvalidConditions("a condition must be an object")
    selector = raw.get("variable_selector")
    if not isinstance(selector, list):
        raise InvalidConditions("a condition needs a variable_selector")
    sub_operator, subs = _parse_sub(raw.get("sub_variable_condition"))
    return Condition(
        selector=tuple(str(part) for part in selector),
        operator=_parse_operator(raw.get("comparison_operator")),
        value=_parse_value(raw.get("value")),
        sub_operator=sub_operator,
        sub_conditions=subs,
    )


def parse_conditions(raw: Any) -> tuple[Condition, ...]:
    """A DSL condition list (None reads as no conditions); InvalidConditions if unusable."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidConditions("conditions must be a list")
    return tuple(parse_condition(item) for item in raw)


# -- evaluating ----------------------------------------------------------------------------


@dataclass(slots=True)
class ConditionResult:
    """Dify's (input_conditions, group_results, final_result)."""

    inputs: list[dict[str, Any]]
    group_results: list[bool]
    final: bool


def _to_bool(value: Any) -> bool:
    """Expected values compared with booleans (`"true"`, `1`, …), as Dify reads them."""
    if isinstance(value, int):
        return bool(value)
    if isinstance(value, str):
        try:
            loaded = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConditionError(str(exc)) from exc
        if isinstance(loaded, int):
            return bool(loaded)
    raise ConditionError(f"unexpected value: type={type(value)}, value={value}")


def _is_booleans(value: Any) -> bool:
    return isinstance(value, bool) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, bool) for v in value)
    )


def _is_files(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, FileValue) for v in value)


def expected_value(actual: Any, expected: Any, pool: VariablePool) -> Any:
    """The expected value as the comparison sees it: templates rendered, and read as
    booleans when the actual value is a boolean (or a list of them)."""
    if isinstance(expected, str):
        expected = render(expected, pool)
    if expected is None:
        return None
    if _is_booleans(actual):
        if isinstance(expected, list):
            return [_to_bool(item) for item in expected]
        return _to_bool(expected)
    return expected


def _file_attribute(file: FileValue, key: str) -> Any:
    if key not in FILE_ATTRIBUTES:
        raise ConditionError(f"'{key}' is not a valid FileAttribute")
    return file.attribute(key)


def _with_dot(value: Any) -> Any:
    if value and isinstance(value, str) and not value.startswith("."):
        return "." + value
    return value


def check_files(files: Sequence[FileValue], operator: str, subs: Sequence[SubCondition]) -> bool:
    """Sub-conditions over a list of files: a `not …` test must hold for every file, any
    other for at least one; the tests combine with `operator`."""
    results: list[bool] = []
    for sub in subs:
        values = [_file_attribute(file, sub.key) for file in files]
        expected = sub.value
        if sub.key == "extension":
            if not isinstance(expected, str):
                raise ConditionError(
                    "Expected value must be a string when key is FileAttribute.EXTENSION"
                )
            expected = _with_dot(expected)
            values = [_with_dot(value) for value in values]
        checks = [compare(sub.operator, value, expected) for value in values]
        results.append(all(checks) if "not" in sub.operator else any(checks))
    return all(results) if operator == "and" else any(results)


def evaluate(
    conditions: Sequence[Condition], logical_operator: str, pool: VariablePool
) -> ConditionResult:
    """Evaluate in order and stop once the result is decided (`and` at the first false,
    `or` at the first true). Raises ConditionError."""
    inputs: list[dict[str, Any]] = []
    results: list[bool] = []
    for condition in conditions:
        actual = pool.lookup(condition.selector)
        if actual is MISSING:
            raise ConditionError(f"Variable {list(condition.selector)} not found")
        if _is_files(actual) and condition.operator in _FILE_LIST_OPERATORS:
            if condition.sub_conditions is None:
                raise ConditionError("Sub variable is required")
            result = check_files(actual, condition.sub_operator, condition.sub_conditions)
        elif condition.operator in _EXISTENCE_OPERATORS:
            result = compare(condition.operator, actual)
        else:
            expected = expected_value(actual, condition.value, pool)
            inputs.append(
                {
                    "actual_value": actual,
                    "expected_value": expected,
                    "comparison_operator": condition.operator,
                }
            )
            result = compare(condition.operator, actual, expected)
        results.append(result)
        decided = not result if logical_operator == "and" else result
        if decided:
            return ConditionResult(inputs, results, result)
    final = all(results) if logical_operator == "and" else any(results)
    return ConditionResult(inputs, results, final)


__all__ = [
    "OPERATORS",
    "Condition",
    "ConditionError",
    "ConditionResult",
    "InvalidConditions",
    "SubCondition",
    "check_files",
    "compare",
    "evaluate",
    "expected_value",
    "parse_condition",
    "parse_conditions",
    "parse_logical_operator",
]
