"""Assigner v2 operations: which suit which variable type and input, which input values
are valid, and what each does (Dify's `variable_assigner/v2/helpers.py` rules).

A variable's type is read off its current value (values.segment_type): an empty list is
`array[any]`, so it accepts any item type Dify's array[any] accepts."""

from typing import Any

OVER_WRITE, CLEAR, APPEND, EXTEND, SET = "over-write", "clear", "append", "extend", "set"
ADD, SUBTRACT, MULTIPLY, DIVIDE = "+=", "-=", "*=", "/="
REMOVE_FIRST, REMOVE_LAST = "remove-first", "remove-last"
OPERATIONS = frozenset(
    (OVER_WRITE, CLEAR, APPEND, EXTEND, SET, ADD, SUBTRACT, MULTIPLY, DIVIDE)
    + (REMOVE_FIRST, REMOVE_LAST)
)
ARITHMETIC = frozenset((ADD, SUBTRACT, MULTIPLY, DIVIDE))
NO_VALUE = frozenset((CLEAR, REMOVE_FIRST, REMOVE_LAST))  # need no input

_SCALAR_INPUTS: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "object": dict,
}
_ITEM_INPUTS: dict[str, type | tuple[type, ...]] = {
    "array[any]": (str, float, int, dict),
    "array[string]": str,
    "array[number]": (int, float),
    "array[object]": dict,
    "array[boolean]": bool,
}


def is_array(kind: str) -> bool:
    return kind.startswith("array[")


def operation_supported(kind: str, operation: str) -> bool:
    if operation in (OVER_WRITE, CLEAR):
        return True
    if operation == SET:
        return kind in ("object", "string", "number", "boolean")
    if operation in ARITHMETIC:
        return kind == "number"
    return is_array(kind)  # append, extend, remove-first, remove-last


def variable_input_supported(operation: str) -> bool:
    return operation not in (SET, *ARITHMETIC)


def constant_input_supported(kind: str, operation: str) -> bool:
    if kind in ("string", "object", "boolean"):
        return operation in (OVER_WRITE, SET)
    if kind == "number":
        return operation in (OVER_WRITE, SET, *ARITHMETIC)
    return False


def input_valid(kind: str, operation: str, value: Any) -> bool:
    if operation in NO_VALUE:
        return True
    if kind == "number":
        return isinstance(value, int | float) and not (operation == DIVIDE and value == 0)
    scalar = _SCALAR_INPUTS.get(kind)
    if scalar is not None and isinstance(value, scalar):
        return True
    item = _ITEM_INPUTS.get(kind)
    if item is None:
        return False
    if operation == APPEND:
        return isinstance(value, item)
    if operation in (EXTEND, OVER_WRITE):
        return isinstance(value, list) and all(isinstance(v, item) for v in value)
    return False


def zero_value(kind: str, current: Any) -> Any:
    """What `clear` leaves: the type's empty value."""
    if is_array(kind):
        return []
    if kind == "number":
        return 0.0 if isinstance(current, float) else 0
    return {"object": {}, "string": "", "boolean": False}.get(kind)


def apply(operation: str, kind: str, current: Any, value: Any) -> Any:
    if operation in (OVER_WRITE, SET):
        return value
    if operation == CLEAR:
        return zero_value(kind, current)
    if operation == APPEND:
        return [*current, value]
    if operation in (EXTEND, ADD):
        return current + value
    if operation == SUBTRACT:
        return current - value
    if operation == MULTIPLY:
        return current * value
    if operation == DIVIDE:
        return current / value
    if operation == REMOVE_FIRST:
        return current[1:]
    return current[:-1]  # remove-last
