"""File classes as Dify groups them (size limits, chat file types) and a magic-number check
of an upload's extension against its first bytes."""

import mimetypes
from collections.abc import Callable

from app.core.config import Settings

IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "webp", "gif", "svg"})
VIDEO_EXTENSIONS = frozenset({"mp4", "mov", "mpeg", "webm"})
AUDIO_EXTENSIONS = frozenset({"mp3", "m4a", "wav", "amr", "mpga"})
DOCUMENT_EXTENSIONS = frozenset(
    {
        "txt", "markdown", "md", "mdx", "pdf", "html", "htm", "xlsx", "xls", "docx", "csv",
        "vtt", "properties", "doc", "eml", "msg", "pptx", "xml", "epub", "ppt",
    }
)  # fmt: skip
FILE_TYPES = ("image", "document", "audio", "video", "custom")
SNIFF_BYTES = 512
MB = 1024 * 1024


def size_limit(extension: str, settings: Settings) -> int:
    """Bytes allowed for an upload with this extension (Dify's per-class limits)."""
    if extension in IMAGE_EXTENSIONS:
        return settings.upload_image_file_size_limit * MB
    if extension in VIDEO_EXTENSIONS:
        return settings.upload_video_file_size_limit * MB
    if extension in AUDIO_EXTENSIONS:
        return settings.upload_audio_file_size_limit * MB
    return settings.upload_file_size_limit * MB


def detect_type(extension: str, mime_type: str | None) -> str:
    """Dify's standardisation: by extension first, then by MIME type, else `custom`."""
    ext = extension.lower().lstrip(".")
    for kind, known in (
        ("image", IMAGE_EXTENSIONS),
        ("video", VIDEO_EXTENSIONS),
        ("audio", AUDIO_EXTENSIONS),
        ("document", DOCUMENT_EXTENSIONS),
    ):
        if ext in known:
            return kind
    mime = (mime_type or "").lower()
    for prefix in ("image", "video", "audio"):
        if mime.startswith(prefix + "/"):
            return prefix
    if mime.startswith("text/") or mime in ("application/pdf", "application/json"):
        return "document"
    return "custom"


def guess_mime(name: str) -> str | None:
    return mimetypes.guess_type(name)[0]


def _at(offset: int, magic: bytes) -> Callable[[bytes], bool]:
    return lambda head: head[offset : offset + len(magic)] == magic


def _any(*checks: Callable[[bytes], bool]) -> Callable[[bytes], bool]:
    return lambda head: any(check(head) for check in checks)


def _svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg"))


_ZIP = _at(0, b"PK\x03\x04")
_OLE = _at(0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
_ISO_MEDIA = _at(4, b"ftyp")
_EBML = _at(0, b"\x1a\x45\xdf\xa3")
_MPEG_PS = _any(_at(0, b"\x00\x00\x01\xba"), _at(0, b"\x00\x00\x01\xb3"), _at(0, b"\x47"))
_MP3 = _any(
    _at(0, b"ID3"), _at(0, b"\xff\xfb"), _at(0, b"\xff\xf3"), _at(0, b"\xff\xf2"),
    _at(0, b"\xff\xfa"), _at(0, b"\xff\xe3"),
)  # fmt: skip

# Extensions whose content has a reliable signature. Others are not sniffed (text formats,
# unknown types): Dify has no extension whitelist for app uploads.
SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "png": _at(0, b"\x89PNG\r\n\x1a\n"),
    "jpg": _at(0, b"\xff\xd8\xff"),
    "jpeg": _at(0, b"\xff\xd8\xff"),
    "gif": _any(_at(0, b"GIF87a"), _at(0, b"GIF89a")),
    "webp": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
    "svg": _svg,
    "pdf": _at(0, b"%PDF-"),
    "docx": _ZIP,
    "xlsx": _ZIP,
    "pptx": _ZIP,
    "epub": _ZIP,
    "doc": _OLE,
    "xls": _OLE,
    "ppt": _OLE,
    "msg": _OLE,
    "mp4": _ISO_MEDIA,
    "m4a": _ISO_MEDIA,
    "mov": _any(_ISO_MEDIA, _at(4, b"moov"), _at(4, b"mdat"), _at(4, b"wide")),
    "webm": _EBML,
    "mpeg": _MPEG_PS,
    "mp3": _MP3,
    "mpga": _MP3,
    "wav": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WAVE",
    "amr": _at(0, b"#!AMR"),
}


def content_matches(extension: str, head: bytes) -> bool:
    """False only when the extension has a known signature the content lacks."""
    check = SIGNATURES.get(extension)
    return check is None or check(head)
