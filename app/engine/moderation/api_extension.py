"""`api`: Dify's API-based extension. POST {"point": "app.moderation.input" |
"app.moderation.output", "params": {...}} with `Authorization: Bearer <api_key>`; the
answer is the moderation result (`flagged`, `action`, `preset_response`, `inputs`, `query`
| `text`).

Dify keeps extensions in a workspace registry referenced by `api_based_extension_id`. Kiln
has none: `KILN_MODERATION_API_EXTENSIONS` maps ids to `{api_endpoint, api_key}` (JSON), and
a config may instead name `api_endpoint` (+ `api_key`) itself. Calls go through the SSRF
guard (`KILN_SSRF_ALLOWED_HOSTS` lets internal hosts through)."""

import json
from typing import Any

import orjson

from app.core.config import Settings
from app.engine.moderation.base import (
    InputsResult,
    ModerationAction,
    ModerationFailure,
    ModerationRule,
    Moderator,
    OutputsResult,
    check_io_config,
)
from app.gateway.redact import upstream_detail
from app.net.fetch import FetchError, FetchTimeout
from app.net.post import post_json
from app.net.ssrf import AllowList

POINT_INPUT = "app.moderation.input"
POINT_OUTPUT = "app.moderation.output"


def _extension(rule: ModerationRule, settings: Settings) -> tuple[str, str]:
    extension_id = rule.config.get("api_based_extension_id")
    if extension_id:
        try:
            registry = json.loads(settings.moderation_api_extensions or "{}")
        except ValueError:
            raise ModerationFailure("KILN_MODERATION_API_EXTENSIONS is not valid JSON") from None
        entry = registry.get(str(extension_id)) if isinstance(registry, dict) else None
        if not isinstance(entry, dict) or not entry.get("api_endpoint"):
            raise ModerationFailure("API-based Extension not found. Please check it again.")
        return str(entry["api_endpoint"]), str(entry.get("api_key") or "")
    if rule.config.get("api_endpoint"):
        return str(rule.config["api_endpoint"]), str(rule.config.get("api_key") or "")
    raise ModerationFailure("api_based_extension_id is required")


def _action(payload: dict[str, Any]) -> ModerationAction:
    try:
        return ModerationAction(str(payload.get("action")))
    except ValueError:
        raise ModerationFailure("The moderation extension answered an invalid action") from None


class ApiModerator(Moderator):
    def __init__(self, rule: ModerationRule, app_id: str, settings: Settings) -> None:
        super().__init__(rule)
        check_io_config(rule, preset_required=False)
        self._endpoint, self._key = _extension(rule, settings)
        self._app_id = app_id
        self._allow = AllowList.parse(settings.ssrf_allowed_hosts)
        self._timeout = settings.moderation_api_timeout

    async def _request(self, point: str, params: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self._key}"}
        body = orjson.dumps({"point": point, "params": params})
        try:
            status, raw = await post_json(self._endpoint, body, headers, self._allow, self._timeout)
        except FetchTimeout:
            raise ModerationFailure("request timeout") from None
        except FetchError as exc:
            raise ModerationFailure(f"request connection error: {exc}") from None
        if status != 200:  # Dify's text, with the body cleaned like a provider's error
            text = upstream_detail(raw.decode("utf-8", "replace"), (self._key,), status)[:100]
            raise ModerationFailure(f"request error, status_code: {status}, content: {text}")
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ModerationFailure("The moderation extension answered invalid JSON") from None
        if not isinstance(payload, dict):
            raise ModerationFailure("The moderation extension answered invalid JSON")
        return payload

    async def moderate_inputs(self, inputs: dict[str, Any], query: str) -> InputsResult:
        if not self.rule.inputs_enabled:
            return InputsResult()
        params = {"app_id": self._app_id, "inputs": inputs, "query": query}
        payload = await self._request(POINT_INPUT, params)
        got_inputs = payload.get("inputs")
        return InputsResult(
            bool(payload.get("flagged")),
            _action(payload),
            str(payload.get("preset_response") or ""),
            got_inputs if isinstance(got_inputs, dict) else {},
            str(payload.get("query") or ""),
        )

    async def moderate_output(self, text: str) -> OutputsResult:
        if not self.rule.outputs_enabled:
            return OutputsResult()
        payload = await self._request(POINT_OUTPUT, {"app_id": self._app_id, "text": text})
        return OutputsResult(
            bool(payload.get("flagged")),
            _action(payload),
            str(payload.get("preset_response") or ""),
            str(payload.get("text") or ""),
        )
