"""The fake upstream's audio answers: deterministic transcripts and speech bytes.

``POST /v1/audio/transcriptions`` (multipart ``file`` + ``model``) answers
``{"text": transcript_for(...)}``; ``POST /v1/audio/speech`` (JSON ``model``, ``input``,
``voice``) streams ``speech_bytes(...)`` as ``audio/mpeg`` in ``SPEECH_CHUNK``-byte chunks.
"""

from __future__ import annotations

import hashlib
from typing import Any

TRANSCRIPTION_PATHS = ("/v1/audio/transcriptions", "/audio/transcriptions")
SPEECH_PATHS = ("/v1/audio/speech", "/audio/speech")
SPEECH_CHUNK = 256


def transcript_for(content: bytes, content_type: str) -> str:
    digest = hashlib.sha256(content).hexdigest()[:12]
    return f"fake transcript of {len(content)} bytes of {content_type} ({digest})"


def speech_bytes(text: str, voice: str) -> bytes:
    """An ID3-tagged blob, about 16 bytes per character (at least 600), fixed by the input."""
    seed = hashlib.sha256(f"{voice}\n{text}".encode()).digest()
    size = max(600, 16 * len(text))
    out = bytearray(b"ID3\x04\x00\x00\x00\x00\x00\x00")
    block = seed
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def _params(value: str) -> tuple[str, dict[str, str]]:
    main, *rest = value.split(";")
    params: dict[str, str] = {}
    for item in rest:
        key, _, val = item.strip().partition("=")
        params[key.lower()] = val.strip().strip('"')
    return main.strip().lower(), params


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Any]]:
    """Plain fields, and the first file part as {name, filename, content_type, content}."""
    _, params = _params(content_type)
    delimiter = b"--" + params.get("boundary", "").encode()
    fields: dict[str, str] = {}
    upload: dict[str, Any] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        _, disposition = _params(headers.get("content-disposition", ""))
        name = disposition.get("name", "")
        if "filename" not in disposition:
            fields[name] = content.decode("utf-8", "replace")
        elif not upload:
            upload = {
                "name": name,
                "filename": disposition["filename"],
                "content_type": _params(headers.get("content-type", ""))[0],
                "content": content,
            }
    return fields, upload


def transcription_record(path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """What the fake keeps of a transcription request (the file as size and digest)."""
    fields, upload = parse_form(headers.get("content-type", ""), body)
    record: dict[str, Any] = dict(fields) | {"_path": path, "_headers": dict(headers)}
    if upload:
        content = upload.pop("content")
        upload |= {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        record["file"] = upload
        record["_content"] = content
    return record
