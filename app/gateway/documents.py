"""Document files in prompts: which providers get them, in which formats.

Callers put a document in a user message as OpenAI's `file` content part,
`{"type": "file", "file": {"filename", "file_data": "data:<mime>;base64,…"}}` (Dify's
DocumentPromptMessageContent, always base64: no provider takes a document by URL in this
format). Dify sends such a part only to models whose schema declares the `document`
feature and drops it for the others; Kiln keeps the same rule per provider, by the MIME
types each provider reads through this part:

- `openai` (direct) and `openrouter`: PDF (Chat Completions file inputs);
- `anthropic` (litellm → a `document` block): PDF;
- `gemini`, `vertex_ai` (litellm → inline data): PDF, plain text, Markdown, HTML, CSV, XML;
- `bedrock` (litellm → a Converse document block): PDF, CSV, DOC, DOCX, XLS, XLSX, HTML,
  TXT, Markdown;
- every other provider (the offline model included): none.

`fit_documents` removes the parts the provider does not read just before the call, so a
prompt built without knowing the model (graph apps' LLM nodes) sends the same thing."""

from typing import Any

from app.gateway.providers import provider_id

PDF = "application/pdf"
_GEMINI = frozenset((PDF, "text/plain", "text/markdown", "text/html", "text/csv", "text/xml"))
_BEDROCK = frozenset(
    (
        PDF,
        "text/csv",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/html",
        "text/plain",
        "text/markdown",
    )
)
DOCUMENT_TYPES: dict[str, frozenset[str]] = {
    "openai": frozenset((PDF,)),
    "openrouter": frozenset((PDF,)),
    "anthropic": frozenset((PDF,)),
    "gemini": _GEMINI,
    "vertex_ai": _GEMINI,
    "bedrock": _BEDROCK,
}
# Every MIME type some provider reads: documents of other types are never built into parts.
ANY_PROVIDER = frozenset().union(*DOCUMENT_TYPES.values())


# A document's MIME type by its extension (what the providers above name them); a stated
# type is used only for other extensions.
MIME_BY_EXTENSION = {
    "pdf": PDF,
    "txt": "text/plain",
    "md": "text/markdown",
    "markdown": "text/markdown",
    "mdx": "text/markdown",
    "html": "text/html",
    "htm": "text/html",
    "csv": "text/csv",
    "xml": "text/xml",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def document_mime_type(extension: str, stated: str | None) -> str:
    """`extension` without the dot, any case; `stated` as the client or server gave it."""
    known = MIME_BY_EXTENSION.get(extension.lstrip(".").lower())
    return known or (stated or "").split(";", 1)[0].strip().lower()


def document_types(dify_provider: str) -> frozenset[str]:
    return DOCUMENT_TYPES.get(provider_id(dify_provider), frozenset())


def part_mime_type(part: dict[str, Any]) -> str:
    """The MIME type of a `file` part's data URL ("" when it has none)."""
    file = part.get("file")
    data = file.get("file_data") if isinstance(file, dict) else None
    if not isinstance(data, str) or not data.startswith("data:"):
        return ""
    return data[5:].split(";", 1)[0].split(",", 1)[0].strip().lower()


def _kept(part: Any, accepted: frozenset[str]) -> bool:
    if not isinstance(part, dict) or part.get("type") != "file":
        return True
    return part_mime_type(part) in accepted


def fit_documents(dify_provider: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages without the document parts the provider does not read; a message left
    with no content at all is dropped, as Dify drops empty prompt messages."""
    if not any(
        isinstance(m.get("content"), list)
        and any(isinstance(p, dict) and p.get("type") == "file" for p in m["content"])
        for m in messages
    ):
        return messages
    accepted = document_types(dify_provider)
    fitted: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            fitted.append(message)
            continue
        kept = [part for part in content if _kept(part, accepted)]
        if kept:
            fitted.append({**message, "content": kept} if len(kept) != len(content) else message)
    return fitted
