"""Prices and context windows from litellm's bundled cost map, read as plain JSON.

Reading the file directly keeps litellm's multi-second import off this path.
"""

import importlib.util
import json
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.gateway.providers import OFFLINE_PROVIDER, PROVIDERS, provider_id

PER_MILLION = Decimal("0.000001")
PRICE_QUANTUM = Decimal("0.0000001")
OFFLINE_CONTEXT_SIZE = 8192


@lru_cache(maxsize=1)
def _cost_map() -> dict[str, Any]:
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations)))
    path = path / "model_prices_and_context_window_backup.json"
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def model_info(provider: str, model: str) -> dict[str, Any]:
    pid = provider_id(provider)
    spec = PROVIDERS.get(pid)
    prefix = spec.litellm_prefix if spec else pid
    table = _cost_map()
    for key in (f"{prefix}/{model}", model):
        info = table.get(key)
        if isinstance(info, dict):
            return info
    return {}


def context_size(provider: str, model: str) -> int | None:
    if provider_id(provider) == OFFLINE_PROVIDER:
        return OFFLINE_CONTEXT_SIZE
    info = model_info(provider, model)
    size = info.get("max_input_tokens") or info.get("max_tokens")
    return int(size) if size else None


def _price(tokens: int, per_token: Any) -> tuple[Decimal, Decimal, Decimal]:
    if not per_token:
        return Decimal("0"), Decimal("0"), Decimal("0")
    unit_price = (Decimal(str(per_token)) / PER_MILLION).normalize()
    total = (Decimal(tokens) * unit_price * PER_MILLION).quantize(PRICE_QUANTUM, ROUND_HALF_UP)
    return unit_price, PER_MILLION, total


def build_usage(
    provider: str, model: str, prompt_tokens: int, completion_tokens: int, latency: float
) -> dict[str, Any]:
    """Dify's usage object: token counts as ints, prices as decimal strings."""
    info = model_info(provider, model) if provider_id(provider) != OFFLINE_PROVIDER else {}
    p_unit, p_price_unit, p_price = _price(prompt_tokens, info.get("input_cost_per_token"))
    c_unit, c_price_unit, c_price = _price(completion_tokens, info.get("output_cost_per_token"))
    return {
        "prompt_tokens": prompt_tokens,
        "prompt_unit_price": f"{p_unit:f}",
        "prompt_price_unit": f"{p_price_unit:f}",
        "prompt_price": f"{p_price:f}",
        "completion_tokens": completion_tokens,
        "completion_unit_price": f"{c_unit:f}",
        "completion_price_unit": f"{c_price_unit:f}",
        "completion_price": f"{c_price:f}",
        "total_tokens": prompt_tokens + completion_tokens,
        "total_price": f"{(p_price + c_price):f}",
        "currency": "USD",
        "latency": round(latency, 6),
    }


def empty_usage() -> dict[str, Any]:
    return build_usage(OFFLINE_PROVIDER, "", 0, 0, 0.0)
