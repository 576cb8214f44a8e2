"""One-shot text from an app's own model (titles, suggestions) and robust JSON extraction
from whatever the model wrote around it."""

import asyncio
import json
from typing import Any

from app.engine.app_config import ModelSettings, load_app_config
from app.gateway.types import ModelRequest
from app.models import App
from app.runtime import Runtime

CALL_TIMEOUT = 60.0
_DECODER = json.JSONDecoder()


def _first_llm_model(app: App) -> ModelSettings | None:
    """Graph apps have no app model: their first LLM node's model writes titles and
    suggestions (Dify uses the workspace default model, which Kiln does not have)."""
    workflow = app.dsl.get("workflow")
    nodes = ((workflow or {}).get("graph") or {}).get("nodes") if isinstance(workflow, dict) else []
    for node in nodes or []:
        data = node.get("data") if isinstance(node, dict) else None
        if (
            isinstance(data, dict)
            and data.get("type") == "llm"
            and isinstance(data.get("model"), dict)
        ):
            return load_app_config(app.app_mode, {"model": data["model"]}).model
    return None


def app_model(app: App) -> ModelSettings | None:
    if app.app_mode.is_graph:
        return _first_llm_model(app)
    model_config = app.dsl.get("model_config")
    if not isinstance(model_config, dict):
        return None
    try:
        return load_app_config(app.app_mode, model_config).model
    except Exception:
        return None


async def complete(runtime: Runtime, app: App, prompt: str, params: dict[str, Any]) -> str:
    """The app's model answering one user message; raises on any failure."""
    model = app_model(app)
    if model is None:
        raise ValueError("the app has no model")
    request = ModelRequest(
        model.provider,
        model.name,
        [{"role": "user", "content": prompt}],
        params=dict(params),
        mode=model.mode,
    )
    return await asyncio.wait_for(runtime.gateway.complete(request), CALL_TIMEOUT)


def first_json(text: str, kind: type) -> Any:
    """The first JSON value of type `kind` (dict or list) found anywhere in `text`."""
    opener = "{" if kind is dict else "["
    index = text.find(opener)
    while index != -1:
        try:
            value, _ = _DECODER.raw_decode(text, index)
        except ValueError:
            value = None
        if isinstance(value, kind):
            return value
        index = text.find(opener, index + 1)
    return None
