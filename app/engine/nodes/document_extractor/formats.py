"""Which extractor reads which file, as Dify registers them: by the file's extension when it
has one, else by its MIME type; anything else is Dify's "Unsupported Extension Type" /
"Unsupported MIME type" error. Each extractor's failure reads as Dify words it."""

from collections.abc import Callable
from dataclasses import dataclass

from app.engine.nodes.document_extractor.budget import Budget
from app.engine.nodes.document_extractor.ebook import epub_text
from app.engine.nodes.document_extractor.errors import UnsupportedFileTypeError
from app.engine.nodes.document_extractor.mail import eml_text
from app.engine.nodes.document_extractor.odt import odt_text
from app.engine.nodes.document_extractor.pdf import pdf_text
from app.engine.nodes.document_extractor.slides import pptx_text
from app.engine.nodes.document_extractor.tables import csv_text, excel_text
from app.engine.nodes.document_extractor.text import (
    json_text,
    plain_text,
    properties_text,
    vtt_text,
    yaml_text,
)
from app.engine.nodes.document_extractor.word import docx_text

Extractor = Callable[[bytes, Budget], str]


@dataclass(frozen=True, slots=True)
class Format:
    extract: Extractor | None  # None: Dify reads it only through its Unstructured service
    failure: str  # the error's prefix when the parser fails: "Failed to … : {error}"
    extensions: frozenset[str] = frozenset()
    mime_types: frozenset[str] = frozenset()
    zipped: bool = False  # a zip container: its unpacked size is checked first
    unavailable: str = ""  # why Kiln cannot read it (extract is None)


PLAIN_TEXT_EXTENSIONS = frozenset(
    ".txt .markdown .md .mdx .html .htm .xml .c .h .cpp .hpp .cc .cxx .c++ .py .js .ts .jsx "
    ".tsx .java .php .rb .go .rs .swift .kt .scala .sh .bash .bat .ps1 .sql .r .m .pl .lua "
    ".vim .asm .s .css .scss .less .sass .ini .cfg .conf .toml .env .log .vtt".split()
)
_LEGACY = (
    "Kiln does not read legacy {kind} files (Dify needs its Unstructured service for them); "
    "save the file as {modern} and try again"
)

FORMATS: tuple[Format, ...] = (
    Format(
        plain_text,
        "Failed to decode plain text file",
        PLAIN_TEXT_EXTENSIONS,
        frozenset(("text/plain", "text/html", "text/htm", "text/markdown", "text/xml")),
    ),
    Format(
        json_text,
        "Failed to decode or parse JSON file",
        frozenset((".json",)),
        frozenset(("application/json",)),
    ),
    Format(
        yaml_text,
        "Failed to decode or parse YAML file",
        frozenset((".yaml", ".yml")),
        frozenset(("application/x-yaml", "text/yaml")),
    ),
    Format(
        pdf_text,
        "Failed to extract text from PDF",
        frozenset((".pdf",)),
        frozenset(("application/pdf",)),
    ),
    Format(
        None,
        "Failed to extract text from DOC",
        frozenset((".doc",)),
        frozenset(("application/msword",)),
        unavailable=_LEGACY.format(kind="Word (.doc)", modern=".docx"),
    ),
    Format(
        docx_text,
        "Failed to extract text from DOCX",
        frozenset((".docx",)),
        frozenset(("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)),
        zipped=True,
    ),
    Format(
        csv_text,
        "Failed to extract text from CSV",
        frozenset((".csv",)),
        frozenset(("text/csv",)),
    ),
    Format(
        excel_text,
        "Failed to extract text from Excel file",
        frozenset((".xls", ".xlsx")),
        frozenset(
            (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.ms-excel",
            )
        ),
        zipped=True,
    ),
    Format(
        None,
        "Failed to extract text from PPT",
        frozenset((".ppt",)),
        frozenset(("application/vnd.ms-powerpoint",)),
        unavailable=_LEGACY.format(kind="PowerPoint (.ppt)", modern=".pptx"),
    ),
    Format(
        pptx_text,
        "Failed to extract text from PPTX",
        frozenset((".pptx",)),
        frozenset(("application/vnd.openxmlformats-officedocument.presentationml.presentation",)),
        zipped=True,
    ),
    Format(
        epub_text,
        "Failed to extract text from EPUB",
        frozenset((".epub",)),
        frozenset(("application/epub+zip",)),
        zipped=True,
    ),
    Format(
        odt_text,
        "Failed to extract text from ODT",
        frozenset((".odt",)),
        frozenset(("application/vnd.oasis.opendocument.text",)),
        zipped=True,
    ),
    Format(
        eml_text,
        "Failed to extract text from EML",
        frozenset((".eml",)),
        frozenset(("message/rfc822",)),
    ),
    Format(
        None,
        "Failed to extract text from MSG",
        frozenset((".msg",)),
        frozenset(("application/vnd.ms-outlook",)),
        unavailable=_LEGACY.format(kind="Outlook (.msg)", modern=".eml"),
    ),
    Format(vtt_text, "Failed to extract text from VTT", mime_types=frozenset(("text/vtt",))),
    Format(
        properties_text,
        "Failed to extract text from properties file",
        frozenset((".properties",)),
        frozenset(("text/properties",)),
    ),
)

BY_EXTENSION = {extension: f for f in FORMATS for extension in f.extensions}
BY_MIME_TYPE = {mime_type: f for f in FORMATS for mime_type in f.mime_types}


def format_for(extension: str, mime_type: str) -> Format:
    """The format of a file: its extension decides when it has one (Dify's order)."""
    if extension:
        found = BY_EXTENSION.get(extension.lower())
        if found is None:
            raise UnsupportedFileTypeError(f"Unsupported Extension Type: {extension}")
        return found
    if mime_type:
        bare = mime_type.split(";", 1)[0].strip().lower()
        found = BY_MIME_TYPE.get(bare)
        if found is None:
            raise UnsupportedFileTypeError(f"Unsupported MIME type: {mime_type}")
        return found
    raise UnsupportedFileTypeError(
        "Unable to determine file type: MIME type or file extension is missing"
    )
