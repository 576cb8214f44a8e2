"""A cheap, provider-neutral token estimate: words and punctuation marks."""

import re
from collections.abc import Mapping, Sequence
from typing import Any

TOKEN_PATTERN = re.compile(r"\s*(?:\w+|[^\w\s])", re.UNICODE)


def split_tokens(text: str) -> list[str]:
    """Pieces that concatenate back to `text` (trailing whitespace kept on the last)."""
    pieces = TOKEN_PATTERN.findall(text)
    rest = len(text) - sum(len(p) for p in pieces)
    if rest and pieces:
        pieces[-1] += text[-rest:]
    elif rest:
        pieces = [text]
    return pieces


def count_tokens(text: str) -> int:
    return len(TOKEN_PATTERN.findall(text))


def count_message_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            total += count_tokens(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text":
                    total += count_tokens(str(part.get("text", "")))
        total += 3  # role and separators, as chat formats add per message
    return total
