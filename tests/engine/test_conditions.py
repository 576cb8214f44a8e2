"""Dify's condition processor (app/engine/variables/conditions.py): every operator, the
number and boolean readings of expected values, templates, and/or with short-circuit,
file sub-conditions, and the errors Dify raises."""

from typing import Any

import pytest

from app.engine.variables.conditions import (
    Condition,
    ConditionError,
    InvalidConditions,
    SubCondition,
    compare,
    evaluate,
    parse_conditions,
    parse_logical_operator,
)
from app.engine.variables.pool import VariablePool
from app.engine.variables.values import FileValue


def _pool(**values: Any) -> VariablePool:
    pool = VariablePool()
    pool.add_outputs("n", values)
    return pool


def _one(operator: str, actual: Any, expected: Any = None) -> bool:
    pool = _pool(v=actual)
    return evaluate([Condition(("n", "v"), operator, expected)], "and", pool).final


@pytest.mark.parametrize(
    ("operator", "actual", "expected", "result"),
    [
        ("contains", "The apple", "apple", True),
        ("contains", "The apple", "pear", False),
        ("contains", "", "x", False),
        ("contains", None, "x", False),
        ("contains", ["a", "b"], "b", True),
        ("contains", "a1b", 1, True),  # a non-string expected is read as its text
        ("not contains", "The apple", "pear", True),
        ("not contains", None, "x", True),
        ("not contains", ["a"], "a", False),
        ("start with", "The end", "The", True),
        ("start with", "", "The", False),
        ("end with", "done.", ".", True),
        ("end with", "done", ".", False),
        ("is", "exact", "exact", True),
        ("is", None, "exact", False),
        ("is not", "exact", "other", True),
        ("is not", None, "other", False),  # None is neither
        ("empty", "", None, True),
        ("empty", [], None, True),
        ("empty", 0, None, True),
        ("empty", None, None, True),
        ("not empty", "x", None, True),
        ("not empty", [1], None, True),
        ("in", "red", ["red", "green"], True),
        ("in", "blue", ["red", "green"], False),
        ("in", "", ["red"], False),
        ("not in", "blue", ["red", "green"], True),
        ("not in", None, ["red"], True),
        ("all of", ["alpha", "beta", "c"], ["alpha", "beta"], True),
        ("all of", ["alpha"], ["alpha", "beta"], False),
        ("all of", [], ["alpha"], False),
        ("all of", "alphabet", ["alpha", "bet"], True),
        ("=", 10, "10", True),
        ("=", 2.5, "2.5", True),
        ("≠", 10, "10", False),
        ("≠", 2.5, "3", True),
        (">", 10, "9", True),
        (">", 0, "-1", True),
        ("<", 2.5, "3", True),
        ("≥", 10, "10", True),
        ("≤", 0, "0.95", True),  # Dify 1.10+: an int compared with a decimal string
        ("≤", 10, "2.5", False),
        (">", None, "1", False),
        ("=", None, "1", False),
        ("null", None, None, True),
        ("null", "", None, False),
        ("not null", 0, None, True),
        ("exists", None, None, False),
        ("not exists", None, None, True),
    ],
)
def test_operators(operator: str, actual: Any, expected: Any, result: bool) -> None:
    assert _one(operator, actual, expected) is result


def test_equality_converts_with_int_when_the_actual_value_is_an_int() -> None:
    assert _one("=", 3, "3") is True
    with pytest.raises(ConditionError, match="invalid literal for int"):
        _one("=", 3, "3.5")  # Dify's int("3.5")
    assert _one("=", 3.0, "3") is True


@pytest.mark.parametrize(
    ("operator", "actual", "expected", "message"),
    [
        ("contains", 5, "5", "Invalid actual value type: string or array"),
        ("start with", 5, "5", "Invalid actual value type: string"),
        ("start with", "abc", ["a"], "Expected value must be a string for startswith"),
        ("is", 5, "5", "Invalid actual value type: string or boolean"),
        ("=", "5", "5", "Invalid actual value type: number or boolean"),
        (">", "5", "5", "Invalid actual value type: number"),
        (">", 5, "five", "Cannot convert 'five' to number"),
        ("in", "a", "a,b", "Invalid expected value type: array"),
        ("all of", ["a"], "a", "all of operator expects homogeneous list"),
    ],
)
def test_type_errors(operator: str, actual: Any, expected: Any, message: str) -> None:
    with pytest.raises(ConditionError, match=message):
        _one(operator, actual, expected)


def test_booleans_read_their_expected_value() -> None:
    assert _one("is", True, True) is True
    assert _one("is", False, "false") is True  # JSON text
    assert _one("is", True, "1") is True
    assert _one("is not", False, True) is True
    assert _one("=", True, "true") is True  # bool() of a non-empty string
    assert _one("all of", [True, False], [True]) is True
    with pytest.raises(ConditionError):
        _one("is", True, "yes")


def test_missing_variable_is_an_error_but_none_is_a_value() -> None:
    pool = _pool(v=None)
    with pytest.raises(ConditionError, match=r"Variable \['n', 'gone'\] not found"):
        evaluate([Condition(("n", "gone"), "null")], "and", pool)
    assert evaluate([Condition(("n", "v"), "null")], "and", pool).final is True


def test_expected_values_render_templates() -> None:
    pool = _pool(text="a red apple", color="red", limit=9, n=10)
    conditions = [
        Condition(("n", "text"), "contains", "{{#n.color#}}"),
        Condition(("n", "n"), ">", "{{#n.limit#}}"),
    ]
    result = evaluate(conditions, "and", pool)
    assert result.final is True
    assert [i["expected_value"] for i in result.inputs] == ["red", "9"]
    assert result.inputs[0] == {
        "actual_value": "a red apple",
        "expected_value": "red",
        "comparison_operator": "contains",
    }


