"""The builtin tool provider: Kiln's native tools under Dify's provider and tool names,
answering `builtin` and `plugin` references alike whatever the plugin prefix
(`langgenius/time/time` → `time`). A provider that needs credentials the integrations file
does not give (`tools.credentials.<provider>`) is known but not configured."""

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from app.core.config import Settings
from app.gateway.gateway import ModelGateway
from app.integrations.config import Integrations
from app.integrations.tools.base import Tool, ToolNotConfigured, ToolRef, ToolSpec
from app.integrations.tools.builtin import catalogue
from app.integrations.tools.builtin.base import (
    BuiltinEnv,
    BuiltinProviderDef,
    BuiltinTool,
    BuiltinToolDef,
    WebClient,
    utc_now,
)
from app.integrations.tools.hints import missing_credentials, not_configured
from app.net.http_node import GuardedHttpCaller
from app.net.ssrf import AllowList


def names_of(ref: ToolRef) -> list[str]:
    """The provider names a reference may mean, without plugin prefixes, best first."""
    found: list[str] = []
    for raw in (ref.provider_name, ref.provider_id):
        name = raw.rsplit("/", 1)[-1].strip().lower() if raw else ""
        if name and name not in found:
            found.append(name)
    return found


class BuiltinProvider:
    provider_types: tuple[str, ...] = ("builtin", "plugin")

    def __init__(
        self,
        integrations: Integrations,
        env: BuiltinEnv,
        providers: Sequence[BuiltinProviderDef] | None = None,
    ) -> None:
        self.integrations = integrations
        self.env = env
        self.providers = list(catalogue.PROVIDERS if providers is None else providers)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        integrations: Integrations,
        gateway: ModelGateway | None,
        *,
        http: WebClient | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> "BuiltinProvider":
        client = http or GuardedHttpCaller(AllowList.parse(settings.ssrf_allowed_hosts))
        env = BuiltinEnv(
            http=client,
            gateway=gateway,
            clock=clock,
            fetch_timeout=settings.tools_fetch_timeout,
            fetch_max_bytes=settings.tools_fetch_max_bytes,
        )
        return cls(integrations, env)

    def lookup(self, ref: ToolRef) -> tuple[BuiltinProviderDef, BuiltinToolDef] | None:
        for name in names_of(ref):
            for provider in self.providers:
                if name != provider.name and name not in provider.aliases:
                    continue
                tool = provider.tool(ref.tool_name)
                if tool is not None:
                    return provider, tool
        return None

    def credentials(self, provider: BuiltinProviderDef) -> dict[str, str]:
        given = self.integrations.tools.credentials
        for name in (provider.name, *provider.aliases):
            if name in given:
                return {k: v for k, v in given[name].items() if v not in (None, "")}
        return {}

    def _missing(self, provider: BuiltinProviderDef) -> list[str]:
        have = self.credentials(provider)
        return [key for key in provider.required_credentials if key not in have]

    async def find(self, ref: ToolRef) -> Tool | None:
        found = self.lookup(ref)
        if found is None:
            return None
        provider, tool = found
        missing = self._missing(provider)
        if missing:
            raise ToolNotConfigured(
                missing_credentials(provider.name, tool.name, missing, self.integrations)
            )
        spec = ToolSpec(
            ref=ref, label=tool.label, description=tool.description, parameters=tool.parameters
        )
        env = replace(self.env, credentials=self.credentials(provider))
        return BuiltinTool(spec, tool, env)

    def check(self, ref: ToolRef) -> str | None:
        found = self.lookup(ref)
        if found is None:
            return not_configured(ref, self.integrations)
        provider, tool = found
        missing = self._missing(provider)
        if missing:
            return missing_credentials(provider.name, tool.name, missing, self.integrations)
        return None
