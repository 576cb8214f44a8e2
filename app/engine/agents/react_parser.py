"""Reads a ReAct model's output as it streams, as Dify's CotAgentOutputParser does: JSON
blobs (inside ``` code blocks or bare `{…}`) with an action key and an `…input…` key are
actions; everything else is thought text, with the `Thought:` and `Action:` labels (at the
start of a line or after a space, any case) left out. Text comes out in pieces as it is
read, so a caller can stream the thought."""

import json
import re
from typing import Any

from app.engine.agents.steps import Action

LABELS = ("action:", "thought:")
_TEXT, _CODE, _JSON = 0, 1, 2
_FENCE = "```"
_BLOCK_JSON = re.compile(r"[\[{].*[\]}]", re.DOTALL)
_LANGUAGE_LINE = re.compile(r"^[a-zA-Z]+\n", re.MULTILINE)

Piece = str | Action


def parse_action(value: Any) -> Piece:
    """An Action when `value` (JSON text or a parsed value) is one, else its text."""
    parsed = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value, strict=False)
        except ValueError:
            return value
    if isinstance(parsed, list) and len(parsed) == 1:  # some models wrap it in a list
        parsed = parsed[0]
    if not isinstance(parsed, dict):
        return json.dumps(parsed)
    name: str | None = None
    given: Any = None
    for key, item in parsed.items():
        if "input" in str(key).lower():
            given = item
        elif isinstance(item, str):
            name = item
    if name is not None and given is not None:
        return Action(name, given)
    return json.dumps(parsed)


def _code_block_actions(code: str) -> list[Piece] | None:
    """The actions in a code block's text, or None when it holds no JSON."""
    found = _BLOCK_JSON.search(code)
    if found is None:
        return None
    try:
        parsed = json.loads(_LANGUAGE_LINE.sub("", found.group(0).strip()), strict=False)
    except ValueError:
        return None
    return [parse_action(parsed)]


class ReactParser:
    def __init__(self) -> None:
        self._mode = _TEXT
        self._ticks = 0  # backticks seen in a row (outside a block: maybe a fence)
        self._buffer = ""  # a code block's text, or a JSON blob's
        self._depth = 0
        self._label = ""  # characters that may be the start of a label
        self._last = ""  # the previous character read outside blocks
        self._out: list[Piece] = []
        self._text = ""

    def feed(self, chunk: str) -> list[Piece]:
        for char in chunk:
            if self._mode == _CODE:
                self._in_code(char)
            elif self._mode == _JSON:
                self._in_json(char)
            else:
                self._in_text(char)
        return self._drain()

    def finish(self) -> list[Piece]:
        """What is left when the stream ends: held text, an unclosed block or blob."""
        self._flush_label()
        if self._mode == _CODE:
            self._emit_text(_FENCE + self._buffer + "`" * self._ticks)
        elif self._mode == _JSON:
            self._emit(parse_action(self._buffer))
        elif self._ticks:
            self._emit_text("`" * self._ticks)
        self._mode, self._ticks, self._buffer = _TEXT, 0, ""
        return self._drain()

    # -- states ------------------------------------------------------------------------
    def _in_text(self, char: str) -> None:
        if char == "`":
            self._flush_label()
            self._ticks += 1
            if self._ticks == len(_FENCE):
                self._mode, self._ticks, self._buffer = _CODE, 0, ""
            return
        if self._ticks:
            self._emit_text("`" * self._ticks)  # inline code ticks are kept
            self._ticks = 0
        if self._label:
            held = (self._label + char).lower()
            if any(label.startswith(held) for label in LABELS):
                self._label += char
                if held in LABELS:
                    self._label, self._last = "", char
                return
            self._flush_label()
            self._last = char  # Dify starts no label right after a broken one
        elif self._last in ("", "\n", " ") and any(
            label.startswith(char.lower()) for label in LABELS
        ):
            self._label = char  # held as written until it is a label or is not
            return
        if char == "{":
            self._mode, self._depth, self._buffer = _JSON, 1, "{"
            return
        self._emit_text(char)
        self._last = char

    def _in_json(self, char: str) -> None:
        self._buffer += char
        if char == "{":
            self._depth += 1
        elif char == "}":
            self._depth -= 1
            if self._depth == 0:
                self._emit(parse_action(self._buffer))
                self._mode, self._buffer, self._last = _TEXT, "", char

    def _in_code(self, char: str) -> None:
        if char == "`":
            self._ticks += 1
            if self._ticks < len(_FENCE):
                return
            code, self._mode, self._ticks, self._buffer = self._buffer, _TEXT, 0, ""
            self._last = "`"
            pieces = _code_block_actions(code)
            if pieces is None:
                self._emit_text(code)
            else:
                for piece in pieces:
                    self._emit(piece)
            return
        if self._ticks:
            self._buffer += "`" * self._ticks
            self._ticks = 0
        self._buffer += char

    # -- output ------------------------------------------------------------------------
    def _flush_label(self) -> None:
        if self._label:
            self._emit_text(self._label)
            self._label = ""

    def _emit_text(self, text: str) -> None:
        if text:
            self._text += text

    def _emit(self, piece: Piece) -> None:
        if isinstance(piece, str):
            self._emit_text(piece)
            return
        if self._text:
            self._out.append(self._text)
            self._text = ""
        self._out.append(piece)

    def _drain(self) -> list[Piece]:
        if self._text:
            self._out.append(self._text)
            self._text = ""
        out, self._out = self._out, []
        return out
