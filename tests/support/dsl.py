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


FEATURES: dict[str, Any] = {
    "file_upload": {"enabled": False},
    "opening_statement": "",
    "retriever_resource": {"enabled": True},
    "sensitive_word_avoidance": {"enabled": False},
    "speech_to_text": {"enabled": False},
    "suggested_questions": [],
    "suggested_questions_after_answer": {"enabled": False},
    "text_to_speech": {"enabled": False},
}


def file_start(*methods: str, variable: str = "doc") -> dict[str, Any]:
    """A start node asking for one required document file, sent by `methods`."""
    field = {
        "variable": variable,
        "label": variable.title(),
        "type": "file",
        "required": True,
        "allowed_file_types": ["document"],
        "allowed_file_upload_methods": list(methods or ("local_file",)),
    }
    return {"id": "start", "type": "start", "variables": [field]}


def graph_dsl(
    mode: str,
    nodes: list[dict[str, Any]],
    edges: list[tuple[str, str] | tuple[str, str, str]],
    *,
    name: str = "Graph App",
    environment: list[dict[str, Any]] | None = None,
    conversation_variables: list[dict[str, Any]] | None = None,
    app_fields: dict[str, Any] | None = None,
    **features: Any,
) -> str:
    """A graph app: nodes as `{"id", **data}` (data needs `type`), edges as (source, target)
    or (source, target, source handle)."""
    document = {
        "version": "0.6.0",
        "kind": "app",
        "app": {
            "name": name,
            "mode": mode,
            "icon": "🧭",
            "description": f"{name} for tests",
            **(app_fields or {}),
        },
        "workflow": {
            "graph": {
                "nodes": [
                    {"id": n["id"], "type": "custom", "data": {"title": n["id"], **n, "id": None}}
                    for n in nodes
                ],
                "edges": [
                    {
                        "id": f"{e[0]}-{e[2] if len(e) > 2 else 'source'}-{e[1]}",
                        "source": e[0],
                        "target": e[1],
                        "sourceHandle": e[2] if len(e) > 2 else "source",
                        "targetHandle": "target",
                    }
                    for e in edges
                ],
            },
            "features": {**FEATURES, **features},
            "environment_variables": environment or [],
            "conversation_variables": conversation_variables or [],
        },
    }
    for node in document["workflow"]["graph"]["nodes"]:
        node["data"].pop("id")
    return yaml.safe_dump(document, allow_unicode=True)
