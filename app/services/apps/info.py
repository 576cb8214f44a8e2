"""`/info`, `/parameters`, `/meta` and `/site` built from the stored DSL."""

from typing import Any

from app.core.config import Settings
from app.engine.app_config import DEFAULT_FILE_UPLOAD
from app.engine.features import feature_blocks
from app.models import App
from app.services.annotations.reply import reply_feature


def _system_parameters(settings: Settings) -> dict[str, int]:
    return {
        "image_file_size_limit": settings.upload_image_file_size_limit,
        "video_file_size_limit": settings.upload_video_file_size_limit,
        "audio_file_size_limit": settings.upload_audio_file_size_limit,
        "file_size_limit": settings.upload_file_size_limit,
        "workflow_file_upload_limit": settings.workflow_file_upload_limit,
    }


_DISABLED = {"enabled": False}


def info(app: App) -> dict[str, Any]:
    return {
        "name": app.name,
        "description": app.description,
        "tags": [],  # Dify keeps tags in its console, not in the DSL
        "mode": app.mode,
        "author_name": str(app.dsl.get("app", {}).get("author_name") or "Kiln"),
    }


def _start_node_form(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = (workflow.get("graph") or {}).get("nodes") or []
    for node in nodes:
        data = node.get("data") or {}
        if data.get("type") == "start":
            form = []
            for variable in data.get("variables") or []:
                form.append({str(variable.get("type") or "text-input"): variable})
            return form
    return []


def _features(app: App) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    features = feature_blocks(app.app_mode, app.dsl)
    if app.app_mode.is_graph:
        return features, _start_node_form(app.dsl["workflow"])
    return features, list(features.get("user_input_form") or [])


def _feature(features: dict[str, Any], name: str, default: dict[str, Any]) -> dict[str, Any]:
    value = features.get(name)
    return value if isinstance(value, dict) else dict(default)


async def parameters(app: App, settings: Settings) -> dict[str, Any]:
    features, form = _features(app)
    if not app.app_mode.is_graph:  # classic apps: the reply setting decides
        features = {**features, "annotation_reply": await reply_feature(app.id)}
    return {
        "opening_statement": features.get("opening_statement"),
        "suggested_questions": list(features.get("suggested_questions") or []),
        "suggested_questions_after_answer": _feature(
            features, "suggested_questions_after_answer", _DISABLED
        ),
        "speech_to_text": _feature(features, "speech_to_text", _DISABLED),
        "text_to_speech": _feature(features, "text_to_speech", _DISABLED),
        "retriever_resource": _feature(features, "retriever_resource", _DISABLED),
        "annotation_reply": _feature(features, "annotation_reply", _DISABLED),
        "more_like_this": _feature(features, "more_like_this", _DISABLED),
        "sensitive_word_avoidance": _feature(
            features, "sensitive_word_avoidance", {"enabled": False, "type": "", "configs": []}
        ),
        "user_input_form": form,
        "file_upload": _feature(features, "file_upload", DEFAULT_FILE_UPLOAD),
        "system_parameters": _system_parameters(settings),
    }


_BUILTIN_ICON_PATH = "/console/api/workspaces/current/tool-provider/builtin/"
# Dify's icon for an API tool whose provider it cannot find: Kiln keeps no tool providers.
_API_TOOL_ICON = {"background": "#252525", "content": "\U0001f601"}


def _tools(app: App) -> list[dict[str, Any]]:
    if app.app_mode.is_graph:
        nodes = (app.dsl["workflow"].get("graph") or {}).get("nodes") or []
        return [
            {
                "provider_type": data.get("provider_type"),
                "provider_id": data.get("provider_id"),
                "tool_name": data.get("tool_name"),
                "tool_parameters": {},
            }
            for data in (node.get("data") for node in nodes if isinstance(node, dict))
            if isinstance(data, dict) and data.get("type") == "tool"
        ]
    agent_mode = feature_blocks(app.app_mode, app.dsl).get("agent_mode")
    tools = agent_mode.get("tools") if isinstance(agent_mode, dict) else None
    return [t for t in tools or [] if isinstance(t, dict)]


def meta(app: App, settings: Settings) -> dict[str, Any]:
    """`tool_icons` of the app's tools, as Dify builds them (builtin tools point at the
    console's icon endpoint, `KILN_CONSOLE_API_URL`)."""
    icons: dict[str, Any] = {}
    for tool in _tools(app):
        if len(tool) < 4:  # Dify's older tool format carries no provider
            continue
        name = str(tool.get("tool_name") or "")
        if tool.get("provider_type") == "builtin":
            provider = str(tool.get("provider_id") or "")
            icons[name] = f"{settings.console_api_url}{_BUILTIN_ICON_PATH}{provider}/icon"
        elif tool.get("provider_type") == "api":
            icons[name] = dict(_API_TOOL_ICON)
    return {"tool_icons": icons}


def site(app: App) -> dict[str, Any]:
    """Dify answers `null` for unset text fields; the seed's OpenAPI contract types them as
    strings (generated clients reject `null`), so they are empty strings here (README)."""
    info = app.dsl.get("app", {})
    return {
        "title": app.name,
        "chat_color_theme": str(info.get("chat_color_theme") or ""),
        "chat_color_theme_inverted": bool(info.get("chat_color_theme_inverted", False)),
        "icon_type": app.icon_type,
        "icon": app.icon or "",
        "icon_background": app.icon_background or "",
        "icon_url": None,
        "description": app.description,
        "copyright": str(info.get("copyright") or ""),
        "privacy_policy": str(info.get("privacy_policy") or ""),
        "custom_disclaimer": str(info.get("custom_disclaimer") or ""),
        "default_language": str(info.get("default_language") or "en-US"),
        "show_workflow_steps": bool(info.get("show_workflow_steps", True)),
        "use_icon_as_answer_icon": app.use_icon_as_answer_icon,
    }
