"""What an http-request node makes of a reply, as Dify does: whether it is a file (an
attachment or filename disposition, or a binary content type that does not look like
text), the size cap that applies (binary or text), the body text, and a stored file's
name and type."""

import mimetypes
from email.message import Message
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from app.engine.nodes.base import NodeError
from app.net.http_node import HttpReply

_BINARY_MAIN_TYPES = ("application", "image", "audio", "video")
_TEXT_APPLICATION_TYPES = ("json", "xml", "javascript", "x-www-form-urlencoded", "yaml", "graphql")
_TEXT_MARKERS = (b"{", b"[", b"<", b"function", b"var ", b"const ", b"let ")
MEBIBYTE = 1024 * 1024


def _disposition(reply: HttpReply) -> Message | None:
    value = reply.headers.get("content-disposition", "")
    if not value:
        return None
    message = Message()
    message["content-disposition"] = value
    return message


def disposition_filename(reply: HttpReply) -> str | None:
    message = _disposition(reply)
    name = message.get_filename() if message is not None else None
    return str(name) if name else None


def is_file(reply: HttpReply) -> bool:
    message = _disposition(reply)
    if message is not None and (
        message.get_content_disposition() == "attachment" or message.get_filename() is not None
    ):
        return True
    content_type = reply.content_type.split(";")[0].strip().lower()
    if content_type.startswith("text/") and "csv" not in content_type:
        return False
    if content_type.startswith("application/"):
        if any(kind in content_type for kind in _TEXT_APPLICATION_TYPES):
            return False
        if _looks_like_text(reply.content):
            return False
    extension = mimetypes.guess_extension(content_type) if content_type else None
    guessed, _ = mimetypes.guess_type("dummy" + (extension or ""))
    if guessed:
        return guessed.split("/")[0] in _BINARY_MAIN_TYPES
    return any(kind in content_type for kind in ("image/", "audio/", "video/"))


def _looks_like_text(content: bytes) -> bool:
    sample = content[:1024]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any(marker in sample for marker in _TEXT_MARKERS)


def readable_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < MEBIBYTE:
        return f"{size / 1024:.2f} KB"
    return f"{size / MEBIBYTE:.2f} MB"


def check_size(reply: HttpReply, as_file: bool, max_text: int, max_binary: int) -> None:
    limit = max_binary if as_file else max_text
    size = len(reply.content)
    if size > limit:
        raise NodeError(
            f"{'File' if as_file else 'Text'} size is too large,"
            f" max size is {limit / MEBIBYTE:.2f} MB,"
            f" but current size is {readable_size(size)}.",
            "ResponseSizeError",
        )


def text_of(reply: HttpReply) -> str:
    """The body as text: the declared charset, else UTF-8; undecodable bytes replaced."""
    charset = None
    if reply.content_type:
        message = Message()
        message["content-type"] = reply.content_type
        charset = message.get_content_charset()
    try:
        return reply.content.decode(charset or "utf-8", "replace")
    except LookupError:  # an unknown charset name
        return reply.content.decode("utf-8", "replace")


def file_identity(reply: HttpReply, url: str) -> tuple[str, str]:
    """(mime type, file name) for a file response: the disposition's file name, else the
    URL's last path segment, given an extension from the type when it has none."""
    named = disposition_filename(reply)
    from_name = mimetypes.guess_type(named)[0] if named else None
    path_name = unquote(PurePosixPath(urlsplit(url).path).name)
    header_type = reply.content_type.split(";")[0].strip().lower()
    mime = (
        from_name
        or header_type
        or (mimetypes.guess_type(path_name)[0] if path_name else None)
        or "application/octet-stream"
    )
    filename = PurePosixPath(named).name if named else path_name
    if not filename:
        filename = "file"
    if not PurePosixPath(filename).suffix:
        filename += mimetypes.guess_extension(mime) or ".bin"
    return mime, filename
