"""Read `POST /audio-to-text`'s multipart body as it arrives: the audio part is checked
(feature, type) as soon as its headers are in and refused the moment it passes Dify's
30 MB, so an oversized upload is never held in memory or read to its end."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.core.errors import BadRequest
from app.gateway.audio_types import AudioUpload
from app.services.audio.errors import AudioTooLarge, BadRequestKeyError, UnsupportedAudioType

FILE_SIZE_MB = 30
FILE_SIZE_LIMIT = FILE_SIZE_MB * 1024 * 1024
ALLOWED_EXTENSIONS = ("mp3", "mp4", "mpeg", "mpga", "m4a", "wav", "webm", "amr")
ALLOWED_MIMETYPES = tuple(f"audio/{ext}" for ext in ALLOWED_EXTENSIONS)
FIELD_LIMIT = 64 * 1024  # bytes of any plain form field (`user`)


@dataclass(slots=True)
class AudioForm:
    fields: dict[str, str]
    file: AudioUpload


@dataclass(slots=True)
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    is_file: bool = False
    keep: bool = False  # the audio part, or a plain field we store
    data: bytearray = field(default_factory=bytearray)


def _upload_filename(mimetype: str) -> str:
    """Providers detect the format by extension; Dify always says `temp.mp3`."""
    ext = mimetype.removeprefix("audio/")
    return f"audio.{'mp3' if ext == 'mpeg' else ext}"


class _Reader:
    def __init__(self, on_audio_part: Callable[[], None]) -> None:
        self.on_audio_part = on_audio_part
        self.fields: dict[str, str] = {}
        self.audio: AudioUpload | None = None
        self._audio_type = ""
        self._audio_seen = False
        self._part = _Part()
        self._header_name = b""
        self._header_value = b""

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_cb,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self._part = _Part()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._part.headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        part = self._part
        _, options = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = options.get(b"name", b"").decode("utf-8", "replace")
        part.is_file = b"filename" in options
        if part.is_file and part.name == "file" and not self._audio_seen:
            # Dify's order once the part exists: feature switch, then type, then size.
            self._audio_seen = True
            self.on_audio_part()
            raw_type, _ = parse_options_header(part.headers.get(b"content-type", b""))
            self._audio_type = raw_type.decode("latin-1").lower()
            if self._audio_type not in ALLOWED_MIMETYPES:
                raise UnsupportedAudioType()
            part.keep = True
        elif not part.is_file:
            part.keep = part.name not in self.fields

    def _data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if not part.keep:
            return
        part.data += data[start:end]
        if part.is_file and len(part.data) > FILE_SIZE_LIMIT:
            raise AudioTooLarge(f"Audio size larger than {FILE_SIZE_MB} mb")
        if not part.is_file and len(part.data) > FIELD_LIMIT:
            raise BadRequest(f"Form field {part.name!r} is too large.")

    def _end(self) -> None:
        part = self._part
        if not part.keep:
            return
        if part.is_file:
            self.audio = AudioUpload(
                bytes(part.data), _upload_filename(self._audio_type), self._audio_type
            )
        else:
            self.fields[part.name] = part.data.decode("utf-8", "replace")


async def read_audio_form(
    content_type: str, body: AsyncIterator[bytes], on_audio_part: Callable[[], None]
) -> AudioForm:
    """`on_audio_part` runs when the audio part's headers arrive (the feature check).

    A body that is not multipart, or has no `file` part, is Werkzeug's KeyError answer."""
    mimetype, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if mimetype != b"multipart/form-data" or not boundary:
        raise BadRequestKeyError()
    reader = _Reader(on_audio_part)
    parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError:
        raise BadRequest() from None
    if reader.audio is None:
        raise BadRequestKeyError()
    return AudioForm(reader.fields, reader.audio)
