"""`<think>…</think>` reasoning inside model text (`reasoning_format`): `tagged` keeps it
in `text`; `separated` takes it out into `reasoning_content`, both from the whole answer
and, while streaming, from the chunks relayed to answers (a tag may be split across
chunks, so a few characters are held back until they cannot be the start of one)."""

import re

_OPEN = re.compile(r"<think(?:\s[^<>]{0,512})?>", re.IGNORECASE)
_CLOSE = re.compile(r"</think>", re.IGNORECASE)
_BLOCK = re.compile(r"<think(?:\s[^<>]{0,512})?>(.*?)</think>", re.IGNORECASE | re.DOTALL)
_UNCLOSED = re.compile(r"<think(?:\s[^<>]{0,512})?>(?P<rest>(?:(?!</think>)[\s\S])*)\Z", re.I)
_BLANK_LINES = re.compile(r"\n\s*\n")
_OPEN_PREFIX = "<think"
_CLOSE_TAG = "</think>"
_MAX_OPEN_TAG = len(_OPEN_PREFIX) + 1 + 512


def split_reasoning(text: str) -> tuple[str, str]:
    """(text without reasoning, the reasoning): each block's text stripped and joined by
    newlines; a trailing unclosed `<think>` is reasoning too; blank-line runs in the rest
    collapse to one blank line and it is stripped."""
    reasoning = [found.strip() for found in _BLOCK.findall(text) if found.strip()]
    clean = _BLOCK.sub("", text)
    trailing = _UNCLOSED.search(clean)
    if trailing is not None:
        rest = trailing.group("rest").strip()
        if rest:
            reasoning.append(rest)
        clean = clean[: trailing.start()]
    return _BLANK_LINES.sub("\n\n", clean).strip(), "\n".join(reasoning)


def strip_think(text: str) -> str:
    """The text with complete `<think>` blocks removed (what classifiers parse)."""
    return _BLOCK.sub("", text) if "<think" in text.lower() else text


class ThinkFilter:
    """Streams the answer part of `separated` output: feed chunks, get the text to relay."""

    def __init__(self) -> None:
        self._thinking = False
        self._held = ""
        self._started = False  # leading whitespace before the answer is dropped

    def feed(self, chunk: str) -> str:
        out: list[str] = []
        work = self._held + chunk
        self._held = ""
        while work:
            if self._thinking:
                match = _CLOSE.search(work)
                if match is None:
                    self._held = work[len(work) - self._close_tail(work) :]
                    return self._emit(out)
                self._thinking = False
                work = work[match.end() :]
                continue
            match = _OPEN.search(work)
            if match is not None:
                out.append(work[: match.start()])
                self._thinking = True
                work = work[match.end() :]
                continue
            keep = self._open_tail(work)
            out.append(work[: len(work) - keep])
            self._held = work[len(work) - keep :] if keep else ""
            break
        return self._emit(out)

    def finish(self) -> str:
        """What is still held once the stream ends (held reasoning is dropped)."""
        held, self._held = self._held, ""
        return "" if self._thinking else self._emit([held])

    def _emit(self, pieces: list[str]) -> str:
        text = "".join(pieces)
        if not self._started:
            text = text.lstrip()
            self._started = bool(text)
        return text

    @staticmethod
    def _open_tail(work: str) -> int:
        """How many trailing characters could still grow into `<think…>`."""
        start = work.rfind("<")
        if start < 0:
            return 0
        tail = work[start:]
        if ">" in tail:
            return 0
        lowered = tail.lower()
        if len(tail) <= len(_OPEN_PREFIX):
            return len(tail) if _OPEN_PREFIX.startswith(lowered) else 0
        if (
            lowered.startswith(_OPEN_PREFIX)
            and tail[len(_OPEN_PREFIX)].isspace()
            and len(tail) <= _MAX_OPEN_TAG
        ):
            return len(tail)
        return 0

    @staticmethod
    def _close_tail(work: str) -> int:
        """How many trailing characters could still grow into `</think>`."""
        for size in range(min(len(work), len(_CLOSE_TAG) - 1), 0, -1):
            if _CLOSE_TAG.startswith(work[-size:].lower()):
                return size
        return 0
