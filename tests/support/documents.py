"""Tiny real documents of every type the document extractor reads, written in the test
with the parsing libraries themselves (or by hand where a format is simple: PDF, EPUB,
ODT, e-mail). A legacy .xls cannot be written by any installed library:
tests/fixtures/documents/tiny.xls is committed (made once with xlwt)."""

import datetime
import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "documents"


def pdf(pages: list[str]) -> bytes:
    """A PDF with one line of Helvetica text per page."""
    count = len(pages)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{4 + 2 * i} 0 R".encode() for i in range(count))
        + f"] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for index, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 18 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {5 + 2 * index}"
            " 0 R /Resources << /Font << /F1 3 0 R >> >> >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def docx() -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    document.add_heading("Quarterly report", level=1)
    document.add_paragraph("Sales grew in every region.")
    table = document.add_table(rows=3, cols=2)
    for row, (left, right) in zip(
        table.rows,
        [("Region", "Sales"), ("North", "10"), ("South", "line one\nline two")],
        strict=True,
    ):
        row.cells[0].text = left
        row.cells[1].text = right
    document.add_table(rows=1, cols=2)  # an empty table: left out
    document.add_paragraph("The end.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Prices"
    sheet.append(["Item", "Price", "Stock"])
    sheet.append(["Tea", 3.5, 10])
    sheet.append([None, None, None])
    sheet.append(["Cake", 4, None])
    dates = workbook.create_sheet("Dates")
    dates.append(["Day", "Note"])
    dates.append([datetime.datetime(2024, 1, 31), "two\nlines"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xls() -> bytes:
    return (FIXTURES / "tiny.xls").read_bytes()


def pptx(slides: int = 2) -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    for number in range(1, slides + 1):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = f"Slide {number}"
        slide.placeholders[1].text = f"Point {number}a\nPoint {number}b"
        if number == 1:
            shape = slide.shapes.add_table(2, 2, Inches(1), Inches(5), Inches(4), Inches(1))
            cells = shape.table
            cells.cell(0, 0).text, cells.cell(0, 1).text = "Key", "Value"
            cells.cell(1, 0).text, cells.cell(1, 1).text = "a", "1"
            slide.notes_slide.notes_text_frame.text = "Speaker notes"
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def epub(chapters: list[tuple[str, str]] | None = None) -> bytes:
    """An EPUB whose spine lists the chapters (title, paragraph) in reverse file order, so
    reading order is proved to come from the spine."""
    chapters = chapters or [("Chapter One", "It was a dark night."), ("Chapter Two", "Dawn.")]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        items = "".join(
            f'<item id="c{i}" href="text/ch{i}.xhtml" media-type="application/xhtml+xml"/>'
            for i in range(len(chapters))
        )
        spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
        archive.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            f"<manifest>{items}</manifest><spine>{spine}</spine></package>",
        )
        for i, (title, text) in reversed(list(enumerate(chapters))):
            archive.writestr(
                f"OEBPS/text/ch{i}.xhtml",
                '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title>'
                f"<style>p {{}}</style></head><body><h1>{title}</h1><p>{text}</p></body></html>",
            )
    return out.getvalue()


def odt() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr(
            "content.xml",
            '<?xml version="1.0"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
            "<office:body><office:text><text:h>Title</text:h>"
            '<text:p>One<text:s text:c="2"/>two<text:tab/>three</text:p>'
            "<text:list><text:list-item><text:p>Item</text:p></text:list-item></text:list>"
            "</office:text></office:body></office:document-content>",
        )
    return out.getvalue()


def eml(html: bool = False) -> bytes:
    message = EmailMessage()
    message["From"] = "Ada <ada@example.com>"
    message["To"] = "bob@example.com"
    message["Subject"] = "Lunch on Friday"
    message["Date"] = "Fri, 05 Jan 2024 10:00:00 +0000"
    if html:
        message.set_content(
            "<html><body><p>Shall we meet at <b>noon</b>?</p></body></html>", subtype="html"
        )
    else:
        message.set_content("Shall we meet at noon?\n")
        message.add_attachment(
            b"%PDF-1.4", maintype="application", subtype="pdf", filename="menu.pdf"
        )
    return bytes(message)
