"""EPUB files: the package named by `META-INF/container.xml`, its spine's chapters in
reading order, each chapter's HTML as text lines, all joined by newlines (Dify's way
without its Unstructured service)."""

import io
import posixpath
import zipfile
from typing import Any
from urllib.parse import unquote, urlsplit

from app.engine.nodes.document_extractor.budget import Budget
from app.engine.nodes.document_extractor.html_text import html_lines
from app.engine.nodes.document_extractor.safe_xml import local_name, parse_xml
from app.engine.nodes.document_extractor.text import decode


def _member_path(base: str, href: str) -> str:
    path = unquote(urlsplit(href).path)
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), path)).lstrip("/")


def _package_path(archive: zipfile.ZipFile) -> str:
    container = parse_xml(archive.read("META-INF/container.xml"))
    for element in container.iter():
        if local_name(element) == "rootfile" and element.get("full-path"):
            return unquote(urlsplit(element.get("full-path")).path).lstrip("/")
    raise ValueError("EPUB package path is missing")


def _spine(package: Any, package_path: str) -> list[str]:
    manifest: dict[str, str] = {}
    order: list[str] = []
    for element in package.iter():
        name = local_name(element)
        if name == "item" and element.get("id") and element.get("href"):
            manifest[element.get("id")] = element.get("href")
        elif name == "itemref" and element.get("idref"):
            order.append(element.get("idref"))
    return [_member_path(package_path, manifest[ref]) for ref in order if ref in manifest]


def epub_text(content: bytes, budget: Budget) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        package_path = _package_path(archive)
        chapters = _spine(parse_xml(archive.read(package_path)), package_path)
        budget.pages(len(chapters), "chapters")
        lines: list[str] = []
        for chapter in chapters:
            budget.tick()
            lines += html_lines(decode(archive.read(chapter)))
    return "\n".join(lines)
