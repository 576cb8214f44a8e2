"""Dify's validation of code node results against declared outputs."""

from typing import Any

import pytest

from app.core.config import Settings
from app.engine.nodes.code.outputs import CodeOutputError, OutputLimits, validate_code_outputs

LIMITS = OutputLimits()


def check(result: dict[str, Any], declared: dict[str, Any] | None) -> dict[str, Any]:
    return validate_code_outputs(result, declared, LIMITS)


def fails(result: dict[str, Any], declared: dict[str, Any] | None, message: str) -> None:
    with pytest.raises(CodeOutputError) as info:
        check(result, declared)
    assert str(info.value) == message


def test_every_type_passes() -> None:
    declared = {
        "s": {"type": "string"},
        "n": {"type": "number"},
        "f": {"type": "number"},
        "b": {"type": "boolean"},
        "o": {"type": "object"},
        "as": {"type": "array[string]"},
        "an": {"type": "array[number]"},
        "ao": {"type": "array[object]"},
        "ab": {"type": "array[boolean]"},
    }
    result = {
        "s": "a\x00b",
        "n": 3,
        "f": 0.5,
        "b": True,
        "o": {"k": [1, 2], "m": {"x": "y"}},
        "as": ["x", None],
        "an": [1, 2.5, True],
        "ao": [{"a": 1}, None],
        "ab": [True, None],
    }
    assert check(result, declared) == {**result, "s": "ab", "an": [1, 2.5, 1]}


def test_none_is_accepted_for_every_type() -> None:
    types = ["string", "number", "boolean", "object", "array[string]", "array[number]"]
    declared = {t: {"type": t} for t in types + ["array[object]", "array[boolean]"]}
    result = dict.fromkeys(declared)
    assert check(result, declared) == result


def test_missing_and_extra_outputs() -> None:
    fails({}, {"x": {"type": "string"}}, "Output x is missing.")
    fails({"x": "a", "y": 1}, {"x": {"type": "string"}}, "Not all output parameters are validated.")
    fails(
        {"o": {"a": 1}},
        {"o": {"type": "object", "children": {"b": {"type": "number"}}}},
        "Output o.b is missing.",
    )


def test_type_errors() -> None:
    fails({"x": 1}, {"x": {"type": "string"}}, "Output x must be a string, got int instead.")
    fails(
        {"x": "1"},
        {"x": {"type": "number"}},
        "Output x is not a number, got <class 'str'> instead.",
    )
    fails(
        {"x": []},
        {"x": {"type": "object"}},
        "Output x is not an object, got <class 'list'> instead.",
    )
    fails(
        {"x": "a"},
        {"x": {"type": "array[string]"}},
        "Output x is not an array, got <class 'str'> instead.",
    )
    fails(
        {"x": [1]},
        {"x": {"type": "array[string]"}},
        "Output x[0] must be a string, got int instead.",
    )
    fails(
        {"x": [None]},
        {"x": {"type": "array[number]"}},
        "The element at index 0 of output variable `x` must be a number.",
    )
    fails(
        {"x": [1]},
        {"x": {"type": "array[object]"}},
        "Output x[0] is not an object, got <class 'int'> instead at index 0.",
    )
    fails(
        {"x": [1]},
        {"x": {"type": "array[boolean]"}},
        "Output x[0] is not a boolean, got <class 'int'> instead.",
    )
    fails({"x": 1}, {"x": {"type": "file"}}, "Output type file is not supported.")


def test_string_length() -> None:
    assert check({"x": "a" * 80000}, {"x": {"type": "string"}}) == {"x": "a" * 80000}
    fails(
        {"x": "a" * 80001},
        {"x": {"type": "string"}},
        "The length of output variable `x` must be less than 80000 characters",
    )


