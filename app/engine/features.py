"""An app's feature blocks (`text_to_speech`, `sensitive_word_avoidance`, `file_upload`, …),
read one way for every mode: classic apps keep them in `model_config`, graph apps in
`workflow.features`."""

from collections.abc import Mapping
from typing import Any

from app.core.app_mode import AppMode


def feature_blocks(mode: AppMode, dsl: Mapping[str, Any]) -> dict[str, Any]:
    """All of them; `{}` when the DSL has none (the importer checked the containers)."""
    if mode.is_graph:
        workflow = dsl.get("workflow")
        blocks = workflow.get("features") if isinstance(workflow, Mapping) else None
    else:
        blocks = dsl.get("model_config")
    return dict(blocks) if isinstance(blocks, Mapping) else {}


def feature_block(blocks: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One block, `{}` when the app does not configure it."""
    value = blocks.get(name)
    return value if isinstance(value, dict) else {}


def app_feature(mode: AppMode, dsl: Mapping[str, Any], name: str) -> dict[str, Any]:
    return feature_block(feature_blocks(mode, dsl), name)