def test_and_or_short_circuit() -> None:
    pool = _pool(a="x", b="y")
    failing = Condition(("n", "missing"), "contains", "z")  # would raise if reached
    first_false = [Condition(("n", "a"), "is", "nope"), failing]
    result = evaluate(first_false, "and", pool)
    assert (result.final, result.group_results, len(result.inputs)) == (False, [False], 1)
    first_true = [Condition(("n", "a"), "is", "x"), failing]
    result = evaluate(first_true, "or", pool)
    assert (result.final, result.group_results) == (True, [True])
    both = [Condition(("n", "a"), "is", "nope"), Condition(("n", "b"), "is", "y")]
    assert evaluate(both, "or", pool).group_results == [False, True]
    assert evaluate([], "and", pool).final is True
    assert evaluate([], "or", pool).final is False


def _file(name: str, kind: str, size: int) -> FileValue:
    extension = "." + name.rsplit(".", 1)[1]
    return FileValue(kind, "remote_url", name, extension, "", size, f"https://x.test/{name}")


def test_file_lists_use_sub_conditions() -> None:
    files = [_file("photo.jpg", "image", 100), _file("terms.pdf", "document", 2048)]
    pool = _pool(files=files, one=[files[0]])
    subs = (SubCondition("extension", "is", "pdf"), SubCondition("type", "in", ["document"]))
    has_pdf = Condition(("n", "files"), "contains", "", "and", subs)
    assert evaluate([has_pdf], "and", pool).final is True
    only_image = Condition(("n", "one"), "contains", "", "and", subs)
    assert evaluate([only_image], "and", pool).final is False
    # A `not …` sub-condition must hold for every file.
    not_pdf = Condition(
        ("n", "files"),
        "not contains",
        "",
        "and",
        (SubCondition("extension", "is not", ".pdf"),),
    )
    assert evaluate([not_pdf], "and", pool).final is False
    assert evaluate(
        [Condition(("n", "one"), "not contains", "", "and", not_pdf.sub_conditions)], "and", pool
    ).final
    big = Condition(("n", "files"), "all of", "", "or", (SubCondition("size", ">", "1000"),))
    assert evaluate([big], "and", pool).final is True
    # Sub-conditions are not reported as inputs.
    assert evaluate([has_pdf], "and", pool).inputs == []


def test_file_list_errors() -> None:
    pool = _pool(files=[_file("a.pdf", "document", 1)])
    with pytest.raises(ConditionError, match="Sub variable is required"):
        evaluate([Condition(("n", "files"), "contains", "")], "and", pool)
    bad_key = Condition(("n", "files"), "contains", "", "and", (SubCondition("colour", "is", "x"),))
    with pytest.raises(ConditionError, match="not a valid FileAttribute"):
        evaluate([bad_key], "and", pool)
    bad_ext = Condition(
        ("n", "files"), "contains", "", "and", (SubCondition("extension", "in", ["pdf"]),)
    )
    with pytest.raises(ConditionError, match="FileAttribute.EXTENSION"):
        evaluate([bad_ext], "and", pool)


def test_empty_file_list_is_an_ordinary_empty_array() -> None:
    pool = _pool(files=[])
    sub = (SubCondition("extension", "is", "pdf"),)
    assert (
        evaluate([Condition(("n", "files"), "contains", "", "and", sub)], "and", pool).final
        is False
    )
    assert (
        evaluate([Condition(("n", "files"), "not contains", "", "and", sub)], "and", pool).final
        is True
    )


def test_existence_operators_report_no_inputs() -> None:
    pool = _pool(doc=_file("a.pdf", "document", 1))
    result = evaluate([Condition(("n", "doc"), "exists")], "and", pool)
    assert (result.final, result.inputs) == (True, [])


def test_compare_for_single_values() -> None:
    assert compare("contains", "apple", "pp") is True
    assert compare("empty", "") is True
    with pytest.raises(ConditionError, match="Unsupported operator"):
        compare("regex match", "a", "a")


def test_parse_reads_the_dsl_shape() -> None:
    raw = [
        {
            "id": "c1",
            "varType": "array[file]",
            "variable_selector": ["start", "files"],
            "comparison_operator": "contains",
            "value": "",
            "sub_variable_condition": {
                "logical_operator": "or",
                "conditions": [
                    {"id": "s", "key": "type", "comparison_operator": "in", "value": ["image"]}
                ],
            },
        },
        {"variable_selector": ["start", "n"], "comparison_operator": "≥", "value": 5},
    ]
    first, second = parse_conditions(raw)
    assert first.to_dict() == {
        "variable_selector": ["start", "files"],
        "comparison_operator": "contains",
        "value": "",
        "sub_variable_condition": {
            "logical_operator": "or",
            "conditions": [{"key": "type", "comparison_operator": "in", "value": ["image"]}],
        },
    }
    assert second.value == "5"
    assert parse_conditions(None) == ()
    assert parse_logical_operator(None) == "and"


@pytest.mark.parametrize(
    "raw",
    [
        "nope",
        [{"comparison_operator": "is", "value": "x"}],
        [{"variable_selector": ["a", "b"], "comparison_operator": "matches"}],
        [{"variable_selector": ["a", "b"], "comparison_operator": "is", "value": {"x": 1}}],
        [
            {
                "variable_selector": ["a", "b"],
                "comparison_operator": "contains",
                "sub_variable_condition": {"logical_operator": "xor", "conditions": []},
            }
        ],
    ],
)
def test_parse_refuses_what_cannot_run(raw: Any) -> None:
    with pytest.raises(InvalidConditions):
        parse_conditions(raw)
    with pytest.raises(InvalidConditions):
        parse_logical_operator("xor")
