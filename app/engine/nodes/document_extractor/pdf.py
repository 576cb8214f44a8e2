"""PDF text through PDFium (pypdfium2), page after page; when PDFium finds no text at all,
pypdf gets a try, as Dify falls back. PDFium is not thread-safe: one document at a time."""

import io
import logging
import threading

from app.engine.nodes.document_extractor.budget import Budget

logger = logging.getLogger("kiln.documents")
_PDFIUM = threading.Lock()


def _pdfium_text(content: bytes, budget: Budget) -> str:
    import pypdfium2

    parts: list[str] = []
    with _PDFIUM:
        document = pypdfium2.PdfDocument(content)
        try:
            budget.pages(len(document))
            for index in range(len(document)):
                budget.tick()
                page = document[index]
                try:
                    text_page = page.get_textpage()
                    try:
                        parts.append(text_page.get_text_range())
                    finally:
                        text_page.close()
                finally:
                    page.close()
        finally:
            document.close()
    return "".join(parts)


def _pypdf_text(content: bytes, budget: Budget) -> str:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(content))
    try:
        budget.pages(len(reader.pages))
        parts: list[str] = []
        for page in reader.pages:
            budget.tick()
            parts.append(page.extract_text() or "")
        return "".join(parts)
    finally:
        reader.close()


def pdf_text(content: bytes, budget: Budget) -> str:
    text = _pdfium_text(content, budget)
    if text.strip():
        return text
    try:
        fallback = _pypdf_text(content, budget)
    except Exception as exc:  # the fallback is best effort: PDFium's (empty) answer stands
        logger.debug("pypdf fallback failed for %s: %s", budget.name, exc)
        return text
    return fallback if fallback.strip() else text
