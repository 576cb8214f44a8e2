"""Workflow values as Dify types and renders them.

The pool holds plain Python values (str, int, float, bool, dict, list, None) and FileValue;
the Dify segment type is read off the value when needed, so nodes hand results around
without wrapping them. Three renderings, as Dify's segments have: `text` (prompts,
templates), `markdown` (answer nodes) and `log` (what events and stored runs show)."""

import json
from dataclasses import dataclass, field
from typing import Any

FILE_MARKER = "__dify__file__"  # Dify's `dify_model_identity` on a serialised file


@dataclass(frozen=True, slots=True)
class FileValue:
    """A file in a workflow (request files, file inputs, HTTP file responses)."""

    type: str  # image | document | audio | video | custom
    transfer_method: str  # local_file | remote_url | tool_file
    filename: str = ""
    extension: str = ""  # with the dot, as Dify keeps it: ".pdf"
    mime_type: str = ""
    size: int = -1
    url: str | None = None  # a remote URL, or a signed URL of a stored file
    remote_url: str | None = None
    related_id: str | None = None  # the upload's id for local files
    id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def attribute(self, name: str) -> Any:
        """`[node, file_var, <name>]` selectors and list-operator keys."""
        if name == "name":
            return self.filename
        if name == "url":
            return self.url or self.remote_url
        if name in ("type", "transfer_method", "extension", "mime_type", "size", "related_id"):
            return getattr(self, name)
        return None

    def to_dict(self) -> dict[str, Any]:
        """The mapping code nodes and stored outputs see (Dify's File.to_dict)."""
        return {
            "dify_model_identity": FILE_MARKER,
            "id": self.id,
            "tenant_id": None,
            "type": self.type,
            "transfer_method": self.transfer_method,
            "remote_url": self.remote_url,
            "related_id": self.related_id,
            "filename": self.filename,
            "extension": self.extension,
            "mime_type": self.mime_type,
            "size": self.size,
            "url": self.url or self.remote_url,
        }

    @property
    def markdown(self) -> str:
        url = self.url or self.remote_url or ""
        if self.type == "image":
            return f"![{self.filename}]({url})"
        return f"[{self.filename}]({url})"


def segment_type(value: Any) -> str:
    """Dify's SegmentType name for a value."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, FileValue):
        return "file"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return _array_type(value)
    return "none"


def _array_type(items: list[Any]) -> str:
    if not items:
        return "array[any]"
    kinds = {segment_type(item) for item in items}
    if len(kinds) == 1:
        kind = next(iter(kinds))
        if kind in ("string", "number", "object", "file", "boolean"):
            return f"array[{kind}]"
    return "array[any]"


def to_text(value: Any) -> str:
    """Splicing into a prompt or template (Dify's `segment.text`)."""
    if value is None or isinstance(value, FileValue):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return json.dumps(plain(value), ensure_ascii=False)
    if isinstance(value, list):
        if not value:
            return ""
        kind = _array_type(value)
        if kind == "array[file]":
            return ""
        if kind == "array[string]":
            return json.dumps(value, ensure_ascii=False)
        return str(plain(value))
    return str(value)


def to_markdown(value: Any) -> str:
    """An answer node's rendering (Dify's `segment.markdown`)."""
    if value is None:
        return ""
    if isinstance(value, FileValue):
        return value.markdown
    if isinstance(value, dict):
        return json.dumps(plain(value), ensure_ascii=False, indent=2)
    if isinstance(value, list):
        if value and all(isinstance(item, FileValue) for item in value):
            return "\n".join(item.markdown for item in value)
        return "\n".join(f"- {plain(item)}" for item in value)
    return str(value)


def plain(value: Any) -> Any:
    """JSON-ready: files become Dify's file mappings, everything else as is."""
    if isinstance(value, FileValue):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def file_from_mapping(mapping: dict[str, Any]) -> FileValue:
    """A file value from a request's file entry or a serialised file."""
    extension = str(mapping.get("extension") or "")
    return FileValue(
        type=str(mapping.get("type") or "custom"),
        transfer_method=str(mapping.get("transfer_method") or "remote_url"),
        filename=str(mapping.get("filename") or mapping.get("name") or ""),
        extension=extension if not extension or extension.startswith(".") else f".{extension}",
        mime_type=str(mapping.get("mime_type") or ""),
        size=size if isinstance(size := mapping.get("size"), int) else -1,
        url=mapping.get("url") or mapping.get("remote_url"),
        remote_url=mapping.get("remote_url") or mapping.get("url"),
        related_id=mapping.get("related_id") or mapping.get("upload_file_id"),
        id=mapping.get("id"),
    )


def is_file_mapping(value: Any) -> bool:
    return isinstance(value, dict) and value.get("dify_model_identity") == FILE_MARKER


def output_files(outputs: Any) -> list[dict[str, Any]]:
    """The files among a node's or a run's top-level outputs (a file, or the files of a
    list), as the `files` of node_finished / workflow_finished list them (Dify's
    fetch_files_from_node_outputs): clients show a run's files from there."""
    if not isinstance(outputs, dict):
        return []
    found: list[dict[str, Any]] = []
    for value in outputs.values():
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, FileValue):
                found.append(item.to_dict())
            elif is_file_mapping(item):
                found.append(item)
    return found


def json_size(value: Any) -> int:
    """Bytes of a value as JSON (a string: its UTF-8 bytes)."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    try:
        return len(json.dumps(plain(value), ensure_ascii=False, default=str).encode())
    except (TypeError, ValueError):
        return 0
