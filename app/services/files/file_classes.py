"""File classes as Dify groups them (size limits, chat file types)."""

import mimetypes

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


def largest_upload_limit(settings: Settings) -> int:
    """Bytes allowed for the largest upload of any class."""
    limits = (
        settings.upload_image_file_size_limit,
        settings.upload_video_file_size_limit,
        settings.upload_audio_file_size_limit,
        settings.upload_file_size_limit,
    )
    return max(limits) * MB


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
