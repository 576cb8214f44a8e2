"""json_process (JSONPath parse, insert, replace, delete) and the codecs (Base64, URL)."""

import json

import pytest

from app.integrations.tools.base import ToolError
from tests.unit.tools.support import CALL, ref, toolbox

DOC = json.dumps(
    {
        "store": {"book": [{"title": "Kiln", "price": 8}, {"title": "Clay", "price": 12}]},
        "name": "café",
    }
)


async def run(provider: str, tool: str, **arguments: object) -> str:
    output = await toolbox().invoke(ref(provider, tool), dict(arguments), CALL)
    return output.text


async def test_parse() -> None:
    assert (
        await run("json_process", "parse", content=DOC, json_filter="$.store.book[0].title")
        == "Kiln"
    )
    assert (
        await run("json_process", "parse", content=DOC, json_filter="$.store.book[*].price")
        == "[8, 12]"
    )
    assert await run("json_process", "parse", content=DOC, json_filter="$.name") == "café"
    assert (
        json.loads(await run("json_process", "parse", content=DOC, json_filter="$.store"))
        == json.loads(DOC)["store"]
    )
    assert await run("json_process", "parse", content=DOC, json_filter="$.nothing") == ""
    assert (
        await run("json_process", "parse", content="", json_filter="$.a")
        == "Invalid parameter content"
    )
    assert "Expecting property name" in await run(
        "json_process", "parse", content="{bad", json_filter="$.a"
    )
    ascii_only = await run(
        "json_process", "parse", content=json.dumps({"a": {"b": "é"}}), json_filter="$.a"
    )
    assert ascii_only == '{"b": "\\u00e9"}'
    kept = await run(
        "json_process",
        "parse",
        content=json.dumps({"a": {"b": "é"}}),
        json_filter="$.a",
        ensure_ascii="false",
    )
    assert kept == '{"b": "é"}'


async def test_insert_replace_delete() -> None:
    added = json.loads(
        await run(
            "json_process",
            "json_insert",
            content=DOC,
            query="$.store.book",
            new_value='{"title": "Glaze"}',
            value_decode=True,
        )
    )
    assert added["store"]["book"][-1] == {"title": "Glaze"}
    created = json.loads(
        await run(
            "json_process",
            "json_insert",
            content="{}",
            query="$.a.b",
            new_value="x",
            create_path="True",
        )
    )
    assert created == {"a": {"b": "x"}}
    untouched = json.loads(
        await run(
            "json_process",
            "json_insert",
            content="{}",
            query="$.a.b",
            new_value="x",
            create_path="False",
        )
    )
    assert untouched == {}
    renamed = json.loads(
        await run(
            "json_process",
            "json_replace",
            content=DOC,
            query="$.name",
            replace_value="label",
            replace_model="key",
        )
    )
    assert renamed["label"] == "café" and "name" not in renamed
    valued = json.loads(
        await run(
            "json_process",
            "json_replace",
            content=DOC,
            query="$.store.book[*].price",
            replace_value="0",
            replace_model="value",
            value_decode=True,
        )
    )
    assert [b["price"] for b in valued["store"]["book"]] == [0, 0]
    patterned = json.loads(
        await run(
            "json_process",
            "json_replace",
            content=DOC,
            query="$.store.book[0].title",
            replace_pattern="Ki",
            replace_value="Ke",
            replace_model="pattern",
        )
    )
    assert patterned["store"]["book"][0]["title"] == "Keln"
    removed = json.loads(
        await run("json_process", "json_delete", content=DOC, query="store.book[0]")
    )
    assert removed["store"]["book"] == [{"title": "Clay", "price": 12}]
    without = json.loads(await run("json_process", "json_delete", content=DOC, query="$.name"))
    assert "name" not in without


async def test_objects_from_variables_are_read_as_json() -> None:
    text = await run("json_process", "parse", content={"a": [1, 2]}, json_filter="$.a[1]")
    assert text == "2"


async def test_base64_codec() -> None:
    assert await run("base64_codec", "base64_encoder", plain_text="kiln ✓") == "a2lsbiDinJM="
    assert await run("base64_codec", "base64_decoder", encoded_text="a2lsbiDinJM=") == "kiln ✓"
    assert (
        await run("base64_codec", "base64_encoder", plain_text="\xff\xfe>?", urlsafe_enabled="true")
        == "w7_Dvj4_"
    )
    assert (
        await run("base64_codec", "base64_decoder", encoded_text="w7_Dvj4_", urlsafe_enabled="true")
        == "\xff\xfe>?"
    )
    assert await run("base64_codec", "base64_encoder", plain_text="") == ""
    with pytest.raises(ToolError, match="Failed to decode Base64"):
        await run("base64_codec", "base64_decoder", encoded_text="gA==")
    # the marketplace plugin's reference
    output = await toolbox().invoke(
        ref("bowenliang123/base64_codec/base64_codec", "base64_encoder"), {"plain_text": "a"}, CALL
    )
    assert output.text == "YQ=="


async def test_url_codec() -> None:
    assert await run("url_codec", "url_encoder", plain_text="a b&c/é") == "a%20b%26c%2F%C3%A9"
    assert await run("url_codec", "url_encoder", plain_text="a b", plus_enabled="true") == "a+b"
    assert await run("url_codec", "url_decoder", encoded_text="a%20b%26c%2F%C3%A9") == "a b&c/é"
    assert await run("url_codec", "url_decoder", encoded_text="a+b", plus_enabled="true") == "a b"
