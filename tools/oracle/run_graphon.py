"""Run every graph fixture case on graphon (Dify's extracted engine) and write the goldens.

Dev only, run by hand (`make oracle`), never by `make test`. Needs the `.venv-oracle`
interpreter that `tools/oracle/setup.sh` builds (graphon needs Python 3.12+).

    .venv-oracle/bin/python tools/oracle/run_graphon.py [fixture-name ...]

For each `tests/fixtures/graphs/<name>.yml` and each case in `<name>.cases.json` it writes
`tests/fixtures/graphs/golden/<name>.<case>.json` (format: tests/fixtures/graphs/README.md).

What is plugged into graphon:
- the graph comes from graphon's own DSL loader (`graphon.dsl.inspect`); the variable pool,
  the node factory and the engine are wired here so that start inputs are not copied into
  `sys.*` (graphon's `loads()` does that, Dify does not) and conversation variables keep their
  declared types;
- a stub model (the rule in the README) instead of graphon's plugin-daemon client;
- a local code executor (python3 in a subprocess, JavaScript with `node`) instead of the
  dify-sandbox client, same runner contract (graphon's own transformers);
- a conversation memory built from the case's `history`, read like Dify's TokenBufferMemory
  (window = number of earlier turns);
- a file runtime for which a file's URL is its remote URL (nothing is downloaded).
A file graphon's loader refuses (e.g. the legacy `variable-assigner` aggregator id) gets a
golden that says `skipped` with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from graphon.dsl import DslError, inspect
from graphon.dsl.code_runtime import (
    SandboxCodeExecutionError,
    _JavaScriptTemplateTransformer,
    _Python3TemplateTransformer,
)
from graphon.dsl.entities import DslCredentials
from graphon.dsl.node_factory import (
    SlimDslNodeFactory,
    _code_limits,
    _DefaultJinja2TemplateRenderer,
    _NodeBuildRequest,
    _PassthroughPromptMessageSerializer,
    _TextOnlyFileSaver,
)
from graphon.engine import Engine
from graphon.engine.filter import (
    EngineEventFilterContext,
    ResponseStreamFilter,
    filter_engine_events,
)
from graphon.engine_events.graph import (
    GraphRunAbortedEvent,
    GraphRunFailedEvent,
    GraphRunPartialSucceededEvent,
    GraphRunSucceededEvent,
)
from graphon.engine_events.node import (
    NodeRunExceptionEvent,
    NodeRunFailedEvent,
    NodeRunRetryEvent,
    NodeRunStartedEvent,
    NodeRunStreamChunkEvent,
    NodeRunSucceededEvent,
)
from graphon.enums import BuiltinNodeTypes, WorkflowNodeExecutionMetadataKey
from graphon.file.enums import FileTransferMethod, FileType
from graphon.file.models import File
from graphon.graph.graph import Graph
from graphon.model_runtime.entities.common_entities import I18nObject
from graphon.model_runtime.entities.llm_entities import (
    LLMResult,
    LLMResultChunk,
    LLMResultChunkDelta,
    LLMResultChunkWithStructuredOutput,
    LLMResultWithStructuredOutput,
    LLMUsage,
)
from graphon.model_runtime.entities.message_entities import (
    AssistantPromptMessage,
    PromptMessage,
    PromptMessageTool,
    UserPromptMessage,
)
from graphon.model_runtime.entities.model_entities import (
    AIModelEntity,
    FetchFrom,
    ModelFeature,
    ModelPropertyKey,
    ModelType,
)
from graphon.nodes.code.code_node import CodeNode
from graphon.nodes.code.entities import CodeLanguage, CodeNodeData
from graphon.nodes.llm import LLMNode, LLMNodeData
from graphon.nodes.parameter_extractor.entities import ParameterExtractorNodeData
from graphon.nodes.parameter_extractor.parameter_extractor_node import (
    ParameterExtractorNode,
)
from graphon.nodes.question_classifier import (
    QuestionClassifierNode,
    QuestionClassifierNodeData,
    QuestionClassifierNodeDependencies,
)
from graphon.runtime.init_params import InitParams
from graphon.runtime.runtime_state import RuntimeState
from graphon.runtime.variable_pool import VariablePool
from graphon.variables.factory import build_segment_with_type
from graphon.variables.segments import Segment
from graphon.variables.types import SegmentType

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "graphs"
GOLDEN = FIXTURES / "golden"
sys.path.insert(0, str(ROOT))

from tests.support.graph_http import GraphHttpServer  # noqa: E402

# Fixed stand-ins for the run's ids (the goldens never depend on them).
SYS_IDS = {
    "user_id": "oracle-user",
    "app_id": "oracle-app",
    "workflow_id": "oracle-workflow",
    "workflow_run_id": "oracle-run",
    "conversation_id": "oracle-conversation",
}
CODE_TIMEOUT = 30
# Run errors that come from what graphon 0.8.0 lacks, not from the graph: such a case's
# golden says `skipped`.
GRAPHON_LIMITS = [
    (
        "[INVALID_ROOT]",
        "graphon cannot run an iteration whose start_node_id is its first real child "
        "(the DSL 0.1.0 form without an iteration-start node)",
    ),
]


# --------------------------------------------------------------------------- stub model


def message_text(message: PromptMessage) -> str:
    content = message.content
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(getattr(part, "data", "") for part in content if part.type == "text")


class ModelCalls:
    """Every model call of one case, in call order (threads may add concurrently)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []

    def add(self, call: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append(call)


class StubModel:
    """The stub model rule (README): first rule whose `when` occurs in any message's text
    gives the reply (or the tool call, when tools were offered); else `echo:` + the text of
    the last user message."""

    def __init__(
        self,
        *,
        node_id: str,
        model: Mapping[str, Any],
        rules: Sequence[Mapping[str, Any]],
        calls: ModelCalls,
    ) -> None:
        self._node_id = node_id
        self._provider = str(model.get("provider") or "")
        self._name = str(model.get("name") or "")
        self._mode = str(model.get("mode") or "chat")
        self._params: dict[str, Any] = dict(model.get("completion_params") or {})
        self._rules = rules
        self._calls = calls

    @property
    def provider(self) -> str:
        return self._provider

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def parameters(self) -> Mapping[str, Any]:
        return dict(self._params)

    @parameters.setter
    def parameters(self, value: Mapping[str, Any]) -> None:
        self._params = dict(value)

    @property
    def stop(self) -> Sequence[str] | None:
        return None

    def get_model_schema(self) -> AIModelEntity:
        return AIModelEntity(
            model=self._name,
            label=I18nObject(en_US=self._name),
            model_type=ModelType.LLM,
            features=[
                ModelFeature.TOOL_CALL,
                ModelFeature.MULTI_TOOL_CALL,
                ModelFeature.STRUCTURED_OUTPUT,
            ],
            fetch_from=FetchFrom.PREDEFINED_MODEL,
            model_properties={
                ModelPropertyKey.MODE: self._mode,
                ModelPropertyKey.CONTEXT_SIZE: 128000,
            },
        )

    def get_llm_num_tokens(self, prompt_messages: Sequence[PromptMessage]) -> int:
        return sum(len(message_text(m)) // 4 + 1 for m in prompt_messages)

    def _answer(
        self,
        prompt_messages: Sequence[PromptMessage],
        model_parameters: Mapping[str, Any],
        tools: Sequence[PromptMessageTool] | None,
        stop: Sequence[str] | None,
    ) -> tuple[str, list[AssistantPromptMessage.ToolCall]]:
        texts = [message_text(m) for m in prompt_messages]
        # graphon leaves completion_params.stop among the model parameters instead of
        # passing it as stop sequences (Dify pops it into `stop`); the golden records both
        # as the call's stop list.
        stops = list(stop or model_parameters.get("stop") or [])
        call: dict[str, Any] = {
            "node_id": self._node_id,
            "messages": [
                {"role": m.role.value, "content": text}
                for m, text in zip(prompt_messages, texts, strict=True)
            ],
            "stop": stops,
        }
        if tools:
            call["tools"] = sorted(tool.name for tool in tools)
        self._calls.add(call)
        for rule in self._rules:
            when = str(rule.get("when", ""))
            if not any(when in text for text in texts):
                continue
            if "tool_call" in rule:
                if not tools:
                    continue
                tool_call = rule["tool_call"]
                return "", [
                    AssistantPromptMessage.ToolCall(
                        id="call-1",
                        type="function",
                        function=AssistantPromptMessage.ToolCall.ToolCallFunction(
                            name=str(tool_call["name"]),
                            arguments=json.dumps(tool_call.get("arguments", {})),
                        ),
                    )
                ]
            return str(rule["reply"]), []
        last_user = ""
        for message, text in zip(prompt_messages, texts, strict=True):
            if message.role.value == "user":
                last_user = text
        if self._mode == "completion" and len(texts) == 1:
            last_user = texts[0]
        return "echo:" + last_user, []

    def _chunks(
        self,
        reply: str,
        tool_calls: list[AssistantPromptMessage.ToolCall],
        structured: Mapping[str, Any] | None = None,
    ) -> Generator[LLMResultChunk, None, None]:
        half = len(reply) // 2
        pieces = [reply[:half], reply[half:]] if half else [reply]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            delta = LLMResultChunkDelta(
                index=index,
                message=AssistantPromptMessage(
                    content=piece, tool_calls=tool_calls if last else []
                ),
                usage=LLMUsage.empty_usage() if last else None,
                finish_reason="stop" if last else None,
            )
            if structured is not None:
                yield LLMResultChunkWithStructuredOutput(
                    model=self._name,
                    prompt_messages=[],
                    delta=delta,
                    structured_output=structured if last else None,
                )
            else:
                yield LLMResultChunk(model=self._name, prompt_messages=[], delta=delta)

    def invoke_llm(
        self,
        *,
        prompt_messages: Sequence[PromptMessage],
        model_parameters: Mapping[str, Any],
        tools: Sequence[PromptMessageTool] | None,
        stop: Sequence[str] | None,
        stream: bool,
    ) -> LLMResult | Generator[LLMResultChunk, None, None]:
        reply, tool_calls = self._answer(prompt_messages, model_parameters, tools, stop)
        if stream:
            return self._chunks(reply, tool_calls)
        return LLMResult(
            model=self._name,
            prompt_messages=[],
            message=AssistantPromptMessage(content=reply, tool_calls=tool_calls),
            usage=LLMUsage.empty_usage(),
        )

    def invoke_llm_with_structured_output(
        self,
        *,
        prompt_messages: Sequence[PromptMessage],
        json_schema: Mapping[str, Any],
        model_parameters: Mapping[str, Any],
        stop: Sequence[str] | None,
        stream: bool,
    ) -> Any:
        reply, _ = self._answer(prompt_messages, model_parameters, None, stop)
        try:
            structured = json.loads(reply)
        except json.JSONDecodeError as error:
            raise StructuredOutputParseError(f"reply is not JSON: {error}") from error
        if not isinstance(structured, dict):
            raise StructuredOutputParseError("reply is not a JSON object")
        if stream:
            return self._chunks(reply, [], structured)
        return LLMResultWithStructuredOutput(
            model=self._name,
            prompt_messages=[],
            message=AssistantPromptMessage(content=reply),
            usage=LLMUsage.empty_usage(),
            structured_output=structured,
        )

    def is_structured_output_parse_error(self, error: Exception) -> bool:
        return isinstance(error, StructuredOutputParseError)


class StructuredOutputParseError(ValueError):
    pass


class HistoryMemory:
    """Earlier turns of the conversation (`history` in a case), read like Dify's
    TokenBufferMemory: the newest `message_limit` turns, oldest first, each a user message
    then an assistant message."""

    def __init__(self, history: Sequence[Mapping[str, str]]) -> None:
        self._history = list(history)

    def get_history_prompt_messages(
        self, max_token_limit: int = 2000, message_limit: int | None = None
    ) -> Sequence[PromptMessage]:
        turns = self._history
        if message_limit and message_limit > 0:
            turns = turns[-message_limit:]
        messages: list[PromptMessage] = []
        for turn in turns:
            messages.append(UserPromptMessage(content=turn["query"]))
            messages.append(AssistantPromptMessage(content=turn["answer"]))
        return messages


# --------------------------------------------------------------------------- code executor


class LocalCodeExecutor:
    """Runs the sandbox program graphon builds, locally: python3 via this interpreter in
    isolated mode, JavaScript via `node`. stderr's last line becomes the error."""

    def execute(
        self, *, language: CodeLanguage, code: str, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        if language == CodeLanguage.PYTHON3:
            transformer: Any = _Python3TemplateTransformer
        elif language == CodeLanguage.JAVASCRIPT:
            transformer = _JavaScriptTemplateTransformer
        else:
            raise SandboxCodeExecutionError(f"Unsupported language {language}")
        program = transformer.build_program(code=code, inputs=inputs)
        with tempfile.TemporaryDirectory(prefix="oracle-code-") as workdir:
            if program.language == "python3":
                command = [sys.executable, "-I", "-c", program.code]
            else:
                command = ["node", "-e", program.code]
            try:
                done = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    timeout=CODE_TIMEOUT,
                    cwd=workdir,
                    env={"PATH": os.environ.get("PATH", "")},
                    check=False,
                )
            except subprocess.TimeoutExpired as error:
                raise SandboxCodeExecutionError("code execution timed out") from error
        if done.returncode != 0:
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
            raise SandboxCodeExecutionError(lines[-1] if lines else "code execution failed")
        return transformer.parse_result(done.stdout)

    def is_execution_error(self, error: Exception) -> bool:
        return isinstance(error, SandboxCodeExecutionError)


class OracleFileRuntime:
    """Files in the fixtures are remote URLs that are never fetched: a file's URL is its
    remote URL, and anything that would read bytes fails."""

    multimodal_send_format = "url"

    def http_get(self, url: str, *, follow_redirects: bool = True) -> Any:
        raise RuntimeError("the oracle does not download files")

    def storage_load(self, path: str, *, stream: bool = False) -> Any:
        raise RuntimeError("the oracle has no file storage")

    def load_file_bytes(self, *, file: File) -> bytes:
        raise RuntimeError("the oracle does not download files")

    def resolve_file_url(self, *, file: File, for_external: bool = True) -> str | None:
        return file.remote_url

    def resolve_upload_file_url(
        self, *, upload_file_id: str, as_attachment: bool = False, for_external: bool = True
    ) -> str:
        return f"https://files.example.test/uploads/{upload_file_id}"

    def resolve_tool_file_url(
        self, *, tool_file_id: str, extension: str, for_external: bool = True
    ) -> str:
        return f"https://files.example.test/tools/{tool_file_id}{extension}"

    def verify_preview_signature(self, **kwargs: Any) -> bool:
        return False


# --------------------------------------------------------------------------- node factory


class OracleNodeFactory(SlimDslNodeFactory):
    """graphon's slim DSL factory with the model, code, memory and legacy-id builders
    replaced. Class attributes carry the per-case collaborators (one case runs at a time)."""

    rules: Sequence[Mapping[str, Any]] = ()
    calls: ModelCalls = ModelCalls()
    memory: HistoryMemory | None = None

    def _resolve_slim_llm_settings(
        self, *, node_id: str, data: Mapping[str, Any], node_type_label: str
    ) -> tuple[dict[str, Any], str, str, dict[str, Any]]:
        normalized = dict(data)
        model = dict(normalized.get("model") or {})
        provider = str(model.get("provider") or "")
        if not provider:
            raise DslError(
                f"{node_type_label} node is missing model provider.",
                code="node.llm_missing_provider",
            )
        model["provider"] = provider.split("/")[-1]
        normalized["model"] = model
        return normalized, model["provider"], "oracle/stub", {}

    def _stub(self, request: _NodeBuildRequest) -> tuple[dict[str, Any], StubModel]:
        data, _, _, _ = self._resolve_slim_llm_settings(
            node_id=request.node_id, data=request.data_payload, node_type_label="Model"
        )
        stub = StubModel(
            node_id=request.node_id,
            model=data["model"],
            rules=type(self).rules,
            calls=type(self).calls,
        )
        return data, stub

    def _create_llm_node(self, request: _NodeBuildRequest) -> LLMNode:
        data, stub = self._stub(request)
        return LLMNode(
            node_id=request.node_id,
            data=LLMNodeData.model_validate(data),
            init_params=self.init_params,
            runtime_state=self.runtime_state,
            model_instance=stub,
            memory=type(self).memory,
            llm_file_saver=_TextOnlyFileSaver(),
            prompt_message_serializer=_PassthroughPromptMessageSerializer(),
            jinja2_template_renderer=_DefaultJinja2TemplateRenderer(),
            default_query_selector=("sys", "query"),
        )

    def _create_question_classifier_node(
        self, request: _NodeBuildRequest
    ) -> QuestionClassifierNode:
        data, stub = self._stub(request)
        return QuestionClassifierNode(
            node_id=request.node_id,
            data=QuestionClassifierNodeData.model_validate(data),
            init_params=self.init_params,
            runtime_state=self.runtime_state,
            dependencies=QuestionClassifierNodeDependencies(
                model_instance=stub,
                memory=type(self).memory,
                template_renderer=_DefaultJinja2TemplateRenderer(),
                llm_file_saver=_TextOnlyFileSaver(),
                prompt_message_serializer=_PassthroughPromptMessageSerializer(),
            ),
        )

    def _create_parameter_extractor_node(
        self, request: _NodeBuildRequest
    ) -> ParameterExtractorNode:
        data, stub = self._stub(request)
        return ParameterExtractorNode(
            node_id=request.node_id,
            data=ParameterExtractorNodeData.model_validate(data),
            init_params=self.init_params,
            runtime_state=self.runtime_state,
            model_instance=stub,
            memory=type(self).memory,
            prompt_message_serializer=_PassthroughPromptMessageSerializer(),
        )

    def _create_code_node(self, request: _NodeBuildRequest) -> CodeNode:
        return CodeNode(
            node_id=request.node_id,
            data=CodeNodeData.model_validate(request.data_payload),
            init_params=self.init_params,
            runtime_state=self.runtime_state,
            code_executor=LocalCodeExecutor(),
            code_limits=_code_limits(self.credentials.code),
        )

    NODE_BUILDERS = {
        **SlimDslNodeFactory.NODE_BUILDERS,
        BuiltinNodeTypes.LLM: _create_llm_node,
        BuiltinNodeTypes.QUESTION_CLASSIFIER: _create_question_classifier_node,
        BuiltinNodeTypes.PARAMETER_EXTRACTOR: _create_parameter_extractor_node,
        BuiltinNodeTypes.CODE: _create_code_node,
    }


# --------------------------------------------------------------------------- inputs


def build_file(mapping: Mapping[str, Any]) -> File:
    """A case's file input: {type, transfer_method, url | upload_file_id, filename,
    extension, mime_type, size}."""
    method = FileTransferMethod(mapping.get("transfer_method", "remote_url"))
    return File(
        file_type=FileType(mapping["type"]),
        transfer_method=method,
        remote_url=mapping.get("url"),
        related_id=mapping.get("upload_file_id"),
        filename=mapping.get("filename"),
        extension=mapping.get("extension"),
        mime_type=mapping.get("mime_type"),
        size=int(mapping.get("size", -1)),
    )


def typed_segment(value_type: str, value: Any) -> Any:
    if value_type == "secret":
        value_type = "string"
    if value is None:
        return None
    segment_type = SegmentType(value_type)
    if segment_type == SegmentType.NUMBER and isinstance(value, str):
        value = float(value) if "." in value else int(value)
    return build_segment_with_type(segment_type, value)


def build_pool(
    *,
    document: Mapping[str, Any],
    plan: Any,
    mode: str,
    start_id: str,
    start_variables: Sequence[Mapping[str, Any]],
    case: Mapping[str, Any],
) -> VariablePool:
    pool = VariablePool()
    workflow = document.get("workflow") or {}
    env_overrides = case.get("environment") or {}
    for raw in workflow.get("environment_variables") or []:
        name = raw["name"]
        value = env_overrides.get(name, raw.get("value"))
        segment = typed_segment(str(raw.get("value_type") or "string"), value)
        if segment is not None:
            pool.add(("env", name), segment)
    conv_overrides = case.get("conversation_variables") or {}
    if mode == "advanced-chat":
        for raw in workflow.get("conversation_variables") or []:
            name = raw["name"]
            value = conv_overrides.get(name, raw.get("value"))
            segment = typed_segment(str(raw.get("value_type") or "string"), value)
            if segment is not None:
                pool.add(("conversation", name), segment)
    pool.add(("sys", "files"), [])
    pool.add(("sys", "user_id"), SYS_IDS["user_id"])
    pool.add(("sys", "app_id"), SYS_IDS["app_id"])
    pool.add(("sys", "workflow_id"), SYS_IDS["workflow_id"])
    pool.add(("sys", "workflow_run_id"), SYS_IDS["workflow_run_id"])
    if mode == "advanced-chat":
        pool.add(("sys", "query"), str(case.get("query", "")))
        pool.add(("sys", "conversation_id"), SYS_IDS["conversation_id"])
        pool.add(("sys", "dialogue_count"), len(case.get("history") or []) + 1)
    inputs = case.get("inputs") or {}
    for variable in start_variables:
        name = variable["variable"]
        value = inputs.get(name)
        kind = variable.get("type")
        if value is not None and kind == "file":
            value = build_file(value)
        elif value is not None and kind == "file-list":
            value = [build_file(item) for item in value]
        pool.add((start_id, name), value)
    return pool


# --------------------------------------------------------------------------- normalising


def plain(value: Any) -> Any:
    """JSON-ready form of a node output: segments unwrapped, files as their attributes."""
    if isinstance(value, Segment):
        value = value.value
    if isinstance(value, File):
        return {
            "type": value.type.value,
            "transfer_method": value.transfer_method.value,
            "filename": value.filename,
            "extension": value.extension,
            "mime_type": value.mime_type,
            "size": value.size,
            "url": value.remote_url,
        }
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "model_dump"):
        return plain(value.model_dump(mode="json"))
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return value
    return value


DROPPED_OUTPUT_KEYS = {"usage", "__usage", "elapsed_time"}


def normal_outputs(node_type: str, outputs: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in outputs.items():
        if key in DROPPED_OUTPUT_KEYS:
            continue
        if node_type == "start" and "." in key:  # sys.* / conversation.* copies
            continue
        result[key] = plain(value)
    return result


def round_index(event: Any) -> int:
    metadata = event.node_run_result.metadata or {}
    for key in (
        WorkflowNodeExecutionMetadataKey.ITERATION_INDEX,
        WorkflowNodeExecutionMetadataKey.LOOP_INDEX,
    ):
        if key in metadata and metadata[key] is not None:
            return int(metadata[key])
    return 0


# --------------------------------------------------------------------------- running


def graph_node_ids(graph_config: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(node["id"]): str(node["data"]["type"])
        for node in graph_config.get("nodes", [])
        if node.get("type") != "custom-note"
    }


def run_case(name: str, text: str, case: Mapping[str, Any], http_base: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    mode = document["app"]["mode"]
    golden: dict[str, Any] = {"graph": name, "case": case["name"], "mode": mode}
    try:
        plan = inspect(text)
    except DslError as error:
        return {**golden, "skipped": f"graphon's DSL loader refused the file: {error}"}
    if not plan.loadable or plan.document.graph_config is None:
        return {**golden, "skipped": f"graphon cannot load it: {plan.load_reason}"}
    graph_config = plan.document.graph_config
    node_types = graph_node_ids(graph_config)
    starts = [node for node in graph_config["nodes"] if node.get("data", {}).get("type") == "start"]
    start = starts[0]
    case = dict(case)
    if "environment" in case:
        case["environment"] = {
            key: str(value).replace("{http_base}", http_base)
            for key, value in case["environment"].items()
        }
    pool = build_pool(
        document=document,
        plan=plan,
        mode=mode,
        start_id=str(start["id"]),
        start_variables=start["data"].get("variables") or [],
        case=case,
    )
    calls = ModelCalls()
    OracleNodeFactory.rules = list(case.get("model") or [])
    OracleNodeFactory.calls = calls
    OracleNodeFactory.memory = HistoryMemory(case.get("history") or [])
    init_params = InitParams(
        workflow_id=SYS_IDS["workflow_id"],
        graph_config=graph_config,
        run_context={},
        call_depth=0,
    )
    state = RuntimeState(
        variable_pool=pool, start_at=time.time(), workflow_id=SYS_IDS["workflow_id"]
    )
    factory = OracleNodeFactory(
        graph_config=graph_config,
        init_params=init_params,
        runtime_state=state,
        credentials=DslCredentials(),
        dependencies=list(plan.dependencies),
    )
    try:
        graph = Graph.init(
            graph_config=graph_config, node_factory=factory, root_node_id=str(start["id"])
        )
    except Exception as error:  # noqa: BLE001 - reported as a skip with the reason
        return {**golden, "skipped": f"graphon could not build the graph: {error}"}
    engine = Engine(graph=graph, runtime_state=state, workers=4, file_runtime=OracleFileRuntime())

    runs: dict[str, list[tuple[int, str, dict[str, Any], str | None, str | None]]] = {}
    starts_count: dict[str, int] = {}
    retries: dict[str, int] = {}
    answer: list[str] = []
    status = "succeeded"
    outputs: dict[str, Any] = {}
    error: str | None = None
    events = filter_engine_events(
        engine.run(),
        context=EngineEventFilterContext.from_engine(engine),
        filters=[ResponseStreamFilter()],
    )
    try:
        for event in events:
            if isinstance(event, NodeRunRetryEvent):
                retries[event.node_id] = retries.get(event.node_id, 0) + 1
                starts_count[event.node_id] = starts_count.get(event.node_id, 0) + 1
            elif isinstance(event, NodeRunStartedEvent):
                starts_count[event.node_id] = starts_count.get(event.node_id, 0) + 1
            elif isinstance(event, NodeRunStreamChunkEvent):
                answer.append(event.chunk)
            elif isinstance(
                event, NodeRunSucceededEvent | NodeRunFailedEvent | NodeRunExceptionEvent
            ):
                if isinstance(event, NodeRunFailedEvent):
                    node_status = "failed"
                elif isinstance(event, NodeRunExceptionEvent):
                    node_status = "exception"
                else:
                    node_status = "succeeded"
                result = event.node_run_result
                node_outputs = dict(result.outputs or {})
                handle = result.edge_source_handle
                node_error = result.error or getattr(event, "error", None) or None
                runs.setdefault(event.node_id, []).append(
                    (round_index(event), node_status, node_outputs, handle, node_error)
                )
            elif isinstance(event, GraphRunSucceededEvent):
                outputs = dict(event.outputs)
            elif isinstance(event, GraphRunPartialSucceededEvent):
                status = "partial-succeeded"
                outputs = dict(event.outputs)
            elif isinstance(event, GraphRunFailedEvent):
                status = "failed"
                error = event.error
            elif isinstance(event, GraphRunAbortedEvent):
                status = "failed"
                error = event.reason
    except Exception as raised:  # noqa: BLE001 - graphon re-raises the run's error
        if status != "failed":
            status = "failed"
            error = str(raised)

    for pattern, reason in GRAPHON_LIMITS:
        if error and pattern in error:
            return {**golden, "skipped": f"{reason} (graphon: {error})"}

    nodes: dict[str, Any] = {}
    for node_id in sorted(node_types):
        if node_id not in starts_count and node_id not in runs:
            continue
        node_type = node_types[node_id]
        finished = sorted(runs.get(node_id, []), key=lambda item: item[0])
        record: dict[str, Any] = {"type": node_type}
        if finished:
            statuses = {item[1] for item in finished}
            record["status"] = (
                "failed"
                if "failed" in statuses
                else "exception"
                if "exception" in statuses
                else "succeeded"
            )
            last = finished[-1]
            record["outputs"] = normal_outputs(node_type, last[2])
            if node_type in ("if-else", "question-classifier") or last[3] not in (
                None,
                "source",
            ):
                record["selected_handle"] = last[3]
            elif _has_fail_branch(graph_config, node_id):
                record["selected_handle"] = last[3]
            errors = [item[4] for item in finished if item[4]]
            if errors:
                record["error"] = errors[-1]
        else:
            record["status"] = "running"
        record["runs"] = starts_count.get(node_id, len(finished))
        if retries.get(node_id):
            record["retries"] = retries[node_id]
        nodes[node_id] = record

    golden.update(
        {
            "status": status,
            "outputs": normal_outputs("end", outputs) if status != "failed" else {},
            "error": error,
            "nodes": nodes,
            "not_run": sorted(set(node_types) - set(nodes)),
            "model_calls": sorted(
                calls.calls,
                key=lambda call: (
                    call["node_id"],
                    json.dumps(call["messages"], ensure_ascii=False, sort_keys=True),
                ),
            ),
        }
    )
    if mode == "advanced-chat":
        golden["answer"] = "".join(answer)
        # graphon merges every answer node's text into the run outputs as `answer` (plus
        # `files`), in completion order, which is not stable for parallel answers: the
        # message text is `answer`, and each answer node's text is in its node outputs.
        for key in ("answer", "files"):
            golden["outputs"].pop(key, None)
        conversation: dict[str, Any] = {}
        for raw in (document.get("workflow") or {}).get("conversation_variables") or []:
            segment = state.variable_pool.get(("conversation", raw["name"]))
            conversation[raw["name"]] = plain(segment) if segment is not None else None
        golden["conversation_variables_after"] = conversation
    return golden


def _has_fail_branch(graph_config: Mapping[str, Any], node_id: str) -> bool:
    for node in graph_config.get("nodes", []):
        if str(node.get("id")) == node_id:
            return node.get("data", {}).get("error_strategy") == "fail-branch"
    return False


def normalise_port(value: Any, port: int) -> Any:
    if isinstance(value, str):
        return value.replace(f"127.0.0.1:{port}", "127.0.0.1:{port}")
    if isinstance(value, list):
        return [normalise_port(item, port) for item in value]
    if isinstance(value, dict):
        return {key: normalise_port(item, port) for key, item in value.items()}
    return value


ORDER = [
    "graph",
    "case",
    "mode",
    "skipped",
    "status",
    "outputs",
    "answer",
    "error",
    "nodes",
    "not_run",
    "model_calls",
    "conversation_variables_after",
]


def main(argv: Sequence[str]) -> int:
    names = list(argv) or sorted(path.stem for path in FIXTURES.glob("*.yml"))
    GOLDEN.mkdir(parents=True, exist_ok=True)
    server = GraphHttpServer().start()
    failures = 0
    try:
        for name in names:
            text = (FIXTURES / f"{name}.yml").read_text(encoding="utf-8")
            cases = json.loads((FIXTURES / f"{name}.cases.json").read_text(encoding="utf-8"))
            for stale in GOLDEN.glob(f"{name}.*.json"):
                stale.unlink()
            for case in cases:
                golden = run_case(name, text, case, server.base_url)
                golden = normalise_port(golden, server.port)
                ordered = {key: golden[key] for key in ORDER if key in golden}
                path = GOLDEN / f"{name}.{case['name']}.json"
                path.write_text(
                    json.dumps(ordered, indent=2, ensure_ascii=False, sort_keys=False) + "\n",
                    encoding="utf-8",
                )
                label = golden.get("skipped") and "skipped" or golden["status"]
                print(f"{name}.{case['name']}: {label}")
                if case.get("expect_status") and case["expect_status"] != golden.get("status"):
                    failures += 1
                    print(f"  !! expected {case['expect_status']}, got {golden.get('status')}")
    finally:
        server.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
