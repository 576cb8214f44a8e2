"""Every native builtin provider Kiln has, in one list (the builtin provider's catalogue)."""

from app.integrations.tools.builtin import (
    audio,
    base64_codec,
    dalle,
    duckduckgo,
    jina,
    json_process,
    tavily,
    time,
    url_codec,
    webscraper,
)
from app.integrations.tools.builtin.base import BuiltinProviderDef

PROVIDERS: tuple[BuiltinProviderDef, ...] = (
    time.PROVIDER,
    webscraper.PROVIDER,
    jina.PROVIDER,
    duckduckgo.PROVIDER,
    tavily.PROVIDER,
    json_process.PROVIDER,
    base64_codec.PROVIDER,
    url_codec.PROVIDER,
    audio.PROVIDER,
    dalle.PROVIDER,
)
