"""An app's feature blocks: the workflow's `features` for graph apps, else `model_config`."""

from typing import Any

from app.core.errors import AppUnavailable
from app.models import App
from app.services.apps.dsl import GRAPH_MODES


def app_features(app: App) -> dict[str, Any]:
    source = app.dsl.get("workflow") if app.mode in GRAPH_MODES else app.dsl
    if not isinstance(source, dict):
        raise AppUnavailable()
    features = source.get("features") if app.mode in GRAPH_MODES else source.get("model_config")
    if features is None and app.mode in GRAPH_MODES:
        return {}
    if not isinstance(features, dict):
        raise AppUnavailable()
    return features


def app_feature(app: App, name: str) -> dict[str, Any]:
    """One feature block, `{}` when the app does not configure it."""
    value = app_features(app).get(name)
    return value if isinstance(value, dict) else {}
