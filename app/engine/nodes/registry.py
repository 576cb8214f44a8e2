"""DSL node type id → node class. A type missing here imports with a warning and fails
when a run reaches it (nodes/unavailable.py)."""

from app.engine.graph.model import NodeSpec
from app.engine.nodes.agent.node import AgentNode
from app.engine.nodes.answer.node import AnswerNode
from app.engine.nodes.assigner.node import AssignerNode
from app.engine.nodes.base import Node, NodeConfigError
from app.engine.nodes.code.node import CodeNode
from app.engine.nodes.document_extractor.node import DocumentExtractorNode
from app.engine.nodes.end.node import EndNode
from app.engine.nodes.http_request.node import HttpRequestNode
from app.engine.nodes.human_input.node import HumanInputNode
from app.engine.nodes.if_else.node import IfElseNode
from app.engine.nodes.iteration.node import IterationNode
from app.engine.nodes.knowledge_retrieval.node import KnowledgeRetrievalNode
from app.engine.nodes.list_operator.node import ListOperatorNode
from app.engine.nodes.llm.node import LLMNode
from app.engine.nodes.loop.node import LoopNode
from app.engine.nodes.parameter_extractor.node import ParameterExtractorNode
from app.engine.nodes.passthrough.node import IterationStartNode, LoopEndNode, LoopStartNode
from app.engine.nodes.question_classifier.node import QuestionClassifierNode
from app.engine.nodes.start.node import StartNode
from app.engine.nodes.template_transform.node import TemplateTransformNode
from app.engine.nodes.tool.node import ToolNode
from app.engine.nodes.trigger_schedule.node import TriggerScheduleNode
from app.engine.nodes.trigger_webhook.node import TriggerWebhookNode
from app.engine.nodes.unavailable import UnavailableNode
from app.engine.nodes.variable_aggregator.node import VariableAggregatorNode

NODE_TYPES: dict[str, type[Node]] = {
    cls.node_type: cls
    for cls in (
        StartNode,
        EndNode,
        AnswerNode,
        IterationStartNode,
        LoopStartNode,
        LoopEndNode,
        IfElseNode,
        VariableAggregatorNode,
        AssignerNode,
        ListOperatorNode,
        CodeNode,
        TemplateTransformNode,
        HttpRequestNode,
        IterationNode,
        LoopNode,
        LLMNode,
        QuestionClassifierNode,
        ParameterExtractorNode,
        ToolNode,
        AgentNode,
        KnowledgeRetrievalNode,
        DocumentExtractorNode,
        TriggerWebhookNode,
        TriggerScheduleNode,
        HumanInputNode,
    )
}
# The aggregator's legacy id (2024 DSLs): Dify runs it as the aggregator.
NODE_TYPES["variable-assigner"] = VariableAggregatorNode

# Types Dify has that Kiln does not run yet, with what would make them run.
NOT_YET = {
    "trigger-plugin": (
        "plugin triggers need Dify's plugin daemon and a trigger subscription to deliver "
        "the plugin's events, which Kiln does not have: run the app by API, or give it a "
        "webhook or schedule trigger instead"
    ),
    "datasource": "RAG pipeline nodes are not supported by Kiln",
    "knowledge-index": "RAG pipeline nodes are not supported by Kiln",
}


def unsupported_reason(spec: NodeSpec) -> str | None:
    """Why a node cannot run, or None when it can (used at import and when building)."""
    cls = NODE_TYPES.get(spec.type)
    if cls is None:
        return NOT_YET.get(spec.type, f"unknown node type {spec.type!r}")
    try:
        cls(spec)
    except NodeConfigError as exc:
        return str(exc)
    return None


def build_node(spec: NodeSpec) -> Node:
    cls = NODE_TYPES.get(spec.type)
    if cls is None:
        return UnavailableNode(spec, NOT_YET.get(spec.type, f"unknown node type {spec.type!r}"))
    try:
        return cls(spec)
    except NodeConfigError as exc:
        return UnavailableNode(spec, str(exc))
