"""The document-extractor node in-process: every file type it reads (small real files made
in the test), lists and empty values, Dify's error messages, the operator's limits (size,
pages, rows, unpacked size, time), parsing off the event loop, and remote URLs fetched
from a loopback server through the SSRF guard (and refused without the allow-list)."""

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from app.core.config import Settings
from app.engine.nodes.base import NodeError, NodeResult
from app.engine.nodes.document_extractor import formats
from app.engine.nodes.document_extractor.budget import Budget, ExtractionAbandoned
from app.engine.nodes.document_extractor.formats import Format
from app.engine.nodes.registry import unsupported_reason
from app.engine.variables.values import FileValue
from app.engine.workflow.env import DocumentLimits, WorkflowLimits, WorkflowServices
from app.services.workflows.files import file_store
from tests.engine.nodes.single_node import pool_with, run_node, spec
from tests.support import documents
from tests.support.files import loopback_http

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class Files:
    """`read_file` over an in-memory map of related ids to bytes; counts reads."""

    def __init__(self) -> None:
        self.content: dict[str, bytes] = {}
        self.reads = 0

    def add(
        self, name: str, content: bytes, mime_type: str = "", size: int | None = None
    ) -> FileValue:
        file_id = f"upload-{len(self.content)}"
        self.content[file_id] = content
        extension = "." + name.rsplit(".", 1)[1] if "." in name else ""
        return FileValue(
            type="document",
            transfer_method="local_file",
            filename=name,
            extension=extension,
            mime_type=mime_type,
            size=len(content) if size is None else size,
            related_id=file_id,
            id=file_id,
        )

    async def read(self, value: FileValue) -> bytes:
        self.reads += 1
        assert value.related_id is not None
        return self.content[value.related_id]


async def extract(
    value: Any, files: Files | None = None, limits: DocumentLimits | None = None, **services: Any
) -> NodeResult:
    store = files or Files()
    return await run_node(
        "document-extractor",
        {"variable_selector": ["start", "doc"], "is_array_file": isinstance(value, list)},
        pool_with({"start": {"doc": value}}),
        WorkflowServices(read_file=store.read, **services),
        WorkflowLimits(documents=limits or DocumentLimits()),
    )


async def text_of(name: str, content: bytes, mime_type: str = "") -> Any:
    files = Files()
    result = await extract(files.add(name, content, mime_type), files)
    return result.outputs["text"]


async def failure(value: Any, files: Files | None = None, **kw: Any) -> str:
    with pytest.raises(NodeError) as caught:
        await extract(value, files, **kw)
    assert caught.value.error_type == ""
    return caught.value.message


# -- every type ---------------------------------------------------------------------------


async def test_plain_text_in_its_own_encoding() -> None:
    assert await text_of("notes.txt", "Café crème, s'il vous plaît".encode("cp1252")) == (
        "Café crème, s'il vous plaît"
    )
    assert await text_of("readme.md", "# Title\n\n*hi* ✓".encode()) == "# Title\n\n*hi* ✓"
    assert await text_of("main.py", b"print('x')\n") == "print('x')\n"


async def test_html_and_xml_keep_their_markup_as_dify_returns_them() -> None:
    markup = "<html><body><p>Hello &amp; welcome</p></body></html>"
    assert await text_of("page.html", markup.encode()) == markup
    assert await text_of("feed.xml", b"<a><b>1</b></a>") == "<a><b>1</b></a>"


async def test_json_and_yaml_are_dumped_pretty() -> None:
    assert await text_of("data.json", b'{"b":[1,2],"a":"\xc3\xa9"}') == json.dumps(
        {"b": [1, 2], "a": "é"}, indent=2, ensure_ascii=False
    )
    assert await text_of("conf.yaml", b"b: 1\na: [x, y]\n---\nc: true\n") == (
        "b: 1\na:\n- x\n- y\n---\nc: true\n"
    )


async def test_csv_is_a_markdown_table() -> None:
    text = await text_of("t.csv", b'name,note\nAda,"two\nlines"\nBob,ok\n')
    assert text == "| name | note |\n| ---- | ---- |\n| Ada | two lines |\n| Bob | ok |\n"


