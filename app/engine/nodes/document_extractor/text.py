"""Text-like files, as Dify decodes and renders them: plain text (source code, Markdown,
HTML and XML included, markup kept) in its detected encoding, JSON and YAML re-dumped
pretty, Java properties as `key: value` lines, WebVTT captions as `Speaker "text"` lines."""

import json
import re
from typing import Any

import charset_normalizer
import yaml

from app.engine.nodes.document_extractor.budget import Budget
from app.engine.nodes.document_extractor.errors import TextExtractionError

# The encodings Dify lets the detector choose between for plain text.
PLAIN_TEXT_ENCODINGS = ["utf_8", "latin_1", "cp1252"]


def decode(content: bytes, candidates: list[str] | None = None) -> str:
    """The bytes in their most likely encoding; bytes the encoding cannot read are dropped,
    as Dify decodes. Valid UTF-8 is taken as UTF-8 first: the detector alone reads a short
    UTF-8 text with one symbol as cp1252 (`✓` → `âœ“`)."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(content, cp_isolation=candidates).best()
    encoding = (best.encoding if best is not None else None) or "utf-8"
    try:
        return content.decode(encoding, errors="ignore")
    except LookupError:
        return content.decode("utf-8", errors="ignore")


def plain_text(content: bytes, budget: Budget) -> str:
    return decode(content, PLAIN_TEXT_ENCODINGS)


def json_text(content: bytes, budget: Budget) -> str:
    try:
        data = json.loads(decode(content))
    except json.JSONDecodeError as first:
        try:
            data = json.loads(content.decode("utf-8", errors="ignore"))
        except json.JSONDecodeError:
            raise TextExtractionError(f"Failed to decode or parse JSON file: {first}") from None
    return json.dumps(data, indent=2, ensure_ascii=False)


def _yaml_dump(text: str) -> str:
    documents: list[Any] = list(yaml.safe_load_all(text))
    return yaml.dump_all(documents, allow_unicode=True, sort_keys=False)


def yaml_text(content: bytes, budget: Budget) -> str:
    try:
        return _yaml_dump(decode(content))
    except yaml.YAMLError as first:
        try:
            return _yaml_dump(content.decode("utf-8", errors="ignore"))
        except yaml.YAMLError:
            raise TextExtractionError(f"Failed to decode or parse YAML file: {first}") from None


def _property_line(line: str) -> str:
    stripped = line.strip()
    if not stripped or stripped.startswith(("#", "!")):
        return stripped
    if "=" in stripped:
        key, value = stripped.split("=", 1)
    elif ":" in stripped:
        key, value = stripped.split(":", 1)
    else:
        key, value = stripped, ""
    return f"{key.strip()}: {value.strip()}"


def properties_text(content: bytes, budget: Budget) -> str:
    text = decode(content, PLAIN_TEXT_ENCODINGS)
    return "\n".join(_property_line(line) for line in text.splitlines())


_VOICE = re.compile(r"^<v(?:\.[^\s>]*)?\s+([^>]*)>")
_TAG = re.compile(r"<[^>]+>")


def _cues(text: str) -> list[tuple[str | None, str]]:
    """(voice, text) of every cue: the lines after a timing line, up to a blank line."""
    found: list[tuple[str | None, str]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if "-->" not in lines[index]:
            index += 1
            continue
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip():
            body.append(lines[index])
            index += 1
        joined = "\n".join(body)
        match = _VOICE.match(joined)
        voice = match.group(1).strip() if match else None
        found.append((voice, _TAG.sub("", joined).strip()))
    return found


def vtt_text(content: bytes, budget: Budget) -> str:
    """Consecutive cues of one named speaker merge into one line, as Dify renders captions
    (cues without a speaker stay lines of their own)."""
    merged: list[tuple[str | None, str]] = []
    for voice, words in _cues(decode(content, PLAIN_TEXT_ENCODINGS).lstrip("\ufeff")):
        if voice is not None and merged and merged[-1][0] == voice:
            merged[-1] = (voice, f"{merged[-1][1]} {words}")
        else:
            merged.append((voice, words))
    return "\n".join(f'{speaker or ""} "{text}"' for speaker, text in merged)
