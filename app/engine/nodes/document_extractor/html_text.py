"""HTML as readable text (EPUB chapters, HTML e-mail bodies): one line per block element
(headings, paragraphs, list items, table rows, …), whitespace collapsed except in `<pre>`,
scripts, styles and the head left out — the element-per-line text Dify's partitioner gives.
The standard library's tolerant parser: no dependency, nothing fetched, no entities beyond
HTML's own."""

import re
from html.parser import HTMLParser

BLOCKS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr li main nav ol p pre section table tbody thead tr ul".split()
)
SKIPPED = frozenset(("script", "style", "head", "title", "template", "noscript"))
_SPACES = re.compile(r"\s+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skipping = 0
        self.preformatted = 0

    def flush(self) -> None:
        text = "".join(self.current)
        self.current = []
        if self.preformatted:
            self.lines += [line for line in text.splitlines() if line.strip()]
            return
        text = _SPACES.sub(" ", text).strip()
        if text:
            self.lines.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        elif tag in BLOCKS:
            self.flush()
            if tag == "pre":
                self.preformatted += 1
        elif tag in ("td", "th"):
            self.current.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCKS:
            self.flush()
            if tag == "pre":
                self.preformatted = max(0, self.preformatted - 1)

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.current.append(data)


def html_lines(markup: str) -> list[str]:
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    collector.flush()
    return collector.lines
