"""`knowledge-retrieval`: the query variable → the mapped knowledge bases (the integrations
file's `knowledge` section, reached through `ctx.workflow.services.knowledge`) → `result`,
Dify's list of `{content, title, metadata: {_source: "knowledge", position, dataset_id,
dataset_name, document_id, document_name, data_source_type: "external", ...}}` records.

As in Dify: no query selector succeeds with no outputs (with only an attachment selector:
an empty `result`, external datasets retrieve by text); a query that is not a string fails
("Query variable is not string type."); an empty query retrieves nothing. Unlike Dify
(which skips datasets it cannot find), a dataset the integrations file does not map fails
the node, naming the dataset and the setting, and so does a failing retrieval service: the
node's error strategy decides what follows. Single and multiple mode, routing, reranking
and metadata filtering: app/engine/knowledge."""

from collections.abc import Callable
from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.knowledge.metadata import metadata_condition
from app.engine.knowledge.retrieve import Retrieval, retrieve
from app.engine.knowledge.settings import RetrievalConfigError, from_node
from app.engine.knowledge.sources import result_items
from app.engine.nodes.base import Node, NodeConfigError, NodeContext, NodeError, NodeResult, Usage
from app.engine.variables.pool import VariablePool
from app.engine.variables.templates import parse_template, render
from app.gateway.pricing import build_usage, empty_usage
from app.integrations.knowledge.client import ExternalKnowledge
from app.integrations.knowledge.errors import KnowledgeError

NOT_A_STRING = "Query variable is not string type."


def _filled(pool: VariablePool) -> Callable[[str], Any]:
    """A metadata condition's value from the pool: a lone `{{#node.var#}}` holding a
    number stays a number, anything else renders as text."""

    def fill(text: str) -> Any:
        parts = parse_template(text)
        if len(parts) == 1 and isinstance(parts[0], tuple):
            value = pool.get(parts[0])
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
        return render(text, pool)

    return fill


def _usage(retrieval: Retrieval) -> tuple[Usage, dict[str, Any]]:
    """The routing model's usage (zero when no model was asked), as the node reports it."""
    routed = retrieval.routed
    if routed is None or routed.usage is None:
        return Usage(), empty_usage()
    counted = routed.usage
    usage = build_usage(
        routed.provider, routed.model, counted.prompt_tokens, counted.completion_tokens, 0.0
    )
    return (
        Usage(
            counted.prompt_tokens,
            counted.completion_tokens,
            str(usage.get("total_price") or "0"),
            str(usage.get("currency") or "USD"),
        ),
        usage,
    )


class KnowledgeRetrievalNode(Node):
    node_type = "knowledge-retrieval"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        selector = spec.data.get("query_variable_selector")
        self.query_selector = (
            tuple(str(part) for part in selector)
            if isinstance(selector, list) and selector
            else None
        )
        # Newer exports may query by image attachments too (Dify's multimodal retrieval).
        self.attachments = bool(spec.data.get("query_attachment_selector"))
        try:
            self.config = from_node(spec.data)
        except RetrievalConfigError as exc:
            raise NodeConfigError(str(exc)) from None

    async def run(self, ctx: NodeContext) -> NodeResult:
        service = ctx.workflow.services.knowledge or ExternalKnowledge({})
        if self.query_selector is None:
            if not self.attachments:
                return NodeResult(usage=Usage())
            # Attachments only: Dify's external datasets retrieve by text, so nothing.
            try:
                for dataset_id in self.config.dataset_ids:
                    service.describe(dataset_id)
            except KnowledgeError as exc:
                raise NodeError(str(exc), type(exc).__name__) from None
            return NodeResult(outputs={"result": []}, usage=Usage())
        query = ctx.pool.get(self.query_selector)
        if not isinstance(query, str):
            raise NodeError(NOT_A_STRING, "KnowledgeRetrievalNodeError")
        inputs: dict[str, Any] = {"query": query}
        condition = metadata_condition(self.config.metadata, _filled(ctx.pool)) if query else None
        try:
            retrieval = await retrieve(service, ctx.run.gateway, self.config, query, condition)
        except KnowledgeError as exc:
            raise NodeError(str(exc), type(exc).__name__, inputs=inputs) from None
        except ValueError as exc:  # single mode without its routing model
            raise NodeError(str(exc), "KnowledgeRetrievalNodeError", inputs=inputs) from None
        usage, reported = _usage(retrieval)
        return NodeResult(
            outputs={"result": result_items(retrieval.hits)},
            inputs=inputs,
            process_data={"usage": reported},
            usage=usage,
        )
