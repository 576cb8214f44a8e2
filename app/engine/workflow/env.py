"""What one workflow run carries besides its pool: ids, mode, limits, and the services its
nodes reach outside through (each None where a run has no such service, e.g. in tests)."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.core.app_mode import AppMode
from app.engine.prompt import Turn
from app.engine.variables.values import FileValue
from app.integrations.knowledge.records import KnowledgeBaseInfo, KnowledgeRecord
from app.integrations.tools.base import Tool, ToolCall, ToolOutput, ToolRef, ToolSpec
from app.net.http_node import HttpReply as HttpReply  # built by the caller in app/net


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """Bounds of one document-extractor file (KILN_DOCUMENT_EXTRACTOR_*)."""

    max_file_size: int = 15 * 1024 * 1024  # bytes of one file (Dify's document upload limit)
    max_pages: int = 500  # PDF pages, slides, EPUB chapters
    max_rows: int = 100_000  # rows of a CSV file or of all sheets of a workbook
    max_unpacked_size: int = 100 * 1024 * 1024  # bytes inside a zip-based file (docx, xlsx…)
    timeout: float = 60.0  # seconds for one file, waiting for a free worker included
    workers: int = 2  # extraction threads per process


@dataclass(frozen=True, slots=True)
class WorkflowLimits:
    max_steps: int = 500  # node runs per graph level (Dify's WORKFLOW_MAX_EXECUTION_STEPS)
    max_variable_size: int = 200 * 1024  # bytes of one variable (MAX_VARIABLE_SIZE)
    template_max_length: int = 80_000  # TEMPLATE_TRANSFORM_MAX_LENGTH
    http_max_text_size: int = 1024 * 1024  # HTTP_REQUEST_NODE_MAX_TEXT_SIZE
    http_max_binary_size: int = 10 * 1024 * 1024  # HTTP_REQUEST_NODE_MAX_BINARY_SIZE
    http_timeouts: tuple[float, float, float] = (10.0, 60.0, 20.0)  # connect, read, write
    documents: DocumentLimits = field(default_factory=DocumentLimits)


class CodeRunner(Protocol):
    """The code sandbox as nodes use it (app/sandbox)."""

    async def run_code(
        self, language: str, code: str, inputs: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def render_template(self, template: str, variables: dict[str, Any]) -> str: ...


class HttpCaller(Protocol):
    """Outbound HTTP for http-request nodes, through the SSRF guard (app/net)."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        params: list[tuple[str, str]],
        content: bytes | None,
        files: list[tuple[str, tuple[str, bytes, str]]] | None,
        data: dict[str, str] | None,
        timeouts: tuple[float, float, float],
        max_size: int,
        verify: bool,
    ) -> HttpReply: ...


class ToolRuntime(Protocol):
    """The process's tools (app/integrations/tools/runtime.py ToolBox): tool nodes, agent
    nodes and agent-chat apps resolve and invoke tools by the DSL's reference."""

    async def resolve(self, ref: ToolRef) -> Tool: ...

    def check(self, ref: ToolRef) -> str | None: ...

    async def spec(self, ref: ToolRef) -> ToolSpec: ...

    async def invoke(
        self, ref: ToolRef, arguments: dict[str, Any], call: ToolCall
    ) -> ToolOutput: ...


class KnowledgeService(Protocol):
    """Mapped knowledge bases (app/integrations/knowledge): `describe` raises
    KnowledgeNotMapped for an id the integrations file does not map, `retrieve` asks the
    dataset's External Knowledge API service (KnowledgeError when it fails)."""

    def describe(self, dataset_id: str) -> KnowledgeBaseInfo: ...

    async def retrieve(
        self,
        dataset_id: str,
        query: str,
        *,
        top_k: int,
        score_threshold: float | None,
        metadata_condition: Mapping[str, Any] | None = None,
    ) -> list[KnowledgeRecord]: ...


@dataclass(slots=True)
class WorkflowServices:
    sandbox: CodeRunner | None = None
    http: HttpCaller | None = None
    # Persist a conversation variable at once (assigner nodes, advanced-chat).
    save_conversation_variable: Callable[[str, Any], Awaitable[None]] | None = None
    # Model-ready parts (OpenAI `image_url` parts) of files for vision inputs.
    file_parts: Callable[[Sequence[FileValue], str], Awaitable[list[dict[str, Any]]]] | None = None
    # Store bytes as a file the run can hand out (HTTP file responses, tool files):
    # (content, mime type, file name) → a `tool_file` FileValue.
    save_file: Callable[[bytes, str, str], Awaitable[FileValue]] | None = None
    # The bytes of a file value (http-request binary and form-data bodies).
    read_file: Callable[[FileValue], Awaitable[bytes]] | None = None
    # Tools (tool and agent nodes): builtin, OpenAPI, MCP, workflow-as-tool.
    tools: ToolRuntime | None = None
    # knowledge-retrieval nodes: the integrations file's knowledge bases.
    knowledge: KnowledgeService | None = None


@dataclass(frozen=True, slots=True)
class HumanDecision:
    """A paused human-input node's answer: a submitted form, or its timeout."""

    action_id: str  # "" on timeout
    data: dict[str, Any]  # submitted values by output variable name
    timed_out: bool = False
    expiration_time: int = 0  # the form's, as a Unix timestamp


@dataclass(slots=True)
class WorkflowRun:
    mode: AppMode
    app_id: str
    workflow_id: str
    run_id: str
    task_id: str
    limits: WorkflowLimits = field(default_factory=WorkflowLimits)
    services: WorkflowServices = field(default_factory=WorkflowServices)
    inputs: dict[str, Any] = field(default_factory=dict)  # validated start inputs
    # The entry point a trigger started the run from (a webhook or schedule node); None:
    # the start node, as for a run by API.
    root_id: str | None = None
    history: list[Turn] = field(default_factory=list)  # earlier turns, for LLM memory
    call_depth: int = 0  # workflow-as-tool nesting: 0 for a run a client started
    # Retriever resources the run's LLM nodes took as context, one group per LLM node run
    # (advanced-chat `message_end`, merged by app/engine/knowledge/sources.py).
    retriever_resources: list[list[dict[str, Any]]] = field(default_factory=list)
    # Answers of the human-input nodes this run paused at, by node id (a resumed run).
    human_decisions: dict[str, HumanDecision] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunScope:
    """Where a node runs: the top level, or a round of an iteration or loop."""

    iteration_id: str | None = None
    iteration_index: int | None = None
    loop_id: str | None = None
    loop_index: int | None = None
    parallel_mode_run_id: str | None = None

    def metadata(self) -> dict[str, Any]:
        """The scope's part of a node's `execution_metadata`."""
        found: dict[str, Any] = {}
        if self.iteration_id is not None:
            found["iteration_id"] = self.iteration_id
            found["iteration_index"] = self.iteration_index
        if self.loop_id is not None:
            found["loop_id"] = self.loop_id
            found["loop_index"] = self.loop_index
        if self.parallel_mode_run_id is not None:
            found["parallel_mode_run_id"] = self.parallel_mode_run_id
        return found
