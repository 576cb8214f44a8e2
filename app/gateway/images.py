"""Image generation: an OpenAI-compatible `POST {base}/images/generations` (b64_json
answers decoded to bytes, URL answers kept as URLs), and the offline stand-in
(`provider: kiln`), which draws nothing: one tiny grey PNG per requested image."""

import base64
import binascii
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from app.gateway.openai_compat import post_json
from app.gateway.providers import ResolvedProvider
from app.gateway.types import UpstreamError

PNG = "image/png"


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    mime_type: str
    content: bytes | None = None
    url: str | None = None
    revised_prompt: str | None = None


def _decoded(b64: str) -> tuple[str, bytes]:
    """`data:image/…;base64,…` or plain base64 (PNG, as OpenAI answers)."""
    if b64.startswith("data:"):
        head, _, data = b64.partition(",")
        return head[5:].split(";")[0] or PNG, base64.b64decode(data)
    return PNG, base64.b64decode(b64)


async def openai_images(
    provider: ResolvedProvider, model: str, prompt: str, options: dict[str, Any], timeout: float
) -> list[GeneratedImage]:
    body = {"model": model, "prompt": prompt, "response_format": "b64_json", **options}
    resp = await post_json(provider, "/images/generations", body, timeout)
    try:
        items = orjson.loads(resp.content).get("data") or []
        images = []
        for item in items:
            revised = item.get("revised_prompt")
            if item.get("b64_json"):
                mime, content = _decoded(item["b64_json"])
                images.append(GeneratedImage(mime, content=content, revised_prompt=revised))
            elif item.get("url"):
                images.append(GeneratedImage(PNG, url=item["url"], revised_prompt=revised))
        return images
    except (orjson.JSONDecodeError, AttributeError, TypeError, binascii.Error, ValueError):
        raise UpstreamError(f"[{provider.id}] Malformed image generation answer") from None


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def grey_png(size: int = 8) -> bytes:
    """A valid size×size grey PNG."""
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = b"".join(b"\x00" + b"\x80" * size for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


def offline_images(n: int) -> list[GeneratedImage]:
    return [GeneratedImage(PNG, content=grey_png()) for _ in range(max(1, n))]
