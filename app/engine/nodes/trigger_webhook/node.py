"""`trigger-webhook`: the entry point of a run a webhook call started. Like `start`, it only
hands the call on: the configured headers (names with `-` as `_`), query parameters and
body fields as outputs, the whole call as `_webhook_raw`, and the system variables.

The call was checked and its files stored before the run began (the webhook service,
with request.py); the run's inputs carry it as Dify's `webhook_data`."""

from collections.abc import Mapping
from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeContext, NodeResult
from app.engine.nodes.trigger_webhook.entities import BINARY, TEXT, WebhookConfig, read_config
from app.engine.nodes.trigger_webhook.request import sanitized
from app.engine.variables.pool import SYSTEM


def _lookup(mapping: Mapping[str, Any], name: str) -> Any:
    """By the name, else with `-` and `_` swapped (a header named either way)."""
    if name in mapping:
        return mapping[name]
    other = name.replace("-", "_") if "-" in name else name.replace("_", "-")
    return mapping.get(other)


class TriggerWebhookNode(Node):
    node_type = "trigger-webhook"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        self.config: WebhookConfig = read_config(self.data)

    async def run(self, ctx: NodeContext) -> NodeResult:
        inputs = dict(ctx.workflow.inputs)
        raw = inputs.get("webhook_data")
        call: dict[str, Any] = raw if isinstance(raw, dict) else {}
        outputs = self.outputs(call)
        for key, value in ctx.pool.scope(SYSTEM).items():
            outputs[f"sys.{key}"] = value
        return NodeResult(outputs=outputs, inputs=inputs)

    def outputs(self, call: dict[str, Any]) -> dict[str, Any]:
        config = self.config
        found: dict[str, Any] = {}
        headers = call.get("headers") or {}
        lowered = {str(k).lower(): v for k, v in headers.items()}
        for header in config.headers:
            value = _lookup(headers, header.name)
            if value is None:
                value = _lookup(lowered, header.name.lower())
            found[sanitized(header.name)] = value
        query = call.get("query_params") or {}
        for param in config.params:
            found[param.name] = query.get(param.name)
        body = call.get("body") or {}
        files = call.get("files") or {}
        for field in config.body:
            if config.content_type == TEXT:  # the whole body is the one value
                found[field.name] = str(body.get("raw", ""))
            elif config.content_type == BINARY:
                found[field.name] = body.get("raw")
            elif field.type == "file":
                # Dify hands over its whole files mapping when the file is missing; a
                # missing file is None here, which a file variable can hold.
                found[field.name] = files.get(field.name)
            else:
                found[field.name] = body.get(field.name)
        found["_webhook_raw"] = call
        return found
