"""The one entry point for model calls: override, offline, fast path or litellm."""

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from app.core.config import Settings
from app.gateway import (
    embeddings,
    images,
    litellm_audio,
    litellm_backend,
    moderation,
    offline,
    offline_audio,
    openai_audio,
    openai_compat,
    rerank,
)
from app.gateway.audio_types import (
    MP3,
    AudioModel,
    AudioUpload,
    SpeechAudio,
    SpeechModelMissing,
    split_for_speech,
)
from app.gateway.documents import document_types, fit_documents
from app.gateway.providers import (
    OFFLINE_PROVIDER,
    ResolvedProvider,
    native_json_schema,
    provider_id,
    resolve,
)
from app.gateway.redact import install_log_redaction
from app.gateway.types import ModelRequest, ProviderNotInitialized, StreamItem

EMBED_BATCH = 64  # texts per embeddings request


class ModelGateway:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        install_log_redaction()  # model calls name provider URLs, credentials and all

    def effective(self, request: ModelRequest) -> ModelRequest:
        """Apply KILN_MODEL_OVERRIDE (`provider/model`) so any export runs on one model."""
        override = self._settings.model_override
        if not override:
            return request
        provider, _, model = override.partition("/")
        return replace(request, provider=provider, model=model or request.model)

    def _resolve(self, request: ModelRequest) -> ResolvedProvider:
        provider = self._resolve_credentials(resolve(request.provider))
        if provider.spec.openai_compatible and not provider.base_url:
            raise ProviderNotInitialized(
                f"Provider {provider.id} has no base URL: set {provider.spec.base_envs[0]}."
            )
        return provider

    @staticmethod
    def _resolve_credentials(provider: ResolvedProvider) -> ResolvedProvider:
        if provider.spec.needs_key and not provider.api_key:
            env = provider.spec.key_envs[0] if provider.spec.key_envs else "credentials"
            raise ProviderNotInitialized(
                f"Provider {provider.id} is not configured: set {env} in Kiln's environment."
            )
        return provider

    def check(self, request: ModelRequest) -> None:
        """Raise ProviderNotInitialized now, before anything is written or streamed."""
        request = self.effective(request)
        if provider_id(request.provider) != OFFLINE_PROVIDER:
            self._resolve(request)

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        """Text deltas; the tool calls (when tools were offered) and the finish reason as
        the provider reports them; one UsageCount when the provider reports it.

        Raises ProviderNotInitialized before any I/O when credentials are missing.
        """
        request = self.effective(request)
        request = replace(request, messages=fit_documents(request.provider, request.messages))
        timeout = self._settings.upstream_timeout
        if provider_id(request.provider) == OFFLINE_PROVIDER:
            return offline.stream(request, self._settings.offline_token_delay)
        provider = self._resolve(request)
        if provider.spec.openai_compatible:
            return openai_compat.stream(provider, request, timeout)
        return litellm_backend.stream(provider, request, timeout)

    def document_types(self, provider: str) -> frozenset[str]:
        """MIME types of the document files the (effective) provider reads as `file` parts
        (app/gateway/documents.py); callers skip reading the others."""
        return document_types(self.effective(ModelRequest(provider, "", [])).provider)

    def native_json_schema(self, request: ModelRequest) -> bool:
        """Whether the (effective) provider takes a `json_schema` response format; callers
        that need JSON otherwise ask for it in the prompt, as Dify does."""
        return native_json_schema(self.effective(request).provider)

    async def complete(self, request: ModelRequest) -> str:
        """The whole answer as one string (titles, suggestions: nothing streams)."""
        parts = [item async for item in self.stream(request) if isinstance(item, str)]
        return "".join(parts)

    # -- embeddings ----------------------------------------------------------------------
    async def embed(self, provider: str, model: str, texts: list[str]) -> list[list[float]]:
        """One L2-normalised vector per text (ProviderNotInitialized without credentials)."""
        if not texts:
            return []
        if provider_id(provider) == OFFLINE_PROVIDER:
            return [embeddings.offline_embed(text) for text in texts]
        resolved = self._resolve(ModelRequest(provider, model, []))
        timeout = self._settings.upstream_timeout
        compatible = resolved.spec.openai_compatible
        backend = embeddings.openai_embed if compatible else embeddings.litellm_embed
        vectors: list[list[float]] = []
        for start in range(0, len(texts), EMBED_BATCH):
            vectors += await backend(resolved, model, texts[start : start + EMBED_BATCH], timeout)
        return [embeddings.normalise(vector) for vector in vectors]

    # -- reranking -----------------------------------------------------------------------
    async def rerank(
        self, provider: str, model: str, query: str, documents: list[str]
    ) -> list[rerank.RerankScore]:
        """A relevance score per document, best first (ProviderNotInitialized without
        credentials or an endpoint). Offline under an offline KILN_MODEL_OVERRIDE too, so an
        export that reranks runs before its providers are wired."""
        if not documents:
            return []
        overridden = self.effective(ModelRequest(provider, model, [])).provider
        if OFFLINE_PROVIDER in (provider_id(provider), provider_id(overridden)):
            return rerank.offline_rerank(query, documents)
        resolved = resolve(provider)
        if not resolved.base_url and resolved.id in rerank.RERANK_BASES:
            resolved = replace(resolved, base_url=rerank.RERANK_BASES[resolved.id])
        if not resolved.base_url:
            env = resolved.spec.base_envs[0] if resolved.spec.base_envs else "a base URL"
            raise ProviderNotInitialized(
                f"Provider {resolved.id} has no rerank endpoint: set {env} in Kiln's environment."
            )
        resolved = self._resolve_credentials(resolved)
        timeout = self._settings.upstream_timeout
        return await rerank.http_rerank(resolved, model, query, documents, timeout)

    # -- moderation ----------------------------------------------------------------------
    async def moderate(self, text: str) -> bool:
        """Flagged or not, by KILN_MODERATION_MODEL (Dify: the workspace's OpenAI
        moderation model). The offline provider flags nothing; only OpenAI-compatible
        providers have a moderation endpoint here."""
        provider_name, _, model = self._settings.moderation_model.partition("/")
        if provider_id(provider_name) == OFFLINE_PROVIDER:
            return False
        resolved = self._resolve(ModelRequest(provider_name, model, []))
        if not resolved.spec.openai_compatible:
            raise ProviderNotInitialized(
                f"Provider {resolved.id} has no moderation endpoint Kiln can call: set "
                "KILN_MODERATION_MODEL to an OpenAI-compatible provider."
            )
        return await moderation.openai_moderate(
            resolved, model, text, self._settings.upstream_timeout
        )

    # -- images --------------------------------------------------------------------------
    async def generate_images(
        self, model: str, prompt: str, options: dict[str, Any]
    ) -> list[images.GeneratedImage]:
        """Images from a prompt on KILN_IMAGE_GENERATION_PROVIDER (image tools: dalle);
        `options` are the images API's own (`size`, `n`, `quality`, `style`)."""
        provider_name = self._settings.image_generation_provider
        if provider_id(provider_name) == OFFLINE_PROVIDER:
            return images.offline_images(int(options.get("n") or 1))
        resolved = self._resolve(ModelRequest(provider_name, model, []))
        if not resolved.spec.openai_compatible:
            raise ProviderNotInitialized(
                f"Provider {resolved.id} has no image endpoint Kiln can call: set "
                "KILN_IMAGE_GENERATION_PROVIDER to an OpenAI-compatible provider."
            )
        return await images.openai_images(
            resolved, model, prompt, options, self._settings.upstream_timeout
        )

    # -- audio ---------------------------------------------------------------------------
    def _audio_provider(self, model: AudioModel) -> ResolvedProvider | None:
        """None for the offline provider; raises ProviderNotInitialized like `check`."""
        if provider_id(model.provider) == OFFLINE_PROVIDER:
            return None
        return self._resolve(ModelRequest(model.provider, model.model, []))

    async def transcribe(self, upload: AudioUpload) -> str:
        """Speech to text with KILN_SPEECH_TO_TEXT_MODEL (SpeechModelMissing when "none")."""
        model = AudioModel.parse(self._settings.speech_to_text_model)
        if model is None:
            raise SpeechModelMissing("No speech-to-text model is configured.")
        provider = self._audio_provider(model)
        timeout = self._settings.upstream_timeout
        if provider is None:
            return offline_audio.transcribe(model.model, upload)
        if provider.spec.openai_compatible:
            return await openai_audio.transcribe(provider, model.model, upload, timeout)
        return await litellm_audio.transcribe(
            provider, model.model, upload.content, upload.filename, timeout
        )

    def speech(self, text: str, voice: str | None = None) -> SpeechAudio:
        """Text to speech with KILN_TEXT_TO_SPEECH_MODEL; long text goes in several calls
        whose audio streams back in order. Provider errors raise on the first read;
        missing credentials raise here."""
        model = AudioModel.parse(self._settings.text_to_speech_model)
        if model is None:
            raise SpeechModelMissing("No text-to-speech model is configured.")
        provider = self._audio_provider(model)
        if provider is None:
            return offline_audio.speech(model.model, text)
        chosen = voice or self._settings.text_to_speech_voice
        timeout = self._settings.upstream_timeout
        backend = openai_audio if provider.spec.openai_compatible else litellm_audio

        async def chunks() -> AsyncIterator[bytes]:
            for piece in split_for_speech(text):
                async for chunk in backend.speech(provider, model.model, piece, chosen, timeout):
                    yield chunk

        return SpeechAudio(MP3, chunks())

    async def aclose(self) -> None:
        await openai_compat.close_client()
