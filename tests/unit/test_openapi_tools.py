"""OpenAPI tools (`provider_type: api`) against a local API (tests/support/openapi_server.py):
tools derived per operation as Dify derives them, parameters placed in path, query, header,
cookie and body, each auth type checked by the server, errors, files, size and time caps,
and the SSRF guard (the local API is reachable only through the allow-list)."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.integrations.config import ApiAuth, parse_integrations
from app.integrations.tools.base import (
    ToolCall,
    ToolError,
    ToolFile,
    ToolNotConfigured,
    ToolOutput,
    ToolRef,
)
from app.integrations.tools.openapi import OpenApiToolProvider
from app.integrations.tools.openapi.document import SchemaError, parse_document
from app.integrations.tools.openapi.operations import derive_operations
from app.integrations.tools.openapi.request import prepare
from app.integrations.tools.openapi.response import EMPTY
from app.net.http_node import GuardedHttpCaller
from app.net.ssrf import AllowList
from tests.support.openapi_server import API_KEY, BASIC, BEARER, DOCUMENT, openapi_server

LOOPBACK = AllowList.parse("127.0.0.1/32")
CALL = ToolCall(user_id="u", app_id="a")


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    with openapi_server() as url:
        yield url


def provider(
    tmp_path: Path,
    entries: dict[str, Any],
    allow: AllowList = LOOPBACK,
    max_bytes: int = 1024 * 1024,
) -> OpenApiToolProvider:
    (tmp_path / "pets.yaml").write_text(yaml.safe_dump(DOCUMENT, sort_keys=False))
    source = tmp_path / "integrations.yaml"
    text = yaml.safe_dump({"tools": {"openapi": entries}})
    source.write_text(text)
    integrations = parse_integrations(text, source)
    return OpenApiToolProvider(
        integrations, GuardedHttpCaller(allow), allow, max_response_bytes=max_bytes
    )


def ref(tool: str, name: str = "pets", provider_id: str = "6c1f0d9e-uuid") -> ToolRef:
    return ToolRef("api", provider_id, tool, provider_name=name)


async def call(p: OpenApiToolProvider, tool: str, arguments: dict[str, Any]) -> ToolOutput:
    found = await p.find(ref(tool))
    assert found is not None
    return await found.invoke(arguments, CALL)


# -- deriving tools ---------------------------------------------------------------------


def test_one_tool_per_operation_named_as_dify_names_them() -> None:
    operations = derive_operations(parse_document(json.dumps(DOCUMENT)))
    assert "<root>_get" in operations  # `/` without an operationId
    assert {"getPet", "addPet", "sendForm", "upload", "bearerOnly"} <= set(operations)
    bare = derive_operations(
        parse_document(
            yaml.safe_dump(
                {
                    "openapi": "3.0.3",
                    "info": {"title": "t"},
                    "servers": [{"url": "http://x"}],
                    "paths": {
                        "/api/resources": {"get": {}, "post": {"operationId": "create"}},
                        "/pets/{id}/toys.json": {"delete": {}},
                    },
                }
            )
        )
    )
    assert set(bare) == {"apiresources_get", "create", "petsidtoysjson_delete"}


def test_parameters_come_from_parameters_and_the_body_with_refs_resolved() -> None:
    operations = derive_operations(parse_document(yaml.safe_dump(DOCUMENT, sort_keys=False)))
    get_pet = {p.name: p for p in operations["getPet"].parameters}
    assert list(get_pet) == ["petId", "verbose", "tag", "limit", "X-Trace", "session"]
    assert (get_pet["petId"].type, get_pet["petId"].required) == ("number", True)
    assert get_pet["petId"].description == "The pet's id"
    assert get_pet["verbose"].type == "boolean"
    assert get_pet["tag"].type == "array"
    assert (get_pet["limit"].type, get_pet["limit"].default) == ("number", 5)
    assert get_pet["X-Trace"].required
    assert operations["getPet"].description == "Read one pet"

    add_pet = {p.name: p for p in operations["addPet"].parameters}
    assert list(add_pet) == ["name", "age", "weight", "vaccinated", "tags", "owner", "kind"]
    assert (add_pet["name"].type, add_pet["name"].required) == ("string", True)
    assert add_pet["name"].description == "The pet's name"
    assert add_pet["age"].type == add_pet["weight"].type == "number"
    assert add_pet["tags"].default is None  # Dify drops `[]` and `{}` defaults
    assert add_pet["owner"].type == "string"  # objects are strings to Dify's parser
    assert add_pet["kind"].options == ("dog", "cat")
    assert operations["addPet"].description == "Add a pet"
    upload = {p.name: p for p in operations["upload"].parameters}
    assert upload["file"].type == "file"


def test_swagger_2_is_converted_with_its_host_body_and_form_parameters() -> None:
    swagger = {
        "swagger": "2.0",
        "info": {"title": "old"},
        "host": "api.example.com",
        "basePath": "/v1",
        "schemes": ["https"],
        "paths": {
            "/users/{id}": {
                "put": {
                    "operationId": "putUser",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "type": "integer"},
                        {"name": "body", "in": "body", "schema": {"$ref": "#/definitions/User"}},
                    ],
                }
            },
            "/files": {
                "post": {
                    "operationId": "postFile",
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"name": "upload", "in": "formData", "type": "file"},
                        {"name": "title", "in": "formData", "type": "string", "required": True},
                    ],
                }
            },
        },
        "definitions": {
            "User": {
                "type": "object",
                "required": ["email"],
                "properties": {"email": {"type": "string"}, "age": {"type": "integer"}},
            }
        },
    }
    document = parse_document(json.dumps(swagger))
    assert document["servers"] == [{"url": "https://api.example.com/v1"}]
    operations = derive_operations(document)
    put_user = {p.name: p for p in operations["putUser"].parameters}
    assert (put_user["id"].type, put_user["email"].required, put_user["age"].type) == (
        "number",
        True,
        "number",
    )
    arguments = {"id": 7, "email": "a@b", "age": "3"}
    request = prepare(operations["putUser"], "https://api.example.com/v1", arguments, ApiAuth(), {})
    assert request.url == "https://api.example.com/v1/users/7"
    assert json.loads(request.content or b"") == {"email": "a@b", "age": 3}
    post_file = {p.name: p for p in operations["postFile"].parameters}
    assert post_file["upload"].type == "file" and post_file["title"].required


def test_documents_that_are_not_openapi_are_refused() -> None:
    with pytest.raises(SchemaError, match="neither JSON nor YAML"):
        parse_document("- a\n- b\n")
    with pytest.raises(SchemaError, match="not an OpenAPI 3"):
        parse_document('{"openapi": "2.5", "paths": {}}')
    with pytest.raises(SchemaError, match="points at nothing"):
        derive_operations(
            parse_document(
                json.dumps(
                    {
                        "openapi": "3.0.0",
                        "paths": {"/a": {"get": {"parameters": [{"$ref": "#/nowhere/x"}]}}},
                    }
                )
            )
        )


# -- calling the local API --------------------------------------------------------------


async def test_path_query_header_and_cookie_parameters(api: str, tmp_path: Path) -> None:
    p = provider(tmp_path, {"pets": {"schema": f"{api}/openapi.yaml"}})
    out = await call(
        p,
        "getPet",
        {"petId": 42, "verbose": True, "tag": ["a", "b"], "X-Trace": "t-1", "session": "s9"},
    )
    echoed = json.loads(out.text)
    assert out.json == [echoed]  # a JSON object: a JSON message and the text, as in Dify
    assert echoed == {
        "petId": "42",
        "query": {"verbose": ["true"], "tag": ["a", "b"], "limit": ["5"]},
        "trace": "t-1",
        "cookie": "session=s9",
    }


async def test_missing_required_parameter_fails_before_any_request(
    api: str, tmp_path: Path
) -> None:
    p = provider(tmp_path, {"pets": {"schema": f"{api}/openapi.json"}})
    with pytest.raises(ToolError, match="Missing required parameter X-Trace"):
        await call(p, "getPet", {"petId": 1})
    with pytest.raises(ToolError, match="^Missing required parameter name$"):
        await call(p, "addPet", {"age": 3})


async def test_json_body_with_values_converted_to_their_types(api: str, tmp_path: Path) -> None:
    p = provider(tmp_path, {"pets": {"schema": f"{api}/openapi.json"}})
    out = await call(
        p,
        "addPet",
        {
            "name": "Rex",
            "age": "3",
            "weight": "4.5",
            "vaccinated": "false",
            "tags": '["good", "dog"]',
            "owner": '{"email": "o@example.com"}',
        },
    )
    assert out.json == [
        {
            "created": {
                "name": "Rex",
                "age": 3,
                "weight": 4.5,
                "vaccinated": False,
                "tags": ["good", "dog"],
                "owner": {"email": "o@example.com"},
                "kind": "dog",  # the schema default of a property not given
            }
        }
    ]


async def test_form_and_multipart_bodies(api: str, tmp_path: Path) -> None:
    p = provider(tmp_path, {"pets": {"schema": f"{api}/openapi.json"}})
    form = await call(p, "sendForm", {"q": "hello world", "n": "2"})
    assert form.json == [
        {
            "type": "application/x-www-form-urlencoded",
            "form": {"q": ["hello world"], "n": ["2"], "lang": ["en"]},
        }
    ]
    upload = await call(
        p,
        "upload",
        {"file": ToolFile("text/csv", "data.csv", content=b"x,y\n"), "note": "first"},
    )
    sent = upload.json[0]
    assert sent["type"] == "multipart/form-data"
    assert 'name="file"; filename="data.csv"' in sent["raw"]
    assert "Content-Type: text/csv\r\n\r\nx,y\n" in sent["raw"]
    assert 'name="note"\r\n\r\nfirst' in sent["raw"]


@pytest.mark.parametrize(
    ("tool", "auth"),
    [
        ("bearerOnly", {"type": "bearer", "token": BEARER}),
        (
            "keyHeader",
            {"type": "api_key", "header": "X-API-Key", "prefix": "Token", "key": API_KEY},
        ),
        ("keyQuery", {"type": "api_key", "query_param": "api_key", "key": API_KEY}),
        ("basicOnly", {"type": "basic", "username": BASIC[0], "password": BASIC[1]}),
    ],
)
async def test_each_auth_type_is_checked_by_the_server(
    api: str, tmp_path: Path, tool: str, auth: dict[str, str]
) -> None:
    p = provider(tmp_path, {"pets": {"schema": f"{api}/openapi.json", "auth": auth}})
    assert (await call(p, tool, {})).json == [{"authorized": True}]
    bare = provider(tmp_path, {"pets": {"schema": f"{api}/openapi.json"}})
    with pytest.raises(ToolError, match="Request failed with status code 401 and unauthorized"):
        await call(bare, tool, {})


async def test_operator_headers_and_base_url_override(api: str, tmp_path: Path) -> None:
    p = provider(
        tmp_path,
        {
            "pets": {
                "schema": "pets.yaml",  # relative to the integrations file
                "base_url": f"{api}/api",
                "headers": {"X-Trace": "from-operator"},
            }
        },
    )
    out = await call(p, "getPet", {"petId": 1, "X-Trace": "from-call"})
    assert json.loads(out.text)["trace"] == "from-call"  # a header parameter wins
    assert json.loads(out.text)["cookie"] is None  # an absent optional cookie is left out
    root = await call(p, "<root>_get", {})
    assert root.json == [{"root": True}]


async def test_replies_as_text_files_and_errors(api: str, tmp_path: Path) -> None:
    p = provider(tmp_path, {"pets": {"schema": f"{api}/openapi.json"}}, max_bytes=1024 * 1024)
    assert await call(p, "text", {}) == ToolOutput(text="plain words, ünïcode")
    assert await call(p, "redirect", {}) == ToolOutput(text="plain words, ünïcode")
    listed = await call(p, "listPets", {})
    assert (listed.text, listed.json) == ('[{"id": 1}, {"id": 2}]', [])
    assert await call(p, "empty", {}) == ToolOutput(text=EMPTY)
    report = await call(p, "report", {})
    assert report.files == [ToolFile("text/csv", "report.csv", content=b"a,b\n1,2\n")]
    assert report.text == ""
    with pytest.raises(ToolError, match="Request failed with status code 500 and the server broke"):
        await call(p, "fail", {})
    with pytest.raises(ToolError, match="larger than 1048576 bytes"):
        await call(p, "big", {})


async def test_a_slow_api_is_cut_at_the_timeout(api: str, tmp_path: Path) -> None:
    p = provider(tmp_path, {"pets": {"schema": f"{api}/openapi.json", "timeout": 0.5}})
    with pytest.raises(ToolError, match=r"tools.openapi.pets` did not answer within 0.5 s"):
        await call(p, "slow", {})


async def test_the_ssrf_guard_stands_between_tools_and_internal_hosts(
    api: str, tmp_path: Path
) -> None:
    closed = provider(
        tmp_path,
        {"pets": {"schema": "pets.yaml", "base_url": f"{api}/api"}},
        allow=AllowList(),
    )
    with pytest.raises(ToolError, match="not reachable: .*disallowed address.*SSRF"):
        await call(closed, "text", {})
    by_url = provider(tmp_path, {"pets": {"schema": f"{api}/openapi.json"}}, allow=AllowList())
    with pytest.raises(ToolError, match="cannot fetch the OpenAPI document of `tools.openapi"):
        await by_url.find(ref("text"))


# -- what the operator must configure ---------------------------------------------------


async def test_unconfigured_providers_name_the_setting(tmp_path: Path) -> None:
    p = provider(tmp_path, {})
    reason = p.check(ref("getPet", name="weather"))
    assert reason is not None
    assert "OpenAPI tool weather/getPet is not configured" in reason
    assert "add `tools.openapi.weather`" in reason and "integrations.yaml" in reason
    with pytest.raises(ToolNotConfigured, match=r"tools\.openapi\.weather"):
        await p.find(ref("getPet", name="weather"))
    other = ToolRef("builtin", "time", "current_time")
    assert p.check(other) is None and await p.find(other) is None


async def test_entries_match_by_id_or_name_and_list_missing_operations(tmp_path: Path) -> None:
    p = provider(tmp_path, {"6c1f0d9e-uuid": {"schema": "pets.yaml", "base_url": "http://x"}})
    assert p.check(ref("getPet", name="renamed")) is None
    reason = p.check(ref("nope", name="renamed"))
    assert reason is not None and "has no operation `nope`" in reason and "getPet" in reason
    with pytest.raises(ToolNotConfigured, match="has no operation `nope`"):
        await p.find(ref("nope", name="renamed"))
    found = await p.find(ref("getPet", name="renamed"))
    assert found is not None and found.spec.label == "getPet"
    schema = found.spec.json_schema()
    assert schema["required"] == ["petId", "X-Trace"]
    assert schema["properties"]["petId"]["type"] == "number"


async def test_bad_auth_schema_and_server_entries(tmp_path: Path) -> None:
    p = provider(tmp_path, {"pets": {"schema": "pets.yaml", "auth": {"type": "bearer"}}})
    assert "`tools.openapi.pets.auth` of type bearer needs `token`" in (p.check(ref("x")) or "")
    missing = provider(tmp_path, {"pets": {"schema": "missing.yaml"}})
    assert "cannot be read" in (missing.check(ref("getPet")) or "")
    relative = provider(tmp_path, {"pets": {"schema": "pets.yaml"}})
    with pytest.raises(ToolError, match="relative server URL \\(/api\\): set `tools.openapi"):
        await relative.find(ref("getPet"))


def test_the_runtime_registers_openapi_and_mcp_providers(tmp_path: Path) -> None:
    from app.core.config import Settings
    from app.integrations.tools.runtime import ToolBox

    (tmp_path / "pets.yaml").write_text(yaml.safe_dump(DOCUMENT, sort_keys=False))
    file = tmp_path / "integrations.yaml"
    file.write_text(
        yaml.safe_dump(
            {
                "tools": {
                    "openapi": {"pets": {"schema": "pets.yaml", "base_url": "http://x"}},
                    "mcp": {"docs": {"url": "http://127.0.0.1:1/mcp"}},
                }
            }
        )
    )
    box = ToolBox.from_settings(Settings(integrations_file=str(file)))
    assert box.serves("api") and box.serves("mcp")
    assert box.check(ref("getPet")) is None
    assert box.check(ToolRef("mcp", "docs", "anything")) is None
    assert "has no operation `nope`" in (box.check(ref("nope")) or "")
    assert "tools.mcp.elsewhere" in (box.check(ToolRef("mcp", "elsewhere", "x")) or "")
