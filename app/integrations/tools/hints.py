"""What would make an unconfigured tool run, in words an operator can act on: the entry of
the integrations file (or the import) that enables it. Every "not configured" message of
the tool runtime is built here, so the import listing and the run-time error agree."""

from app.integrations.config import Integrations
from app.integrations.tools.base import ToolRef

FILE_SETTING = "KILN_INTEGRATIONS_FILE"
DRY_RUN_HINT = "or set `tools.dry_run: true` (KILN_TOOLS_DRY_RUN) to answer a marked placeholder"


def where(integrations: Integrations) -> str:
    """The integrations file in use, or how to name one."""
    if integrations.source is not None:
        return f"the integrations file {integrations.source}"
    return f"an integrations file (set {FILE_SETTING})"


def provider_key(ref: ToolRef) -> str:
    """The name an entry of the integrations file is keyed by (no plugin prefix)."""
    return ref.provider or ref.provider_id


def not_configured(ref: ToolRef, integrations: Integrations) -> str:
    """Why `ref` cannot run when no provider knows it, by provider type."""
    name = f"{provider_key(ref)}/{ref.tool_name}"
    kind = ref.provider_type
    if kind in ("builtin", "plugin"):
        return (
            f"{kind} tool {name} is not available: Kiln has no native tool by that name "
            f'(README, "Tools", lists them); to let it answer a marked placeholder, set '
            f"`tools.dry_run: true` in {where(integrations)} (or KILN_TOOLS_DRY_RUN=true)"
        )
    if kind == "api":
        return (
            f"OpenAPI tool {name} is not configured: add `tools.openapi.{provider_key(ref)}` "
            f"(its OpenAPI document and auth) to {where(integrations)}, {DRY_RUN_HINT}"
        )
    if kind == "mcp":
        return (
            f"MCP tool {name} is not configured: add `tools.mcp.{provider_key(ref)}` "
            f"(the server's URL) to {where(integrations)}, {DRY_RUN_HINT}"
        )
    if kind == "workflow":
        return (
            f"workflow tool {name} is not configured: import the workflow app it runs "
            f"(matched by app id {ref.provider_id!r} or by name {provider_key(ref)!r}) or map "
            f"`tools.workflows.{provider_key(ref)}` to an imported app in "
            f"{where(integrations)}, {DRY_RUN_HINT}"
        )
    return f"{kind} tool {name} is not supported by Kiln (provider type {kind!r}); {DRY_RUN_HINT}"


def missing_credentials(
    provider: str, tool: str, keys: list[str], integrations: Integrations
) -> str:
    """A builtin tool whose provider needs credentials the operator has not given."""
    entries = ", ".join(f"`tools.credentials.{provider}.{key}`" for key in keys)
    return (
        f"builtin tool {provider}/{tool} is not configured: set {entries} in "
        f"{where(integrations)}, {DRY_RUN_HINT}"
    )
