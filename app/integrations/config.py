"""The integrations file (`KILN_INTEGRATIONS_FILE`, YAML or JSON): credentials of builtin
tools, OpenAPI tool providers, MCP servers and knowledge bases, each by the name or id an
exported DSL uses. Read once per process; a bad file fails start-up with its path and the
field at fault.

    tools:
      dry_run: false                 # unconfigured tools answer a marked placeholder
      credentials:                   # builtin providers, by provider name (no plugin prefix)
        tavily: {api_key: tvly-…}
      openapi:                       # `provider_type: api`, by provider name or id
        petstore:
          schema: ./petstore.yaml    # a path (relative to this file) or an http(s) URL
          auth: {type: bearer, token: …}   # none | bearer | api_key | basic
      mcp:                           # `provider_type: mcp`, by server name or id
        docs: {url: https://mcp.example/mcp, transport: streamable_http, headers: {}}
      workflows:                     # `provider_type: workflow`: provider id or name → an
        "9d2c…": Summarizer          # imported workflow app's id or name
    knowledge:                       # knowledge-retrieval `dataset_ids` and classic datasets
      "3f1c…":
        endpoint: https://kb.example/api       # POST {endpoint}/retrieval
        api_key: …
        knowledge_id: handbook                 # the service's own id (default: the dataset id)
        name: Handbook                         # `dataset_name` in results
        description: Company policies          # single-mode routing (optional)
        top_k: 4                               # the dataset's own setting (optional)
        score_threshold: 0.5                   # (optional; unset = off)
        timeout: 30                            # seconds
"""

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class IntegrationsError(ValueError):
    """The integrations file cannot be used; the message names the file and the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApiAuth(_Model):
    type: Literal["none", "bearer", "api_key", "basic"] = "none"
    token: str | None = None  # bearer
    header: str = "Authorization"  # api_key: the header carrying `key` (with `prefix`)
    key: str | None = None
    prefix: str = ""
    query_param: str | None = None  # api_key in the query string instead of a header
    username: str | None = None  # basic
    password: str | None = None


class OpenApiProvider(_Model):
    schema_: str = Field(alias="schema")  # a path (relative to the file) or an http(s) URL
    auth: ApiAuth = Field(default_factory=ApiAuth)
    base_url: str | None = None  # overrides the schema's first server
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = 60.0


class McpServer(_Model):
    url: str
    transport: Literal["streamable_http", "sse"] = "streamable_http"
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = 60.0


class ToolsConfig(_Model):
    dry_run: bool = False
    credentials: dict[str, dict[str, str]] = Field(default_factory=dict)
    openapi: dict[str, OpenApiProvider] = Field(default_factory=dict)
    mcp: dict[str, McpServer] = Field(default_factory=dict)
    workflows: dict[str, str] = Field(default_factory=dict)


class KnowledgeBase(_Model):
    endpoint: str
    api_key: str | None = None
    knowledge_id: str | None = None  # the service's id; default: the dataset id itself
    name: str | None = None
    timeout: float = Field(default=30.0, gt=0)
    # What Dify keeps on an external dataset and an export does not carry: the description
    # single-mode routing shows the model, and the dataset's own retrieval setting (sent in
    # single mode; in multiple mode it overrides the node's top_k / threshold when set).
    description: str | None = None
    top_k: int | None = Field(default=None, ge=1)
    score_threshold: float | None = Field(default=None, ge=0)

    @field_validator("endpoint")
    @classmethod
    def _http_endpoint(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class Integrations(_Model):
    tools: ToolsConfig = Field(default_factory=ToolsConfig)
    knowledge: dict[str, KnowledgeBase] = Field(default_factory=dict)
    source: Path | None = Field(default=None, exclude=True)  # where it was read from

    def relative(self, path: str) -> Path:
        """A path in the file, relative to the file's folder."""
        base = self.source.parent if self.source is not None else Path.cwd()
        return (base / path).resolve()


def parse_integrations(text: str, source: Path | None = None) -> Integrations:
    where = str(source) if source is not None else "the integrations file"
    try:
        raw: Any = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise IntegrationsError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise IntegrationsError(f"{where}: must be a mapping with `tools` and `knowledge`")
    try:
        found = Integrations.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ()))
        raise IntegrationsError(f"{where}: {field}: {first.get('msg')}") from None
    found.source = source
    return found


@lru_cache(maxsize=8)
def load_integrations(path: str | None) -> Integrations:
    """The file named by `KILN_INTEGRATIONS_FILE`, or no integrations when unset."""
    if not path:
        return Integrations()
    file = Path(path).expanduser().resolve()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise IntegrationsError(f"{file}: cannot be read: {exc.strerror}") from None
    return parse_integrations(text, file)
