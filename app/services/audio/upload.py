"""Read `POST /audio-to-text`'s multipart body as it arrives (the shared streaming reader,
app/services/files/multipart.py): the audio part is checked (feature, type) as soon as its
headers are in and refused the moment it passes Dify's 30 MB, so an oversized upload is
never held in memory or read to its end."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from python_multipart.multipart import parse_options_header

from app.gateway.audio_types import AudioUpload
from app.services.audio.errors import AudioTooLarge, BadRequestKeyError, UnsupportedAudioType
from app.services.files.multipart import (
    Field,
    FileData,
    FileEnd,
    FileStart,
    MultipartReader,
    boundary_of,
)

FILE_SIZE_MB = 30
FILE_SIZE_LIMIT = FILE_SIZE_MB * 1024 * 1024
ALLOWED_EXTENSIONS = ("mp3", "mp4", "mpeg", "mpga", "m4a", "wav", "webm", "amr")
ALLOWED_MIMETYPES = tuple(f"audio/{ext}" for ext in ALLOWED_EXTENSIONS)


@dataclass(slots=True)
class AudioForm:
    fields: dict[str, str]
    file: AudioUpload


def _upload_filename(mimetype: str) -> str:
    """Providers detect the format by extension; Dify always says `temp.mp3`."""
    ext = mimetype.removeprefix("audio/")
    return f"audio.{'mp3' if ext == 'mpeg' else ext}"


def _audio_type(start: FileStart) -> str:
    raw_type, _ = parse_options_header(start.content_type)
    mimetype = raw_type.decode("latin-1").lower()
    if mimetype not in ALLOWED_MIMETYPES:
        raise UnsupportedAudioType()
    return mimetype


async def _read_audio(reader: MultipartReader) -> bytes:
    data = bytearray()
    async for event in reader:
        if isinstance(event, FileEnd):
            break
        if isinstance(event, FileData):
            data += event.data
            if len(data) > FILE_SIZE_LIMIT:
                raise AudioTooLarge(f"Audio size larger than {FILE_SIZE_MB} mb")
    return bytes(data)


async def read_audio_form(
    content_type: str, body: AsyncIterator[bytes], on_audio_part: Callable[[], None]
) -> AudioForm:
    """`on_audio_part` runs when the audio part's headers arrive (the feature check).

    A body that is not multipart, or has no `file` part, is Werkzeug's KeyError answer."""
    boundary = boundary_of(content_type)
    if boundary is None:
        raise BadRequestKeyError()
    fields: dict[str, str] = {}
    audio: AudioUpload | None = None
    reader = MultipartReader(body, boundary)
    async for event in reader:
        if isinstance(event, Field):
            fields.setdefault(event.name, event.value)  # the first one counts (Werkzeug)
        elif isinstance(event, FileStart) and event.name == "file" and audio is None:
            # Dify's order once the part exists: feature switch, then type, then size.
            on_audio_part()
            mimetype = _audio_type(event)
            content = await _read_audio(reader)
            audio = AudioUpload(content, _upload_filename(mimetype), mimetype)
    if audio is None:
        raise BadRequestKeyError()
    return AudioForm(fields, audio)
