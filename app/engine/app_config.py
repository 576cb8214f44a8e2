"""A typed view over a classic app's `model_config`, as the engine and /parameters use it."""

from dataclasses import dataclass, field
from typing import Any

from app.core.app_mode import AppMode
from app.engine.features import feature_block

FORM_TYPES = (
    "text-input",
    "paragraph",
    "select",
    "number",
    "checkbox",
    "file",
    "file-list",
    "json_object",
    "external_data_tool",
)

DEFAULT_FILE_UPLOAD: dict[str, Any] = {
    "image": {
        "enabled": False,
        "number_limits": 3,
        "detail": "high",
        "transfer_methods": ["remote_url", "local_file"],
    }
}


@dataclass(slots=True)
class FormField:
    type: str
    variable: str
    label: str
    required: bool
    max_length: int | None = None
    options: list[str] = field(default_factory=list)
    default: Any = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ModelSettings:
    provider: str
    name: str
    mode: str
    params: dict[str, Any]
    stop: list[str]


@dataclass(slots=True)
class AppConfig:
    mode: AppMode
    model: ModelSettings
    prompt_type: str
    pre_prompt: str
    chat_prompt: list[dict[str, Any]]
    completion_prompt: str
    history_prefixes: tuple[str, str]
    form: list[FormField]
    raw: dict[str, Any]  # the whole `model_config`, which also holds the feature blocks

    @property
    def features(self) -> dict[str, Any]:
        return self.raw

    def feature(self, name: str) -> dict[str, Any]:
        return feature_block(self.raw, name)


def _form_fields(items: Any) -> list[FormField]:
    fields: list[FormField] = []
    for item in items or []:
        if not isinstance(item, dict) or len(item) != 1:
            continue
        control, spec = next(iter(item.items()))
        if not isinstance(spec, dict) or not spec.get("variable"):
            continue
        max_length = spec.get("max_length")
        fields.append(
            FormField(
                type=str(control),
                variable=str(spec["variable"]),
                label=str(spec.get("label") or spec["variable"]),
                required=bool(spec.get("required", False)),
                max_length=int(max_length) if isinstance(max_length, int | float) else None,
                options=[str(o) for o in spec.get("options") or []],
                default=spec.get("default"),
                raw=spec,
            )
        )
    return fields


def _model(raw: dict[str, Any]) -> ModelSettings:
    model = raw.get("model") or {}
    params = dict(model.get("completion_params") or {})
    stop = params.pop("stop", None) or []
    return ModelSettings(
        provider=str(model.get("provider") or ""),
        name=str(model.get("name") or ""),
        mode=str(model.get("mode") or "chat"),
        params=params,
        stop=[str(s) for s in stop][:4] if isinstance(stop, list) else [],
    )


def load_app_config(mode: AppMode, model_config: dict[str, Any]) -> AppConfig:
    chat_prompt = (model_config.get("chat_prompt_config") or {}).get("prompt") or []
    completion = model_config.get("completion_prompt_config") or {}
    roles = completion.get("conversation_histories_role") or {}
    return AppConfig(
        mode=mode,
        model=_model(model_config),
        prompt_type=str(model_config.get("prompt_type") or "simple"),
        pre_prompt=str(model_config.get("pre_prompt") or ""),
        chat_prompt=[m for m in chat_prompt if isinstance(m, dict)],
        completion_prompt=str((completion.get("prompt") or {}).get("text") or ""),
        history_prefixes=(
            str(roles.get("user_prefix") or "Human"),
            str(roles.get("assistant_prefix") or "Assistant"),
        ),
        form=_form_fields(model_config.get("user_input_form")),
        raw=model_config,
    )
