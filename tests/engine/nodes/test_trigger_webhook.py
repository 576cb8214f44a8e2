"""trigger-webhook: the node's data read as Dify reads it, a call checked and converted
as Dify's webhook service checks it (its messages), the node's outputs from the call, and
the configured answer."""

from typing import Any

import pytest

from app.engine.nodes.base import NodeConfigError
from app.engine.nodes.trigger_webhook.entities import WebhookConfig, read_config
from app.engine.nodes.trigger_webhook.node import TriggerWebhookNode
from app.engine.nodes.trigger_webhook.request import (
    PendingFile,
    WebhookCall,
    WebhookRejected,
    accept,
)
from app.engine.nodes.trigger_webhook.response import configured_response
from app.engine.variables.pool import VariablePool
from app.engine.variables.values import FileValue
from tests.engine.nodes.single_node import context
from tests.engine.nodes.support import spec, workflow_run


def _config(**data: Any) -> WebhookConfig:
    return read_config({"type": "trigger-webhook", **data})


def _call(method: str = "POST", content_type: str = "application/json", **kw: Any) -> WebhookCall:
    return WebhookCall(
        method=method,
        headers=kw.pop("headers", {}),
        query_params=kw.pop("query", {}),
        content_type=content_type,
        body=kw.pop("body", {}),
        files=kw.pop("files", {}),
    )


def _rejected(config: WebhookConfig, call: WebhookCall) -> str:
    with pytest.raises(WebhookRejected) as caught:
        accept(config, call)
    return str(caught.value)


def test_defaults_and_config_errors() -> None:
    config = read_config({"type": "trigger-webhook"})
    assert (config.method, config.content_type, config.status_code) == (
        "get",
        "application/json",
        200,
    )
    assert _config(method="POST").method == "post"  # Dify lower-cases the method
    with pytest.raises(NodeConfigError, match="method"):
        _config(method="options")
    with pytest.raises(NodeConfigError, match="content type"):
        _config(content_type="application/xml")
    with pytest.raises(NodeConfigError, match="Unsupported webhook parameter type: array"):
        _config(params=[{"name": "x", "type": "array"}])
    with pytest.raises(NodeConfigError, match="Unsupported webhook body parameter type"):
        _config(body=[{"name": "x", "type": "secret"}])
    with pytest.raises(NodeConfigError, match="status_code"):
        _config(status_code="abc")


def test_method_then_content_type_are_checked() -> None:
    config = _config(method="post", content_type="application/json")
    message = _rejected(config, _call(method="GET"))
    assert message == "HTTP method mismatch. Expected POST, got GET"
    message = _rejected(config, _call(content_type="text/plain"))
    assert message == "Content-type mismatch. Expected application/json, got text/plain"


def test_required_headers_match_any_case_and_either_separator() -> None:
    config = _config(method="post", headers=[{"name": "X-Api-Key", "required": True}])
    assert _rejected(config, _call()) == "Required header missing: X-Api-Key"
    accept(config, _call(headers={"x-api-key": "k"}))
    accept(config, _call(headers={"X_API_KEY": "k"}))


def test_query_parameters_convert_from_text() -> None:
    config = _config(
        method="post",
        params=[
            {"name": "n", "type": "number", "required": True},
            {"name": "f", "type": "number"},
            {"name": "b", "type": "boolean"},
            {"name": "s"},
        ],
    )
    assert _rejected(config, _call()) == "Required parameter missing: n"
    accepted = accept(config, _call(query={"n": "3", "f": "2.5", "b": "Yes", "s": "x", "z": "1"}))
    assert accepted.query_params == {"n": 3, "f": 2.5, "b": True, "s": "x", "z": "1"}
    message = _rejected(config, _call(query={"n": "three"}))
    assert message == "Parameter 'n' validation failed: Cannot convert 'three' to number"
    message = _rejected(config, _call(query={"n": "1", "b": "maybe"}))
    assert message == "Parameter 'b' validation failed: Cannot convert 'maybe' to boolean"
    objects = _config(method="post", params=[{"name": "o", "type": "object"}])
    message = _rejected(objects, _call(query={"o": "{}"}))
    assert message == (
        "Parameter 'o' validation failed: Unsupported type 'object' for form data parameter 'o'"
    )


