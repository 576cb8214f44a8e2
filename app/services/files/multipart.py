"""Parse a multipart/form-data body while it streams in (python-multipart's push parser fed
from the ASGI body stream), as a pull-style sequence of events. Nothing is buffered beyond
one received chunk, except small text fields (capped)."""

import re
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import unquote

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.core.errors import BadRequest

MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 32


@dataclass(slots=True)
class Field:
    name: str
    value: str


@dataclass(slots=True)
class FileStart:
    name: str
    filename: str | None
    content_type: str


@dataclass(slots=True)
class FileData:
    data: bytes


@dataclass(slots=True)
class FileEnd:
    pass


Event = Field | FileStart | FileData | FileEnd


# RFC 5987 `filename*=charset'lang'percent-encoded`, which parse_options_header drops.
_EXTENDED_FILENAME = re.compile(rb"""filename\*\s*=\s*"?([^";]+)"?""", re.IGNORECASE)


def _filename(disposition: bytes, options: dict[bytes, bytes]) -> str | None:
    """The part's file name: `filename*` before `filename`, as Werkzeug reads them."""
    found = _EXTENDED_FILENAME.search(disposition)
    if found is not None:
        charset, _, rest = found.group(1).decode("latin-1").strip().partition("'")
        _, _, encoded = rest.partition("'")
        try:
            return unquote(encoded, encoding=charset or "utf-8", errors="replace")
        except LookupError:  # an unknown charset
            return unquote(encoded, errors="replace")
    raw = options.get(b"filename")
    return None if raw is None else raw.decode("utf-8", "replace")


def boundary_of(content_type: str) -> bytes | None:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    return options.get(b"boundary") or None


class MultipartReader:
    """`async for event in reader` yields Field, FileStart, FileData..., FileEnd."""

    def __init__(self, body: AsyncIterator[bytes], boundary: bytes) -> None:
        self._body = body
        self._events: deque[Event] = deque()
        self._headers: dict[bytes, bytes] = {}
        self._header_name = b""
        self._header_value = b""
        self._field: tuple[str, bytearray] | None = None
        self._in_file = False
        self._parts = 0
        self._ended = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_cb,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    def __aiter__(self) -> "MultipartReader":
        return self

    async def __anext__(self) -> Event:
        while not self._events:
            if self._ended:
                raise StopAsyncIteration
            try:
                chunk = await anext(self._body)
            except StopAsyncIteration:
                if not self._ended:
                    raise BadRequest("The multipart body ended early.") from None
                raise
            if not chunk:
                continue
            try:
                self._parser.write(chunk)
            except MultipartParseError:
                raise BadRequest("The multipart body is malformed.") from None
        return self._events.popleft()

    # -- parser callbacks (synchronous) --------------------------------------
    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise BadRequest("Too many parts in the multipart body.")
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition", b"")
        _, options = parse_options_header(disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = _filename(disposition, options)
        if filename is None:
            self._field = (name, bytearray())
            return
        self._in_file = True
        content_type = self._headers.get(b"content-type", b"").decode("latin-1").strip()
        self._events.append(FileStart(name, filename, content_type))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._events.append(FileData(bytes(data[start:end])))
        elif self._field is not None:
            self._field[1].extend(data[start:end])
            if len(self._field[1]) > MAX_FIELD_BYTES:
                raise BadRequest("A form field is too large.")

    def _part_end(self) -> None:
        if self._in_file:
            self._events.append(FileEnd())
        elif self._field is not None:
            name, value = self._field
            self._events.append(Field(name, value.decode("utf-8", "replace")))
        self._in_file = False
        self._field = None

    def _end(self) -> None:
        self._ended = True
