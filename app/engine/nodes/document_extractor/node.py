"""`document-extractor`: the text of a file, or of each file of a list (`variable_selector`;
`is_array_file` is the editor's note of which). One file gives a string `text`, a list an
array of strings, an empty or absent value `[]`. Bytes come through the run's `read_file`
service (uploads, tool files, remote URLs behind the SSRF guard); the parser is chosen by
extension, else MIME type (formats.py), and runs in a worker thread within the operator's
limits (runner.py). Any file failing fails the node with Dify's message."""

import logging
from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeConfigError, NodeContext, NodeError, NodeResult
from app.engine.nodes.document_extractor.budget import Budget
from app.engine.nodes.document_extractor.errors import (
    DocumentExtractorError,
    FileDownloadError,
    LimitExceeded,
)
from app.engine.nodes.document_extractor.formats import format_for
from app.engine.nodes.document_extractor.runner import extract
from app.engine.variables.pool import MISSING
from app.engine.variables.values import FileValue
from app.engine.workflow.env import DocumentLimits, WorkflowServices

logger = logging.getLogger("kiln.documents")
NO_ERROR_TYPE = ""  # Dify fails the node without an error type
NO_FILE_SERVICE = "Files cannot be read: this run has no file service"


def _files(value: Any, selector: list[str]) -> list[FileValue] | FileValue | None:
    """The file or files the selector names; None when there is nothing to extract."""
    if not value:
        return None
    if isinstance(value, FileValue):
        return value
    if isinstance(value, list):
        items = [item for item in value if item]
        if all(isinstance(item, FileValue) for item in items):
            return items
    raise NodeError(f"Variable {selector} is not an ArrayFileSegment", NO_ERROR_TYPE)


def _name(value: FileValue) -> str:
    return value.filename or value.remote_url or value.url or "the file"


async def _content(services: WorkflowServices, value: FileValue, limits: DocumentLimits) -> bytes:
    if value.transfer_method == "remote_url" and not (value.remote_url or value.url):
        raise FileDownloadError("Missing URL for remote file")
    if value.size > limits.max_file_size:
        raise _too_large(value, value.size, limits)
    if services.read_file is None:
        raise FileDownloadError(NO_FILE_SERVICE)
    try:
        content = await services.read_file(value)
    except Exception as exc:
        raise FileDownloadError(f"Error downloading file: {exc}") from None
    if len(content) > limits.max_file_size:
        raise _too_large(value, len(content), limits)
    return content


def _too_large(value: FileValue, size: int, limits: DocumentLimits) -> LimitExceeded:
    return LimitExceeded(
        f"{_name(value)} is {size} bytes; document extraction reads files of at most "
        f"{limits.max_file_size} bytes (KILN_DOCUMENT_EXTRACTOR_MAX_FILE_SIZE)"
    )


async def text_of(services: WorkflowServices, value: FileValue, limits: DocumentLimits) -> str:
    """One file's text (a DocumentExtractorError when it cannot be had)."""
    found = format_for(value.extension, value.mime_type)
    content = await _content(services, value, limits)
    return await extract(found, content, Budget.start(limits, _name(value)))


class DocumentExtractorNode(Node):
    node_type = "document-extractor"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        selector = spec.data.get("variable_selector")
        if not isinstance(selector, list) or not selector:
            raise NodeConfigError("variable_selector must be a variable selector")
        self.selector = [str(part) for part in selector]

    async def run(self, ctx: NodeContext) -> NodeResult:
        value = ctx.pool.lookup(tuple(self.selector))
        if value is MISSING:
            raise NodeError(f"File variable not found for selector: {self.selector}", NO_ERROR_TYPE)
        files = _files(value, self.selector)
        inputs = {"variable_selector": self.selector}
        documents = files if isinstance(files, list) else [files] if files else []
        process_data = {"documents": documents}
        if not files:
            return NodeResult({"text": []}, inputs, process_data)
        services, limits = ctx.workflow.services, ctx.workflow.limits.documents
        try:
            if isinstance(files, list):
                text: str | list[str] = [await text_of(services, f, limits) for f in files]
            else:
                text = await text_of(services, files, limits)
        except DocumentExtractorError as exc:
            logger.warning("document-extractor %s: %s", self.id, exc)
            raise NodeError(
                str(exc), NO_ERROR_TYPE, inputs=inputs, process_data=process_data
            ) from None
        return NodeResult({"text": text}, inputs, process_data)
