"""Helpers for the tool tests: a ToolBox over an integrations file given as text, the
builtin provider with a fixed clock and a guarded client that may reach 127.0.0.1."""

from datetime import UTC, datetime
from pathlib import Path

from app.core.config import Settings
from app.integrations.config import Integrations, parse_integrations
from app.integrations.tools.base import ToolCall, ToolRef
from app.integrations.tools.builtin.provider import BuiltinProvider
from app.integrations.tools.runtime import ToolBox
from app.net.http_node import GuardedHttpCaller
from app.net.ssrf import AllowList

FIXED_NOW = datetime(2024, 3, 9, 16, 30, 5, tzinfo=UTC)  # a Saturday
CALL = ToolCall(user_id="user-1", app_id="app-1")


def integrations(text: str = "", source: Path | None = None) -> Integrations:
    return parse_integrations(text, source)


def toolbox(
    text: str = "", *, dry_run: bool | None = None, gateway: object | None = None
) -> ToolBox:
    found = integrations(text)
    box = ToolBox(found, dry_run=dry_run)
    box.register(
        BuiltinProvider.from_settings(
            Settings(),
            found,
            gateway,  # type: ignore[arg-type]
            http=GuardedHttpCaller(AllowList.parse("127.0.0.1/32")),
            clock=lambda: FIXED_NOW,
        )
    )
    return box


def ref(provider: str, tool: str, provider_type: str = "builtin", name: str = "") -> ToolRef:
    return ToolRef(provider_type, provider, tool, name)