async def test_properties_and_captions() -> None:
    properties = b"# comment\nhost = example.org\nport: 8080\nflag\n"
    assert await text_of("app.properties", properties) == (
        "# comment\nhost: example.org\nport: 8080\nflag: "
    )
    vtt = (
        "WEBVTT\n\n00:00.000 --> 00:01.000\n<v Ada>Hello there\n\n"
        "00:01.000 --> 00:02.000\n<v Ada>how are you\n\n"
        "00:02.000 --> 00:03.000\n<v Bob>Fine\n\n00:03.000 --> 00:04.000\n[music]\n"
    )
    files = Files()
    captions = files.add("talk", vtt.encode(), "text/vtt")
    result = await extract(captions, files)
    assert result.outputs["text"] == 'Ada "Hello there how are you"\nBob "Fine"\n "[music]"'


async def test_pdf_text_page_after_page() -> None:
    assert await text_of("r.pdf", documents.pdf(["Hello PDF", "Page two"])) == "Hello PDFPage two"


async def test_docx_paragraphs_and_tables_in_order() -> None:
    assert await text_of("r.docx", documents.docx()) == (
        "Quarterly report\nSales grew in every region.\n"
        "| Region | Sales |\n| --- | --- |\n| North | 10 |\n| South | line one<br>line two |\n"
        "\nThe end."
    )


async def test_workbooks_render_as_pandas_would() -> None:
    expected_prices = (
        "| Item | Price | Stock |\n| ---- | ----- | ----- |\n| Tea | 3.5 | 10.0 |\n"
        "| Cake | 4.0 | nan |\n\n"
    )
    assert await text_of("b.xlsx", documents.xlsx()) == (
        expected_prices + "| Day | Note |\n| --- | ---- |\n| 2024-01-31 00:00:00 | two lines |\n\n"
    )
    assert await text_of("old.xls", documents.xls()) == (
        expected_prices + "| Day |\n| --- |\n| 2024-01-31 00:00:00 |\n\n"
    )


async def test_pptx_slides_with_tables_and_notes() -> None:
    assert await text_of("deck.pptx", documents.pptx()) == (
        "Slide 1\nPoint 1a\nPoint 1b\n| Key | Value |\n| --- | --- |\n| a | 1 |\nSpeaker notes"
        "\n\nSlide 2\nPoint 2a\nPoint 2b"
    )


async def test_epub_chapters_in_spine_order() -> None:
    assert await text_of("book.epub", documents.epub()) == (
        "Chapter One\nIt was a dark night.\nChapter Two\nDawn."
    )


async def test_odt_paragraphs() -> None:
    assert await text_of("letter.odt", documents.odt()) == "Title\nOne  two\tthree\nItem"


async def test_eml_headers_and_body() -> None:
    expected = (
        "From: Ada <ada@example.com>\nTo: bob@example.com\n"
        "Date: Fri, 05 Jan 2024 10:00:00 +0000\nSubject: Lunch on Friday\n\n"
    )
    assert await text_of("mail.eml", documents.eml()) == expected + "Shall we meet at noon?"
    assert await text_of("mail.eml", documents.eml(html=True)) == expected + (
        "Shall we meet at noon?"
    )


async def test_the_extension_decides_before_the_mime_type() -> None:
    files = Files()
    value = files.add("data.json", b'{"a": 1}', "text/plain")
    assert (await extract(value, files)).outputs["text"] == '{\n  "a": 1\n}'
    by_mime = files.add("report", documents.docx(), DOCX)
    assert (await extract(by_mime, files)).outputs["text"].startswith("Quarterly report\n")


async def test_upper_case_extensions_are_read() -> None:
    assert await text_of("R.PDF", documents.pdf(["Shout"])) == "Shout"


# -- values -------------------------------------------------------------------------------


async def test_a_list_gives_a_list_and_records_its_documents() -> None:
    files = Files()
    first = files.add("a.txt", b"first")
    second = files.add("b.csv", b"x\n1\n")
    result = await extract([first, None, second], files)
    assert result.outputs == {"text": ["first", "| x |\n| - |\n| 1 |\n"]}
    assert result.inputs == {"variable_selector": ["start", "doc"]}
    assert result.process_data == {"documents": [first, second]}


async def test_nothing_to_extract_is_an_empty_list() -> None:
    for value in (None, [], [None]):
        result = await extract(value)
        assert result.outputs == {"text": []}


