"""List-operator tests and sort keys, as Dify's list-operator has its own (they are not the
if-else condition processor: `in` on a string value is a substring test, `empty` means the
empty string, and nothing raises on a None item).

A file is tested on one attribute: text attributes with the string tests, `type` and
`transfer_method` with `in`/`not in`, `size` with the number tests."""

from collections.abc import Callable, Sequence
from typing import Any

from app.engine.variables.values import FileValue

STRING_TESTS = frozenset(
    (
        "contains",
        "start with",
        "end with",
        "is",
        "in",
        "empty",
        "not contains",
        "is not",
        "not in",
        "not empty",
    )
)
NUMBER_TESTS = frozenset(("=", "≠", "<", ">", "≥", "≤"))
OPERATORS = STRING_TESTS | NUMBER_TESTS
FILE_TEXT_KEYS = frozenset(("name", "extension", "mime_type", "url", "related_id"))
FILE_CHOICE_KEYS = frozenset(("type", "transfer_method"))


class ListOperatorError(ValueError):
    """Dify's ListOperatorError family: the node fails with this message."""


Test = Callable[[Any], bool]


def _negate(test: Test) -> Test:
    return lambda item: not test(item)


def string_test(operator: str, value: Any) -> Test:
    if operator == "empty":
        return lambda item: item == ""
    if operator == "not empty":
        return lambda item: item != ""
    positive: dict[str, Callable[[Any], Test]] = {
        "contains": lambda v: lambda item: v in item,
        "start with": lambda v: lambda item: item.startswith(v),
        "end with": lambda v: lambda item: item.endswith(v),
        "is": lambda v: lambda item: item == v,
        "in": lambda v: lambda item: item in v,
    }
    negated = {"not contains": "contains", "is not": "is", "not in": "in"}
    if operator in positive:
        return positive[operator](value)
    if operator in negated:
        return _negate(positive[negated[operator]](value))
    raise ListOperatorError(f"Invalid condition: {operator}")


def choice_test(operator: str, value: Any) -> Test:
    if operator == "in":
        return lambda item: item in value
    if operator == "not in":
        return lambda item: item not in value
    raise ListOperatorError(f"Invalid condition: {operator}")


def number_test(operator: str, value: float) -> Test:
    tests: dict[str, Test] = {
        "=": lambda item: item == value,
        "≠": lambda item: item != value,
        "<": lambda item: item < value,
        "≤": lambda item: item <= value,
        ">": lambda item: item > value,
        "≥": lambda item: item >= value,
    }
    if operator not in tests:
        raise ListOperatorError(f"Invalid condition: {operator}")
    return tests[operator]


def boolean_test(operator: str, value: bool) -> Test:
    if operator == "is":
        return lambda item: item == value
    if operator == "is not":
        return lambda item: item != value
    raise ListOperatorError(f"Invalid condition: {operator}")


def file_text(key: str) -> Callable[[FileValue], str]:
    """A file attribute as the list-operator reads it (missing text reads as "")."""
    readers: dict[str, Callable[[FileValue], str]] = {
        "name": lambda f: f.filename or "",
        "type": lambda f: f.type,
        "extension": lambda f: f.extension or "",
        "mime_type": lambda f: f.mime_type or "",
        "transfer_method": lambda f: f.transfer_method,
        "url": lambda f: f.remote_url or "",
        "related_id": lambda f: f.related_id or "",
    }
    if key not in readers:
        raise ListOperatorError(f"Invalid key: {key}")
    return readers[key]


def file_test(key: str, operator: str, value: str | Sequence[str]) -> Callable[[FileValue], bool]:
    if key in FILE_TEXT_KEYS and isinstance(value, str):
        read, test = file_text(key), string_test(operator, value)
        return lambda file: test(read(file))
    if key in FILE_CHOICE_KEYS:
        read, test = file_text(key), choice_test(operator, value)
        return lambda file: test(read(file))
    if key == "size" and isinstance(value, str):
        size_test = number_test(operator, float(value))
        return lambda file: size_test(file.size)
    raise ListOperatorError(f"Invalid key: {key}")


def file_sort_key(key: str) -> Callable[[FileValue], Any]:
    if key == "size":
        return lambda file: file.size
    if key in FILE_TEXT_KEYS | FILE_CHOICE_KEYS:
        return file_text(key)
    raise ListOperatorError(f"Invalid order key: {key}")
