"""The one entry point for model calls: override, offline, fast path or litellm."""

from collections.abc import AsyncIterator
from dataclasses import replace

from app.core.config import Settings
from app.gateway import litellm_backend, offline, openai_compat
from app.gateway.providers import OFFLINE_PROVIDER, ResolvedProvider, provider_id, resolve
from app.gateway.types import ModelRequest, ProviderNotInitialized, UsageCount


class ModelGateway:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def effective(self, request: ModelRequest) -> ModelRequest:
        """Apply KILN_MODEL_OVERRIDE (`provider/model`) so any export runs on one model."""
        override = self._settings.model_override
        if not override:
            return request
        provider, _, model = override.partition("/")
        return replace(request, provider=provider, model=model or request.model)

    def _resolve(self, request: ModelRequest) -> ResolvedProvider:
        provider = resolve(request.provider)
        if provider.spec.needs_key and not provider.api_key:
            env = provider.spec.key_envs[0] if provider.spec.key_envs else "credentials"
            raise ProviderNotInitialized(
                f"Provider {provider.id} is not configured: set {env} in Kiln's environment."
            )
        if provider.spec.openai_compatible and not provider.base_url:
            raise ProviderNotInitialized(
                f"Provider {provider.id} has no base URL: set {provider.spec.base_envs[0]}."
            )
        return provider

    def check(self, request: ModelRequest) -> None:
        """Raise ProviderNotInitialized now, before anything is written or streamed."""
        request = self.effective(request)
        if provider_id(request.provider) != OFFLINE_PROVIDER:
            self._resolve(request)

    def stream(self, request: ModelRequest) -> AsyncIterator[str | UsageCount]:
        """Text deltas, then one UsageCount when the provider reports it.

        Raises ProviderNotInitialized before any I/O when credentials are missing.
        """
        request = self.effective(request)
        timeout = self._settings.upstream_timeout
        if provider_id(request.provider) == OFFLINE_PROVIDER:
            return offline.stream(request, self._settings.offline_token_delay)
        provider = self._resolve(request)
        if provider.spec.openai_compatible:
            return openai_compat.stream(provider, request, timeout)
        return litellm_backend.stream(provider, request, timeout)

    async def complete(self, request: ModelRequest) -> str:
        """The whole answer as one string (titles, suggestions: nothing streams)."""
        parts = [item async for item in self.stream(request) if isinstance(item, str)]
        return "".join(parts)

    async def aclose(self) -> None:
        await openai_compat.close_client()
