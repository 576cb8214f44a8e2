"""`http-request`: one request through the run's HttpCaller (the SSRF guard), outputs
`status_code`, `body`, `headers`, `files` as Dify gives them. A file-like reply becomes a
stored file (`files`, body ""), a reply over its size cap fails the node, and a status
outside 2xx is a success unless the node has an error strategy or retry enabled: then it
is a failure that still carries the reply, so retry, default-value and fail-branch react
to it. Retries themselves are the scheduler's (`retry_config`)."""

from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeContext, NodeError, NodeResult
from app.engine.nodes.http_request.entities import HttpRequestConfig, parse_config
from app.engine.nodes.http_request.request import PreparedRequest, prepare, request_log
from app.engine.nodes.http_request.response import check_size, file_identity, is_file, text_of
from app.engine.variables.values import FileValue
from app.engine.workflow.env import WorkflowLimits
from app.engine.workflow.failures import strategy_of
from app.net.fetch import FetchError, FetchTooLarge
from app.net.http_node import HttpReply

NO_HTTP = "HTTP requests are not available: this run has no outbound HTTP configured"
# A DSL's own timeout never holds a connection past this (seconds).
MAX_TIMEOUT = 600.0


class HttpRequestNode(Node):
    node_type = "http-request"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        self.config: HttpRequestConfig = parse_config(spec.data)
        retry = spec.data.get("retry_config")
        retry_enabled = isinstance(retry, dict) and bool(retry.get("retry_enabled"))
        # Dify: with an error strategy or retry, a bad status is the node's failure.
        self.status_fails = retry_enabled or strategy_of(spec) is not None

    def timeouts(self, limits: WorkflowLimits) -> tuple[float, float, float]:
        given = self.config.timeouts
        connect, read, write = limits.http_timeouts
        return (
            min(given.connect or connect, MAX_TIMEOUT),
            min(given.read or read, MAX_TIMEOUT),
            min(given.write or write, MAX_TIMEOUT),
        )

    async def run(self, ctx: NodeContext) -> NodeResult:
        services, limits = ctx.workflow.services, ctx.workflow.limits
        request = await prepare(self.config, ctx.pool, services.read_file)
        process_data: dict[str, Any] = {"request": request_log(request, self.config)}
        if services.http is None:
            raise NodeError(NO_HTTP, "HttpRequestNodeError", process_data=process_data)
        reply = await self._send(ctx, request, process_data)
        as_file = is_file(reply)
        try:
            check_size(reply, as_file, limits.http_max_text_size, limits.http_max_binary_size)
        except NodeError as exc:
            exc.process_data = process_data
            raise
        files: list[FileValue] = []
        if as_file:
            files = await self._store(ctx, reply, request.url, process_data)
        outputs: dict[str, Any] = {
            "status_code": reply.status_code,
            "body": "" if as_file else text_of(reply),
            "headers": reply.headers,
            "files": files,
        }
        if self.status_fails and not 200 <= reply.status_code < 300:
            raise NodeError(
                f"Request failed with status code {reply.status_code}",
                "HTTPResponseCodeError",
                outputs=outputs,
                process_data=process_data,
            )
        return NodeResult(outputs=outputs, process_data=process_data)

    async def _send(
        self, ctx: NodeContext, request: PreparedRequest, process_data: dict[str, Any]
    ) -> HttpReply:
        http, limits = ctx.workflow.services.http, ctx.workflow.limits
        assert http is not None
        verify = self.config.ssl_verify if self.config.ssl_verify is not None else True
        try:
            return await http.request(
                request.method,
                request.url,
                headers=request.headers,
                params=request.params,
                content=request.content,
                files=request.files,
                data=request.data,
                timeouts=self.timeouts(limits),
                max_size=max(limits.http_max_text_size, limits.http_max_binary_size),
                verify=verify,
            )
        except FetchTooLarge:
            limit = max(limits.http_max_text_size, limits.http_max_binary_size)
            raise NodeError(
                f"Response size is too large, max size is {limit / 1024 / 1024:.2f} MB.",
                "ResponseSizeError",
                process_data=process_data,
            ) from None
        except FetchError as exc:
            raise NodeError(str(exc), "HttpRequestNodeError", process_data=process_data) from None

    async def _store(
        self, ctx: NodeContext, reply: HttpReply, url: str, process_data: dict[str, Any]
    ) -> list[FileValue]:
        mime, filename = file_identity(reply, url)
        save = ctx.workflow.services.save_file
        if save is None:
            process_data["note"] = (
                f"The response is a file ({mime}, {len(reply.content)} bytes); it was not"
                " kept: this run has no file storage"
            )
            return []
        return [await save(reply.content, mime, filename)]
