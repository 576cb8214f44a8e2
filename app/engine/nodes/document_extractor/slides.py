"""PowerPoint (.pptx) files through python-pptx: each slide's text, shapes from top to
bottom and left to right (grouped shapes opened), one line per paragraph, tables as
Markdown tables, then the slide's notes; slides apart by a blank line, as Dify's
element-per-line rendering separates them."""

import io
from collections.abc import Iterator
from typing import Any

from app.engine.nodes.document_extractor.budget import Budget


def _shapes(shapes: Any) -> Iterator[Any]:
    from pptx.shapes.group import GroupShape

    ordered = sorted(shapes, key=lambda shape: (shape.top or 0, shape.left or 0))
    for shape in ordered:
        if isinstance(shape, GroupShape):
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _table_lines(table: Any, budget: Budget) -> list[str]:
    lines: list[str] = []
    for index, row in enumerate(table.rows):
        budget.row()
        cells = [cell.text.replace("\n", "<br>") for cell in row.cells]
        lines.append("| " + " | ".join(cells) + " |")
        if index == 0:
            lines.append("| " + " | ".join(["---"] * len(cells)) + " |")
    return lines


def _paragraph_lines(frame: Any) -> list[str]:
    return [text for paragraph in frame.paragraphs if (text := paragraph.text.strip())]


def _slide_lines(slide: Any, budget: Budget) -> list[str]:
    lines: list[str] = []
    for shape in _shapes(slide.shapes):
        if getattr(shape, "has_table", False):
            lines += _table_lines(shape.table, budget)
        elif getattr(shape, "has_text_frame", False):
            lines += _paragraph_lines(shape.text_frame)
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        lines += _paragraph_lines(slide.notes_slide.notes_text_frame)
    return lines


def pptx_text(content: bytes, budget: Budget) -> str:
    from pptx import Presentation

    presentation = Presentation(io.BytesIO(content))
    slides = list(presentation.slides)
    budget.pages(len(slides), "slides")
    found: list[str] = []
    for slide in slides:
        budget.tick()
        lines = _slide_lines(slide, budget)
        if lines:
            found.append("\n".join(lines))
    return "\n\n".join(found)
