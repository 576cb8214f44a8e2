"""Which providers get document files, and in what shape: the gateway keeps a `file` part
only for a provider that reads its MIME type, and litellm turns the kept parts into each
provider's own document block (Anthropic `document`, Gemini `inline_data`, Bedrock
`document`)."""

import base64
from typing import Any

import pytest

from app.core.config import Settings
from app.engine.multimodal import document_part
from app.gateway.documents import document_mime_type, document_types, fit_documents
from app.gateway.gateway import ModelGateway
from tests.support import documents

PDF = documents.pdf(["Hello"])
PDF_PART = document_part("r.pdf", "application/pdf", PDF)
CSV_PART = document_part("t.csv", "text/csv", b"a,b\n1,2\n")
DOCX_PART = document_part(
    "w.docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    b"PK",
)
TEXT = {"type": "text", "text": "Summarise"}


def _user(*parts: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": list(parts)}]


def test_the_part_is_openais_file_part() -> None:
    assert PDF_PART == {
        "type": "file",
        "file": {
            "filename": "r.pdf",
            "file_data": "data:application/pdf;base64," + base64.b64encode(PDF).decode(),
        },
    }


def test_each_provider_reads_its_own_types() -> None:
    assert document_types("openai") == {"application/pdf"}
    assert document_types("langgenius/openai/openai") == {"application/pdf"}
    assert document_types("langgenius/anthropic/anthropic") == {"application/pdf"}
    assert "text/csv" in document_types("gemini")
    assert "text/csv" in document_types("bedrock")
    for provider in ("deepseek", "openai_api_compatible", "ollama", "kiln", "azure_openai"):
        assert document_types(provider) == frozenset()


def test_mime_types_come_from_the_extension_first() -> None:
    assert document_mime_type("PDF", "application/octet-stream") == "application/pdf"
    assert document_mime_type(".xml", "application/xml") == "text/xml"
    assert document_mime_type("rtf", "Application/RTF; x=y") == "application/rtf"


def test_parts_a_provider_does_not_read_are_removed() -> None:
    messages = _user(PDF_PART, CSV_PART, DOCX_PART, TEXT)
    assert fit_documents("openai", messages)[1]["content"] == [PDF_PART, TEXT]
    assert fit_documents("gemini", messages)[1]["content"] == [PDF_PART, CSV_PART, TEXT]
    assert fit_documents("bedrock", messages)[1]["content"] == [PDF_PART, CSV_PART, DOCX_PART, TEXT]
    assert fit_documents("deepseek", messages)[1]["content"] == [TEXT]


def test_a_message_left_empty_is_dropped_and_others_are_untouched() -> None:
    messages = [*_user(TEXT), {"role": "user", "content": [PDF_PART]}]
    assert fit_documents("deepseek", messages) == _user(TEXT)
    plain = _user(TEXT)
    assert fit_documents("deepseek", plain) is plain


def test_the_override_decides_which_types_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ModelGateway(Settings()).document_types("openai") == {"application/pdf"}
    overridden = ModelGateway(Settings(model_override="kiln/echo"))
    assert overridden.document_types("openai") == frozenset()


def test_litellm_turns_the_kept_parts_into_each_providers_document_block() -> None:
    from litellm.litellm_core_utils.prompt_templates.factory import (
        _bedrock_converse_messages_pt,
        anthropic_messages_pt,
    )
    from litellm.llms.vertex_ai.gemini.transformation import (
        _gemini_convert_messages_with_history,
    )

    encoded = base64.b64encode(PDF).decode()
    messages = [{"role": "user", "content": [PDF_PART, TEXT]}]
    [anthropic] = anthropic_messages_pt(messages, "claude-sonnet-4-5", "anthropic")
    assert anthropic["content"][0] == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": encoded},
    }
    [gemini] = _gemini_convert_messages_with_history(messages=messages, model="gemini-2.5-pro")
    assert gemini["parts"][0]["inline_data"] == {"data": encoded, "mime_type": "application/pdf"}
    fitted = fit_documents("bedrock", [{"role": "user", "content": [PDF_PART, CSV_PART, TEXT]}])
    [bedrock] = _bedrock_converse_messages_pt(
        messages=fitted, model="anthropic.claude-3-5-sonnet-20240620-v1:0", llm_provider="bedrock"
    )
    assert [block["document"]["format"] for block in bedrock["content"][:2]] == ["pdf", "csv"]
