"""Arguments cast to parameter types as Dify casts them, defaults filled."""

import pytest

from app.integrations.tools.base import ToolError, ToolParameter
from app.integrations.tools.builtin.params import cast, coerce


@pytest.mark.parametrize(
    "kind,value,expected",
    [
        ("string", 5, "5"),
        ("string", None, ""),
        ("string", {"a": [1]}, '{"a": [1]}'),
        ("select", 0, "0"),
        ("number", "5", 5),
        ("number", "2.5", 2.5),
        ("number", "", None),
        ("number", True, 1),
        ("boolean", "true", True),
        ("boolean", "No", False),
        ("boolean", 0, False),
        ("boolean", None, False),
        ("array", '["a"]', ["a"]),
        ("array", "a", ["a"]),
        ("object", '{"k": 1}', {"k": 1}),
        ("files", {"f": 1}, [{"f": 1}]),
        ("file", [{"f": 1}], {"f": 1}),
    ],
)
def test_cast(kind: str, value: object, expected: object) -> None:
    assert cast(kind, value) == expected


def test_coerce_fills_defaults_and_keeps_undeclared_arguments() -> None:
    parameters = (
        ToolParameter("n", "number", default=3),
        ToolParameter("flag", "boolean"),
        ToolParameter("name", "string"),
    )
    assert coerce(parameters, {"n": None, "extra": [1], "flag": "1"}) == {
        "n": 3,
        "flag": True,
        "extra": [1],
    }
    with pytest.raises(ToolError, match="not in correct type of number"):
        coerce(parameters, {"n": "many"})
    with pytest.raises(ToolError, match="only accepts one file"):
        coerce((ToolParameter("f", "file"),), {"f": [1, 2]})
