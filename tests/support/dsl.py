"""Build Dify DSL documents for tests and import them as a user would get them."""

from typing import Any

import yaml

from app.services.apps.importer import import_app


def chat_dsl(
    *,
    mode: str = "chat",
    provider: str = "kiln",
    model: str = "echo",
    pre_prompt: str = "You are a helpful assistant.",
    form: list[dict[str, Any]] | None = None,
    params: dict[str, Any] | None = None,
    name: str = "Test App",
    model_mode: str = "chat",
    **model_config: Any,
) -> str:
    document = {
        "version": "0.6.0",
        "kind": "app",
        "app": {
            "name": name,
            "mode": mode,
            "icon": "🤖",
            "icon_background": "#FFEAD5",
            "description": f"{name} for tests",
        },
        "model_config": {
            "model": {
                "provider": provider,
                "name": model,
                "mode": model_mode,
                "completion_params": params or {},
            },
            "pre_prompt": pre_prompt,
            "prompt_type": "simple",
            "user_input_form": form or [],
            "opening_statement": "",
            **model_config,
        },
    }
    return yaml.safe_dump(document, allow_unicode=True)


async def make_app(text: str) -> tuple[str, str]:
    """Import DSL text; return (app_id, api_key)."""
    imported = await import_app(text)
    assert imported.api_key is not None
    return imported.app.id, imported.api_key


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