def test_json_body_fields_keep_their_type_which_must_match() -> None:
    config = _config(
        method="post",
        body=[
            {"name": "name", "type": "string", "required": True},
            {"name": "tags", "type": "array[string]"},
            {"name": "count", "type": "number"},
            {"name": "meta", "type": "object"},
        ],
    )
    assert _rejected(config, _call()) == "Required body parameter missing: name"
    body = {"name": "Ada", "tags": ["a", "b"], "count": 2, "meta": {"k": 1}, "extra": [1]}
    assert accept(config, _call(body=body)).body == body
    message = _rejected(config, _call(body={"name": 5}))
    assert message == "Parameter 'name' validation failed: Expected string, got int"
    message = _rejected(config, _call(body={"name": "a", "tags": ["a", 2]}))
    assert message == "Parameter 'tags' validation failed: Expected array of strings, got list"
    message = _rejected(config, _call(body={"name": "a", "meta": None}))
    assert message == "Parameter 'meta' validation failed: Expected object, got NoneType"


def test_form_fields_convert_and_form_files_travel_apart() -> None:
    config = _config(
        method="post",
        content_type="multipart/form-data",
        body=[
            {"name": "age", "type": "number", "required": True},
            {"name": "doc", "type": "file", "required": True},
        ],
    )
    pending = PendingFile("a.txt", "text/plain", b"hi")
    call = _call(content_type="multipart/form-data", body={"age": "41"}, files={"doc": pending})
    accepted = accept(config, call)
    assert accepted.body == {"age": 41} and accepted.files == {"doc": pending}


def test_text_and_binary_bodies_are_one_value() -> None:
    text = _config(method="post", content_type="text/plain", body=[{"name": "t", "required": 1}])
    message = _rejected(text, _call(content_type="text/plain", body={"raw": ""}))
    assert message == "Required body content missing for text/plain request"
    assert accept(text, _call(content_type="text/plain", body={"raw": "hey"})).body == {
        "raw": "hey"
    }
    binary = _config(
        method="post", content_type="application/octet-stream", body=[{"name": "b", "required": 1}]
    )
    call = _call(content_type="application/octet-stream", body={"raw": None})
    assert _rejected(binary, call) == (
        "Required body content missing for application/octet-stream request"
    )


async def test_outputs_from_a_call() -> None:
    data = {
        "type": "trigger-webhook",
        "method": "post",
        "headers": [{"name": "X-Api-Key"}, {"name": "user_agent"}],
        "params": [{"name": "page", "type": "number"}],
        "body": [{"name": "name"}, {"name": "missing"}],
    }
    node = TriggerWebhookNode(spec("trigger-webhook", data, "hook"))
    call = {
        "method": "POST",
        "headers": {"x-api-key": "secret", "User-Agent": "curl"},
        "query_params": {"page": 2},
        "body": {"name": "Ada"},
        "files": {},
    }
    outputs = node.outputs(call)
    assert outputs["X_Api_Key"] == "secret"
    assert outputs["user_agent"] == "curl"  # `_` finds the `-` spelling
    assert outputs["page"] == 2 and outputs["name"] == "Ada" and outputs["missing"] is None
    assert outputs["_webhook_raw"] == call
    ctx = context(node.spec, VariablePool({"user_id": "DEFAULT-USER", "app_id": "app"}))
    ctx.workflow = workflow_run(inputs={"webhook_data": call})
    result = await node.run(ctx)
    assert result.outputs["sys.user_id"] == "DEFAULT-USER"
    assert result.outputs["name"] == "Ada"
    assert result.inputs == {"webhook_data": call}


def test_text_binary_and_file_outputs() -> None:
    text = TriggerWebhookNode(
        spec("trigger-webhook", {"content_type": "text/plain", "body": [{"name": "t"}]})
    )
    assert text.outputs({"body": {"raw": "hello"}})["t"] == "hello"
    file = FileValue("document", "tool_file", "a.bin", ".bin", "application/octet-stream", 3)
    octet = {"content_type": "application/octet-stream", "body": [{"name": "b"}]}
    binary = TriggerWebhookNode(spec("trigger-webhook", octet))
    assert binary.outputs({"body": {"raw": file}})["b"] is file
    form = TriggerWebhookNode(
        spec(
            "trigger-webhook",
            {"content_type": "multipart/form-data", "body": [{"name": "doc", "type": "file"}]},
        )
    )
    assert form.outputs({"files": {"doc": file}})["doc"] is file
    assert form.outputs({"files": {}})["doc"] is None


def test_configured_answer() -> None:
    assert configured_response(_config()) == (
        200,
        {"status": "success", "message": "Webhook processed successfully"},
    )
    assert configured_response(_config(status_code=202, response_body='{"ok": true}')) == (
        202,
        {"ok": True},
    )
    assert configured_response(_config(response_body="[1, 2]")) == (200, [1, 2])
    assert configured_response(_config(response_body="thanks")) == (200, {"message": "thanks"})
    assert configured_response(_config(response_body="{not json")) == (
        200,
        {"message": "{not json"},
    )
