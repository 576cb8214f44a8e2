"""Word (.docx) files through python-docx, as Dify renders them: the body's paragraphs and
tables in document order, one per line; a table with any text becomes a Markdown table
(its first row the header, line breaks in a cell written `<br>`)."""

import io
import logging
import zipfile
from typing import Any

from app.engine.nodes.document_extractor.budget import Budget, ExtractionAbandoned
from app.engine.nodes.document_extractor.errors import DocumentExtractorError

logger = logging.getLogger("kiln.documents")


def _load(content: bytes) -> Any:
    """Some exporters write `word\\document.xml` with backslashes; such a file is repaired
    in memory and read again, as Dify does."""
    import docx

    try:
        return docx.Document(io.BytesIO(content))
    except Exception:
        repaired = _forward_slashes(content)
        if repaired is None:
            raise
        return docx.Document(io.BytesIO(repaired))


def _forward_slashes(content: bytes) -> bytes | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as source:
            if not any("\\" in member.filename for member in source.infolist()):
                return None
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
                for member in source.infolist():
                    data = source.read(member.filename)
                    member.filename = member.filename.replace("\\", "/")
                    target.writestr(member, data)
            return out.getvalue()
    except zipfile.BadZipFile:
        return None


def _table(table: Any, budget: Budget) -> str | None:
    rows = list(table.rows)
    if not rows or not any(cell.text.strip() for row in rows for cell in row.cells):
        return None
    lines: list[str] = []
    for index, row in enumerate(rows):
        budget.row()
        cells = [cell.text.replace("\n", "<br>") for cell in row.cells]
        lines.append("| " + " | ".join(cells) + " |\n")
        if index == 0:
            lines.append("| " + " | ".join(["---"] * len(cells)) + " |\n")
    return "".join(lines)


def _table_or_none(table: Any, budget: Budget) -> str | None:
    """A table python-docx cannot walk (a malformed grid) is left out, as Dify leaves it."""
    try:
        return _table(table, budget)
    except (DocumentExtractorError, ExtractionAbandoned):
        raise
    except Exception as exc:
        logger.warning("a table of %s left out: %s", budget.name, exc)
        return None


def docx_text(content: bytes, budget: Budget) -> str:
    from docx.oxml.table import CT_Tbl
    from docx.oxml.text.paragraph import CT_P
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = _load(content)
    found: list[str] = []
    for block in document.element.body:
        budget.tick()
        if isinstance(block, CT_P):
            found.append(Paragraph(block, document).text)
        elif isinstance(block, CT_Tbl):
            text = _table_or_none(Table(block, document), budget)
            if text is not None:
                found.append(text)
    return "\n".join(found)
