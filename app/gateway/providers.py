"""Dify provider ids mapped to a call route, credentials and base URL from the environment."""

import os
from dataclasses import dataclass

# The offline development provider (DSL `provider: kiln`).
OFFLINE_PROVIDER = "kiln"


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    litellm_prefix: str
    key_envs: tuple[str, ...] = ()
    base_envs: tuple[str, ...] = ()
    default_base: str | None = None
    openai_compatible: bool = False  # streams through the direct httpx path
    needs_key: bool = True


PROVIDERS: dict[str, ProviderSpec] = {
    "openai": ProviderSpec(
        "openai",
        ("OPENAI_API_KEY",),
        ("OPENAI_BASE_URL", "OPENAI_API_BASE"),
        "https://api.openai.com/v1",
        openai_compatible=True,
    ),
    "openai_api_compatible": ProviderSpec(
        "openai",
        ("OPENAI_API_COMPATIBLE_API_KEY", "OPENAI_API_KEY"),
        ("OPENAI_API_COMPATIBLE_BASE_URL",),
        openai_compatible=True,
        needs_key=False,
    ),
    "deepseek": ProviderSpec(
        "deepseek",
        ("DEEPSEEK_API_KEY",),
        ("DEEPSEEK_API_BASE", "DEEPSEEK_BASE_URL"),
        "https://api.deepseek.com/v1",
        openai_compatible=True,
    ),
    "groq": ProviderSpec(
        "groq",
        ("GROQ_API_KEY",),
        ("GROQ_API_BASE",),
        "https://api.groq.com/openai/v1",
        openai_compatible=True,
    ),
    "openrouter": ProviderSpec(
        "openrouter",
        ("OPENROUTER_API_KEY",),
        ("OPENROUTER_API_BASE",),
        "https://openrouter.ai/api/v1",
        openai_compatible=True,
    ),
    "moonshot": ProviderSpec(
        "moonshot",
        ("MOONSHOT_API_KEY",),
        ("MOONSHOT_API_BASE",),
        "https://api.moonshot.cn/v1",
        openai_compatible=True,
    ),
    "x": ProviderSpec("xai", ("XAI_API_KEY",), ("XAI_API_BASE",)),
    "anthropic": ProviderSpec(
        "anthropic", ("ANTHROPIC_API_KEY",), ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_BASE")
    ),
    "azure_openai": ProviderSpec("azure", ("AZURE_API_KEY",), ("AZURE_API_BASE",)),
    "gemini": ProviderSpec("gemini", ("GEMINI_API_KEY", "GOOGLE_API_KEY"), ("GEMINI_API_BASE",)),
    "vertex_ai": ProviderSpec("vertex_ai", needs_key=False),
    "bedrock": ProviderSpec("bedrock", ("AWS_ACCESS_KEY_ID",), ()),
    "mistralai": ProviderSpec("mistral", ("MISTRAL_API_KEY",), ("MISTRAL_API_BASE",)),
    "cohere": ProviderSpec("cohere", ("COHERE_API_KEY",), ("COHERE_API_BASE",)),
    "togetherai": ProviderSpec("together_ai", ("TOGETHERAI_API_KEY",), ()),
    "tongyi": ProviderSpec("dashscope", ("DASHSCOPE_API_KEY",), ()),
    "zhipuai": ProviderSpec("zai", ("ZAI_API_KEY", "ZHIPUAI_API_KEY"), ()),
    "ollama": ProviderSpec("ollama", (), ("OLLAMA_API_BASE",), needs_key=False),
    "vllm": ProviderSpec("hosted_vllm", ("VLLM_API_KEY",), ("VLLM_API_BASE",), needs_key=False),
    "huggingface_hub": ProviderSpec("huggingface", ("HF_TOKEN", "HUGGINGFACE_API_KEY"), ()),
    "replicate": ProviderSpec("replicate", ("REPLICATE_API_KEY",), ()),
    "perplexity": ProviderSpec("perplexity", ("PERPLEXITYAI_API_KEY",), ()),
    "fireworks": ProviderSpec("fireworks_ai", ("FIREWORKS_AI_API_KEY",), ()),
    "siliconflow": ProviderSpec(
        "openai",
        ("SILICONFLOW_API_KEY",),
        ("SILICONFLOW_API_BASE",),
        "https://api.siliconflow.cn/v1",
        openai_compatible=True,
    ),
    # Rerank (and embedding) providers of Dify's knowledge settings.
    "jina": ProviderSpec(
        "jina_ai", ("JINA_API_KEY",), ("JINA_API_BASE",), "https://api.jina.ai/v1"
    ),
    "voyage": ProviderSpec(
        "voyage", ("VOYAGE_API_KEY",), ("VOYAGE_API_BASE",), "https://api.voyageai.com/v1"
    ),
    "xinference": ProviderSpec("xinference", (), ("XINFERENCE_API_BASE",), needs_key=False),
}


# Providers whose chat models take OpenAI's `response_format: {"type": "json_schema"}`
# (directly, or through litellm's translation); Dify asks the others for JSON in the prompt.
JSON_SCHEMA_PROVIDERS = frozenset(
    (
        OFFLINE_PROVIDER,
        "openai",
        "azure_openai",
        "openrouter",
        "gemini",
        "vertex_ai",
        "anthropic",
        "x",
        "mistralai",
        "groq",
        "fireworks",
        "togetherai",
        "ollama",
        "vllm",
    )
)


def native_json_schema(dify_provider: str) -> bool:
    return provider_id(dify_provider) in JSON_SCHEMA_PROVIDERS


def provider_id(dify_provider: str) -> str:
    """`langgenius/openai/openai` → `openai`; plain ids pass through."""
    return dify_provider.rstrip("/").rsplit("/", 1)[-1].strip().lower()


@dataclass(frozen=True, slots=True)
class ResolvedProvider:
    id: str
    spec: ProviderSpec
    api_key: str | None
    base_url: str | None


def _first_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def resolve(dify_provider: str) -> ResolvedProvider:
    pid = provider_id(dify_provider)
    spec = PROVIDERS.get(pid) or ProviderSpec(
        pid, (f"{pid.upper()}_API_KEY",), (f"{pid.upper()}_API_BASE",)
    )
    return ResolvedProvider(
        id=pid,
        spec=spec,
        api_key=_first_env(spec.key_envs),
        base_url=_first_env(spec.base_envs) or spec.default_base,
    )