def test_number_range_and_precision() -> None:
    big = 9223372036854775807
    assert check({"x": big}, {"x": {"type": "number"}}) == {"x": big}
    assert check({"x": -big - 1}, {"x": {"type": "number"}}) == {"x": -big - 1}
    message = (
        "Output variable `x` is out of range, it must be between "
        "-9223372036854775808 and 9223372036854775807."
    )
    fails({"x": big + 1}, {"x": {"type": "number"}}, message)
    fails({"x": float("inf")}, {"x": {"type": "number"}}, message)
    fails({"x": float("nan")}, {"x": {"type": "number"}}, message)
    assert check({"x": 1e-20}, {"x": {"type": "number"}}) == {"x": 1e-20}
    fails(
        {"x": 1.5e-20},
        {"x": {"type": "number"}},
        "Output variable `x` has too high precision, it must be less than 20 digits.",
    )


def test_array_lengths() -> None:
    assert check({"x": ["a"] * 30}, {"x": {"type": "array[string]"}})
    fails(
        {"x": ["a"] * 31},
        {"x": {"type": "array[string]"}},
        "The length of output variable `x` must be less than 30 elements.",
    )
    fails(
        {"x": [{}] * 31},
        {"x": {"type": "array[object]"}},
        "The length of output variable `x` must be less than 30 elements.",
    )
    assert check({"x": [1] * 1000}, {"x": {"type": "array[number]"}})
    fails(
        {"x": [1] * 1001},
        {"x": {"type": "array[number]"}},
        "The length of output variable `x` must be less than 1000 elements.",
    )
    assert check({"x": [True] * 5000}, {"x": {"type": "array[boolean]"}})


def test_depth() -> None:
    nested: dict[str, Any] = {"v": 1}
    for _ in range(3):
        nested = {"d": nested}
    assert check({"o": nested}, {"o": {"type": "object"}}) == {"o": nested}
    fails(
        {"o": {"d": nested}},
        {"o": {"type": "object"}},
        "Depth limit 5 reached, object too deep.",
    )


def test_children_are_validated_recursively() -> None:
    declared = {
        "o": {
            "type": "object",
            "children": {"name": {"type": "string"}, "tags": {"type": "array[string]"}},
        },
        "items": {"type": "array[object]", "children": {"id": {"type": "number"}}},
    }
    result = {"o": {"name": "n\x00", "tags": ["a"]}, "items": [{"id": 1}, None]}
    assert check(result, declared) == {
        "o": {"name": "n", "tags": ["a"]},
        "items": [{"id": 1}, None],
    }
    fails(
        {"o": {"name": 1, "tags": []}, "items": []},
        declared,
        "Output o.name must be a string, got int instead.",
    )
    fails(
        {"o": {"name": "", "tags": []}, "items": [{"id": 1, "extra": 2}]},
        declared,
        "Not all output parameters are validated.",
    )


def test_untyped_values_are_checked_by_what_they_are() -> None:
    fails(
        {"o": {"s": "a" * 80001}},
        {"o": {"type": "object"}},
        "The length of output variable `o.s` must be less than 80000 characters",
    )
    fails(
        {"o": {"l": [1, "a"]}},
        {"o": {"type": "object"}},
        "Output o.l is not a valid array. make sure all elements are of the same type.",
    )
    fails(
        {"o": {"x": 2**70}},
        {"o": {"type": "object"}},
        (
            "Output variable `o.x` is out of range, it must be between "
            "-9223372036854775808 and 9223372036854775807."
        ),
    )


def test_limits_come_from_settings() -> None:
    limits = OutputLimits.from_settings(
        Settings(code_max_string_length=3, code_max_string_array_length=1)  # type: ignore[call-arg]
    )
    with pytest.raises(CodeOutputError, match="less than 3 characters"):
        validate_code_outputs({"x": "abcd"}, {"x": {"type": "string"}}, limits)
    with pytest.raises(CodeOutputError, match="less than 1 elements"):
        validate_code_outputs({"x": ["a", "b"]}, {"x": {"type": "array[string]"}}, limits)
    assert validate_code_outputs({"x": "ab"}, {"x": {"type": "string"}}) == {"x": "ab"}
