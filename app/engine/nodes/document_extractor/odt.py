"""OpenDocument text (.odt): the headings and paragraphs of `content.xml` in document order,
one per line (tabs, line breaks and repeated spaces as ODF encodes them)."""

import io
import zipfile
from typing import Any

from app.engine.nodes.document_extractor.budget import Budget
from app.engine.nodes.document_extractor.safe_xml import local_name, parse_xml

PARAGRAPHS = ("p", "h")


def _text_of(element: Any) -> str:
    parts: list[str] = [element.text or ""]
    for child in element:
        name = local_name(child)
        if name == "tab":
            parts.append("\t")
        elif name == "line-break":
            parts.append("\n")
        elif name == "s":
            count = next((v for k, v in child.attrib.items() if k.endswith("}c")), "1")
            parts.append(" " * (int(count) if str(count).isdigit() else 1))
        elif name not in ("note", "annotation"):
            parts.append(_text_of(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _paragraphs(element: Any, budget: Budget) -> list[str]:
    found: list[str] = []
    for child in element:
        if local_name(child) in PARAGRAPHS:
            budget.tick()
            found.append(_text_of(child))
        else:
            found += _paragraphs(child, budget)
    return found


def odt_text(content: bytes, budget: Budget) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        root = parse_xml(archive.read("content.xml"))
    body = next((e for e in root.iter() if local_name(e) == "text"), root)
    return "\n".join(_paragraphs(body, budget)).strip()
