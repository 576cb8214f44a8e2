"""Files a tool made, as the run's files: bytes are stored through the run's `save_file`
(a `tool_file` served by signed URL), a URL becomes a remote-URL file value."""

import mimetypes
from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from app.engine.variables.values import FileValue
from app.integrations.tools.base import ToolFile

SaveFile = Callable[[bytes, str, str], Awaitable[FileValue]]


def file_type(mime_type: str) -> str:
    """Dify's file type of a MIME type."""
    mime = mime_type.lower()
    for prefix in ("image", "video", "audio"):
        if mime.startswith(prefix + "/"):
            return prefix
    if mime.startswith("text/") or mime in ("application/pdf", "application/json"):
        return "document"
    return "custom"


def _name_of(tool_file: ToolFile, url: str | None) -> str:
    if tool_file.filename:
        return tool_file.filename
    path_name = unquote(PurePosixPath(urlsplit(url).path).name) if url else ""
    if path_name:
        return path_name
    return "file" + (mimetypes.guess_extension(tool_file.mime_type or "") or ".bin")


def remote_file(tool_file: ToolFile) -> FileValue:
    url = tool_file.url or ""
    name = _name_of(tool_file, url)
    mime = tool_file.mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileValue(
        type=file_type(mime),
        transfer_method="remote_url",
        filename=name,
        extension=PurePosixPath(name).suffix,
        mime_type=mime,
        url=url,
        remote_url=url,
    )


async def run_files(
    made: list[ToolFile], save: SaveFile | None
) -> tuple[list[FileValue], list[str]]:
    """The file values, and notes on files that could not be kept (no storage)."""
    values: list[FileValue] = []
    notes: list[str] = []
    for tool_file in made:
        if tool_file.content is not None:
            if save is None:
                notes.append(
                    f"a {tool_file.mime_type} file of {len(tool_file.content)} bytes was not"
                    " kept: this run has no file storage"
                )
                continue
            mime = tool_file.mime_type or "application/octet-stream"
            values.append(await save(tool_file.content, mime, _name_of(tool_file, None)))
        elif tool_file.url:
            values.append(remote_file(tool_file))
    return values, notes
