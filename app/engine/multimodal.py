"""Multimodal user messages: file parts (OpenAI chat format) placed before the text of the
final user message, as Dify orders them."""

import base64
from typing import Any


def image_part(url: str, detail: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url, "detail": detail}}


def document_part(filename: str, mime_type: str, data: bytes) -> dict[str, Any]:
    """A document as OpenAI's `file` part (base64 data; app/gateway/documents.py says which
    providers get it)."""
    return {"type": "file", "file": {"filename": filename, "file_data": data_url(mime_type, data)}}


def data_url(mime_type: str, data: bytes) -> str:
    return f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"


def attach_file_parts(
    messages: list[dict[str, Any]], parts: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Put `parts` before the text of the last user message (a user message with only the
    parts is appended when there is none)."""
    if not parts:
        return messages
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):
            new_content = [*parts, *content]
        else:
            new_content = [*parts, {"type": "text", "text": str(content or "")}]
        return [*messages[:index], {**message, "content": new_content}, *messages[index + 1 :]]
    return [*messages, {"role": "user", "content": list(parts)}]
