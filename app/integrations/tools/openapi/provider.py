"""OpenAPI tools (`provider_type: api`). Exports carry no schema (`provider_id` is a UUID,
`provider_name` the provider's name), so the operator maps the name or the id to an OpenAPI
document and its auth in the integrations file (`tools.openapi.<name>`). A document named
by path is read from disk (relative to the integrations file); one named by URL is fetched
through the SSRF guard at first use. Either is parsed once and kept for the process."""

import asyncio
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from app.core.config import Settings
from app.integrations.config import Integrations, OpenApiProvider, load_integrations
from app.integrations.tools.base import ToolError, ToolNotConfigured, ToolRef, ToolSpec
from app.integrations.tools.hints import not_configured
from app.integrations.tools.openapi.document import SchemaError, parse_document
from app.integrations.tools.openapi.operations import Operation, derive_operations, server_url
from app.integrations.tools.openapi.tool import OpenApiTool
from app.net.fetch import FetchError, FetchPolicy, fetch
from app.net.http_node import GuardedHttpCaller
from app.net.ssrf import AllowList

SCHEMA_FETCH_TIMEOUT = 30.0  # seconds for fetching a document named by URL


@dataclass(frozen=True, slots=True)
class LoadedApi:
    operations: dict[str, Operation]
    base_url: str


class OpenApiToolProvider:
    provider_types: tuple[str, ...] = ("api",)

    def __init__(
        self,
        integrations: Integrations,
        http: GuardedHttpCaller,
        allow: AllowList,
        *,
        max_response_bytes: int,
    ) -> None:
        self._integrations = integrations
        self._http = http
        self._allow = allow
        self._max_bytes = max_response_bytes
        self._apis: dict[str, LoadedApi] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, integrations: Integrations | None = None
    ) -> "OpenApiToolProvider":
        allow = AllowList.parse(settings.ssrf_allowed_hosts)
        if integrations is None:
            integrations = load_integrations(settings.integrations_file)
        return cls(
            integrations,
            GuardedHttpCaller(allow),
            allow,
            max_response_bytes=settings.tool_max_response_size,
        )

    def entry(self, ref: ToolRef) -> tuple[str, OpenApiProvider] | None:
        """The `tools.openapi` entry for `ref`: by provider id, then by name."""
        table = self._integrations.tools.openapi
        for key in (ref.provider_id, ref.provider_name, ref.provider):
            if key and key in table:
                return key, table[key]
        return None

    def check(self, ref: ToolRef) -> str | None:
        if ref.provider_type not in self.provider_types:
            return None
        found = self.entry(ref)
        if found is None:
            return not_configured(ref, self._integrations)
        key, entry = found
        problem = _auth_problem(key, entry)
        if problem is not None:
            return f"{ref.describe()}: {problem}"
        api = self._apis.get(key)
        if api is None and not _is_url(entry.schema_):
            try:  # a local document is cheap to read: check the operation exists
                api = self._load_file(ref, key, entry)
            except ToolError as exc:
                return exc.message
        if api is not None and ref.tool_name not in api.operations:
            return _missing(ref, key, api)
        return None

    async def find(self, ref: ToolRef) -> OpenApiTool | None:
        if ref.provider_type not in self.provider_types:
            return None
        found = self.entry(ref)
        if found is None:
            raise ToolNotConfigured(not_configured(ref, self._integrations))
        key, entry = found
        problem = _auth_problem(key, entry)
        if problem is not None:
            raise ToolNotConfigured(f"{ref.describe()}: {problem}")
        api = await self._api(ref, key, entry)
        operation = api.operations.get(ref.tool_name)
        if operation is None:
            raise ToolNotConfigured(_missing(ref, key, api))
        spec = ToolSpec(
            ref=ref,
            label=operation.operation_id,
            description=operation.description,
            parameters=operation.parameters,
        )
        return OpenApiTool(spec, operation, api.base_url, entry, key, self._http, self._max_bytes)

    async def _api(self, ref: ToolRef, key: str, entry: OpenApiProvider) -> LoadedApi:
        api = self._apis.get(key)
        if api is not None:
            return api
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # one fetch per document, however many calls wait for it
            api = self._apis.get(key)
            if api is not None:
                return api
            if not _is_url(entry.schema_):
                return self._load_file(ref, key, entry)
            policy = FetchPolicy(self._max_bytes, SCHEMA_FETCH_TIMEOUT, self._allow)
            try:
                fetched = await fetch(entry.schema_, policy)
            except FetchError as exc:
                raise ToolError(
                    f"{ref.describe()}: cannot fetch the OpenAPI document of "
                    f"`tools.openapi.{key}` ({_shown(entry.schema_)}): {exc}"
                ) from None
            text = fetched.data.decode("utf-8", "replace")
            api = self._parse(ref, key, entry, text, fetched.url)
            self._apis[key] = api
            return api

    def _load_file(self, ref: ToolRef, key: str, entry: OpenApiProvider) -> LoadedApi:
        path: Path = self._integrations.relative(entry.schema_)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ToolError(
                f"{ref.describe()}: the OpenAPI document of `tools.openapi.{key}` "
                f"({path}) cannot be read: {exc.strerror}"
            ) from None
        api = self._parse(ref, key, entry, text, None)
        self._apis[key] = api
        return api

    def _parse(
        self, ref: ToolRef, key: str, entry: OpenApiProvider, text: str, source: str | None
    ) -> LoadedApi:
        try:
            document = parse_document(text)
            operations = derive_operations(document)
        except SchemaError as exc:
            raise ToolError(
                f"{ref.describe()}: the OpenAPI document of `tools.openapi.{key}` "
                f"cannot be used: {exc}"
            ) from None
        if entry.base_url:
            return LoadedApi(operations, entry.base_url)
        url = server_url(document)
        if url is None:
            raise ToolError(
                f"{ref.describe()}: the OpenAPI document of `tools.openapi.{key}` names no "
                f"server: set `tools.openapi.{key}.base_url`"
            )
        if not _is_url(url):
            if source is None:
                raise ToolError(
                    f"{ref.describe()}: the OpenAPI document of `tools.openapi.{key}` names "
                    f"a relative server URL ({url}): set `tools.openapi.{key}.base_url`"
                )
            url = urljoin(source, url)
        return LoadedApi(operations, url)


def _is_url(text: str) -> bool:
    return urlsplit(text).scheme.lower() in ("http", "https")


def _shown(url: str) -> str:
    """A URL as it may appear in a message: no credentials, query or fragment."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"


def _missing(ref: ToolRef, key: str, api: LoadedApi) -> str:
    names = sorted(api.operations)
    shown = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
    return (
        f"{ref.describe()}: the OpenAPI document of `tools.openapi.{key}` has no operation "
        f"`{ref.tool_name}` (it has: {shown or 'none'})"
    )


def _auth_problem(key: str, entry: OpenApiProvider) -> str | None:
    auth = entry.auth
    where = f"`tools.openapi.{key}.auth`"
    if auth.type == "bearer" and not auth.token:
        return f"{where} of type bearer needs `token`"
    if auth.type == "api_key" and not auth.key:
        return f"{where} of type api_key needs `key`"
    if auth.type == "basic" and auth.username is None:
        return f"{where} of type basic needs `username` (and `password`)"
    return None
