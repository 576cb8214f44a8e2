"""The ToolBox: every tool provider of the process behind one door. Tool nodes, agent nodes
and agent-chat apps ask it for a tool by the DSL's reference; it asks the providers that
serve the reference's provider type (builtin tools answer `builtin` and `plugin` alike,
matched by provider and tool name whatever the plugin prefix) and says what the operator
must configure when none can run it.

Providers register at start-up (`register`): builtin here, OpenAPI and MCP from their
packages, workflow-as-tool from the services layer. With the dry-run setting on, a tool no
provider can run answers a placeholder marked `placeholder=True`, and each such answer is
logged."""

import logging
from collections.abc import Iterable
from typing import Any

from app.core.config import Settings
from app.gateway.gateway import ModelGateway
from app.integrations.config import Integrations, load_integrations
from app.integrations.tools.base import (
    Tool,
    ToolCall,
    ToolError,
    ToolNotConfigured,
    ToolOutput,
    ToolProvider,
    ToolRef,
    ToolSpec,
)
from app.integrations.tools.hints import not_configured
from app.integrations.tools.placeholder import PlaceholderTool

logger = logging.getLogger("kiln.tools")


class ToolBox:
    """The process's tool runtime (see the module docstring)."""

    def __init__(
        self,
        integrations: Integrations,
        providers: Iterable[ToolProvider] = (),
        *,
        dry_run: bool | None = None,
    ) -> None:
        self.integrations = integrations
        self.dry_run = integrations.tools.dry_run if dry_run is None else dry_run
        self._providers: list[ToolProvider] = list(providers)

    @classmethod
    def from_settings(cls, settings: Settings, gateway: ModelGateway | None = None) -> "ToolBox":
        """The integrations file named by the settings, with the builtin, OpenAPI and MCP
        providers registered."""
        from app.integrations.tools.builtin.provider import BuiltinProvider
        from app.integrations.tools.mcp import McpToolProvider
        from app.integrations.tools.openapi import OpenApiToolProvider

        integrations = load_integrations(settings.integrations_file)
        box = cls(integrations, dry_run=dry_run_setting(settings, integrations))
        box.register(BuiltinProvider.from_settings(settings, integrations, gateway))
        box.register(OpenApiToolProvider.from_settings(settings, integrations))
        box.register(McpToolProvider.from_settings(settings, integrations))
        return box

    # -- providers -----------------------------------------------------------------------
    def register(self, provider: ToolProvider) -> None:
        """Add a provider; for one provider type, earlier registrations are asked first."""
        self._providers.append(provider)

    def providers_for(self, provider_type: str) -> list[ToolProvider]:
        return [p for p in self._providers if provider_type in p.provider_types]

    def serves(self, provider_type: str) -> bool:
        return bool(self.providers_for(provider_type))

    # -- lookups -------------------------------------------------------------------------
    async def resolve(self, ref: ToolRef) -> Tool:
        """The tool `ref` names. Raises ToolNotConfigured naming the provider, the tool and
        the entry that would enable it; under dry run answers a placeholder tool instead."""
        try:
            return await self._find(ref)
        except ToolNotConfigured as exc:
            if not self.dry_run:
                raise
            return PlaceholderTool(ref, exc.message)

    async def _find(self, ref: ToolRef) -> Tool:
        for provider in self.providers_for(ref.provider_type):
            tool = await provider.find(ref)
            if tool is not None:
                return tool
        raise ToolNotConfigured(not_configured(ref, self.integrations))

    def check(self, ref: ToolRef) -> str | None:
        """Without I/O: why `ref` cannot run (the import's listing), or None. Dry run does
        not hide the reason: the tool would only answer a placeholder."""
        providers = self.providers_for(ref.provider_type)
        if not providers:
            return not_configured(ref, self.integrations)
        reasons = [provider.check(ref) for provider in providers]
        if any(reason is None for reason in reasons):
            return None
        return next(reason for reason in reasons if reason is not None)

    async def spec(self, ref: ToolRef) -> ToolSpec:
        """Name, description and parameters (an agent offers these to its model)."""
        return (await self.resolve(ref)).spec

    async def invoke(self, ref: ToolRef, arguments: dict[str, Any], call: ToolCall) -> ToolOutput:
        """Run the tool. Its failures raise ToolError (ToolNotConfigured when it cannot be
        found); an unexpected exception of a provider becomes a ToolError too, logged."""
        tool = await self.resolve(ref)
        try:
            output = await tool.invoke(arguments, call)
        except ToolError:
            raise
        except Exception as exc:  # a provider's bug must not take the run down unexplained
            logger.exception("tool %s failed", ref.describe())
            raise ToolError(f"{ref.describe()} failed: {type(exc).__name__}: {exc}") from exc
        if output.placeholder:
            logger.warning(
                "dry run: %s is not configured; answered a placeholder (app %s)",
                ref.describe(),
                call.app_id,
            )
        return output


def dry_run_setting(settings: Settings, integrations: Integrations) -> bool:
    """`KILN_TOOLS_DRY_RUN` when set, else the file's `tools.dry_run` (off by default)."""
    if settings.tools_dry_run is not None:
        return settings.tools_dry_run
    return integrations.tools.dry_run
