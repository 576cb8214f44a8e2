"""A web page's readable text, as Dify's web reader gives it: the article picked out by
Readability's algorithm (readability-lxml), its title and author, the text one block per
line (list items as `* item`), blank lines dropped. Used by webscraper and by jina_reader
when no Jina key is configured."""

import re
from dataclasses import dataclass
from email.message import Message

import chardet
import lxml.html
from lxml.etree import ParserError
from readability import Document
from readability.readability import Unparseable

_BLOCKS = frozenset(
    "p div section article header footer main aside nav h1 h2 h3 h4 h5 h6 ul ol li "
    "table tr blockquote pre figure figcaption dl dt dd br hr form".split()
)
_SKIP = frozenset(("script", "style", "noscript", "template", "head"))
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


@dataclass(frozen=True, slots=True)
class Article:
    title: str | None
    byline: str | None
    text: str


def decode_page(content: bytes, content_type: str) -> str:
    """The declared charset, else a detected one, else UTF-8 (bad bytes replaced)."""
    charset = None
    if content_type:
        message = Message()
        message["content-type"] = content_type
        charset = message.get_content_charset()
    if not charset:
        charset = chardet.detect(content[:65536]).get("encoding")
    try:
        return content.decode(charset or "utf-8", "replace")
    except LookupError:
        return content.decode("utf-8", "replace")


def _walk(element: lxml.html.HtmlElement, out: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _SKIP:
        if element.tail:
            out.append(element.tail)
        return
    block = tag in _BLOCKS
    if block:
        out.append("\n")
    if tag == "li":
        out.append("* ")
    if element.text:
        out.append(element.text)
    for child in element:
        _walk(child, out)
    if block:
        out.append("\n")
    if element.tail:
        out.append(element.tail)


def text_of(html: str) -> str:
    """Block-aware text of an HTML fragment or document."""
    try:
        root = lxml.html.fromstring(html)
    except (ParserError, ValueError):
        return ""
    out: list[str] = []
    _walk(root, out)
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(out).split("\n"))
    return "\n".join(line for line in lines if line)


def read_article(html: str) -> Article:
    try:
        document = Document(html)
        title = document.title() or None
        author = document.author()
        content = text_of(document.summary(html_partial=True))
    except (Unparseable, ParserError, ValueError):
        return Article(None, None, text_of(html))
    byline = None if author in ("", "[no-author]") else author
    if title == "[no-title]":
        title = None
    return Article(title, byline, content or text_of(html))