async def test_a_missing_variable_and_a_variable_of_another_type() -> None:
    with pytest.raises(NodeError) as caught:
        await run_node(
            "document-extractor",
            {"variable_selector": ["start", "nothing"]},
            pool_with({"start": {}}),
        )
    assert caught.value.message == "File variable not found for selector: ['start', 'nothing']"
    assert await failure("some text") == ("Variable ['start', 'doc'] is not an ArrayFileSegment")
    assert await failure(["a", "b"]) == "Variable ['start', 'doc'] is not an ArrayFileSegment"


def test_the_node_imports_as_runnable_and_needs_a_selector() -> None:
    ok = spec("document-extractor", {"variable_selector": ["start", "f"]})
    assert unsupported_reason(ok) is None
    bad = spec("document-extractor", {"variable_selector": None})
    assert unsupported_reason(bad) == "variable_selector must be a variable selector"


# -- errors -------------------------------------------------------------------------------


async def test_unsupported_types_name_what_they_are() -> None:
    files = Files()
    assert await failure(files.add("tool.exe", b"MZ"), files) == "Unsupported Extension Type: .exe"
    assert await failure(files.add("blob", b"PK", "application/zip"), files) == (
        "Unsupported MIME type: application/zip"
    )
    assert await failure(files.add("blob", b"?"), files) == (
        "Unable to determine file type: MIME type or file extension is missing"
    )
    assert files.reads == 0  # nothing is fetched for a file no extractor reads
    legacy = await failure(files.add("old.doc", b"\xd0\xcf\x11\xe0"), files)
    assert legacy.startswith("Kiln does not read legacy Word (.doc) files")


async def test_corrupt_files_fail_with_difys_messages() -> None:
    files = Files()
    pdf = await failure(files.add("broken.pdf", b"%PDF-1.4 this is not a pdf"), files)
    assert pdf.startswith("Failed to extract text from PDF: ")
    docx = await failure(files.add("broken.docx", b"PK\x03\x04 not a zip"), files)
    assert docx.startswith("Failed to extract text from DOCX: ")
    xlsx = await failure(files.add("broken.xlsx", documents.docx()), files)
    assert xlsx.startswith("Failed to extract text from Excel file: ")
    epub = await failure(files.add("broken.epub", documents.docx()), files)
    assert epub.startswith("Failed to extract text from EPUB: ")
    bad_json = await failure(files.add("bad.json", b"{nope"), files)
    assert bad_json.startswith("Failed to decode or parse JSON file: ")


async def test_one_bad_file_fails_a_list() -> None:
    files = Files()
    good = files.add("a.txt", b"fine")
    bad = files.add("b.pdf", b"garbage")
    message = await failure([good, bad], files)
    assert message.startswith("Failed to extract text from PDF: ")


async def test_a_file_that_cannot_be_read() -> None:
    async def broken(value: FileValue) -> bytes:
        raise ValueError("object gone from storage")

    value = FileValue(
        type="document", transfer_method="local_file", filename="a.txt", extension=".txt"
    )
    with pytest.raises(NodeError) as caught:
        await run_node(
            "document-extractor",
            {"variable_selector": ["start", "doc"]},
            pool_with({"start": {"doc": value}}),
            WorkflowServices(read_file=broken),
        )
    assert caught.value.message == "Error downloading file: object gone from storage"
    remote = FileValue(
        type="document", transfer_method="remote_url", filename="a.txt", extension=".txt"
    )
    assert await failure(remote) == "Missing URL for remote file"


# -- limits -------------------------------------------------------------------------------


async def test_a_file_over_the_size_limit() -> None:
    files = Files()
    known = files.add("big.txt", b"x" * 100)
    message = await failure(known, files, limits=DocumentLimits(max_file_size=50))
    assert message == (
        "big.txt is 100 bytes; document extraction reads files of at most 50 bytes "
        "(KILN_DOCUMENT_EXTRACTOR_MAX_FILE_SIZE)"
    )
    assert files.reads == 0  # refused by its recorded size, before reading it
    unknown = files.add("big.txt", b"x" * 100, size=-1)
    assert await failure(unknown, files, limits=DocumentLimits(max_file_size=50)) == message
    assert files.reads == 1


async def test_page_and_row_limits() -> None:
    files = Files()
    pdf = files.add("long.pdf", documents.pdf(["1", "2", "3"]))
    assert await failure(pdf, files, limits=DocumentLimits(max_pages=2)) == (
        "long.pdf has 3 pages; document extraction reads at most 2 "
        "(KILN_DOCUMENT_EXTRACTOR_MAX_PAGES)"
    )
    deck = files.add("deck.pptx", documents.pptx(3))
    assert (await failure(deck, files, limits=DocumentLimits(max_pages=2))).startswith(
        "deck.pptx has 3 slides"
    )
    table = files.add("rows.csv", b"n\n" + b"1\n" * 10)
    assert await failure(table, files, limits=DocumentLimits(max_rows=5)) == (
        "rows.csv has more than 5 rows; document extraction reads at most that many "
        "(KILN_DOCUMENT_EXTRACTOR_MAX_ROWS)"
    )
    sheet = files.add("rows.xlsx", documents.xlsx())
    assert (await failure(sheet, files, limits=DocumentLimits(max_rows=3))).startswith(
        "rows.xlsx has more than 3 rows"
    )


async def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    files = Files()
    value = files.add("bomb.docx", documents.docx())
    message = await failure(value, files, limits=DocumentLimits(max_unpacked_size=1000))
    assert message.startswith("bomb.docx unpacks to ")
    assert message.endswith(
        "document extraction unpacks at most 1000 bytes (KILN_DOCUMENT_EXTRACTOR_MAX_UNPACKED_SIZE)"
    )


async def test_the_time_limit_stops_the_worker_too(monkeypatch: pytest.MonkeyPatch) -> None:
    stopped = threading.Event()

    def endless(content: bytes, budget: Budget) -> str:
        try:
            while True:
                budget.tick()
                time.sleep(0.01)
        except ExtractionAbandoned:
            stopped.set()
            raise

    monkeypatch.setitem(formats.BY_EXTENSION, ".slow", Format(endless, "Failed"))
    files = Files()
    started = time.monotonic()
    message = await failure(files.add("a.slow", b"x"), files, limits=DocumentLimits(timeout=0.3))
    assert (
        message
        == "Extracting text from a.slow took longer than 0.3 s (KILN_DOCUMENT_EXTRACTOR_TIMEOUT)"
    )
    assert time.monotonic() - started < 2
    assert await asyncio.to_thread(stopped.wait, 2)


async def test_parsing_runs_in_the_extraction_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def recording(content: bytes, budget: Budget) -> str:
        seen.append(threading.current_thread().name)
        return content.decode()

    monkeypatch.setitem(formats.BY_EXTENSION, ".rec", Format(recording, "Failed"))
    assert await text_of("a.rec", b"ok") == "ok"
    assert seen and seen[0].startswith("kiln-documents")


# -- remote files -------------------------------------------------------------------------


def _serve_docx(handler: BaseHTTPRequestHandler) -> None:
    body = documents.docx()
    handler.send_response(200)
    handler.send_header("Content-Type", DOCX)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _remote(url: str) -> FileValue:
    return FileValue(
        type="document",
        transfer_method="remote_url",
        filename="report.docx",
        extension=".docx",
        mime_type=DOCX,
        url=url,
        remote_url=url,
    )


async def test_a_remote_file_is_fetched_through_the_guard() -> None:
    hits: list[str] = []

    def serve(handler: BaseHTTPRequestHandler) -> None:
        hits.append(handler.path)
        _serve_docx(handler)

    with loopback_http(serve) as base:
        _, read = file_store(Settings(ssrf_allowed_hosts="127.0.0.1/32"), "app", "user")
        result = await run_node(
            "document-extractor",
            {"variable_selector": ["start", "doc"]},
            pool_with({"start": {"doc": _remote(f"{base}/files/report.docx")}}),
            WorkflowServices(read_file=read),
        )
        assert result.outputs["text"].startswith("Quarterly report\n")
        assert hits == ["/files/report.docx"]

        _, guarded = file_store(Settings(ssrf_allowed_hosts=""), "app", "user")
        with pytest.raises(NodeError) as caught:
            await run_node(
                "document-extractor",
                {"variable_selector": ["start", "doc"]},
                pool_with({"start": {"doc": _remote(f"{base}/files/report.docx")}}),
                WorkflowServices(read_file=guarded),
            )
        assert caught.value.message.startswith("Error downloading file: ")
        assert hits == ["/files/report.docx"]  # the guard refused before connecting
