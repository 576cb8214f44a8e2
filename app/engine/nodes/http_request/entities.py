"""An http-request node's DSL data, parsed and checked once: method (any case), url,
authorization, `key:value` header and param lines, body (old DSLs: a bare string is one
text item), timeouts and ssl_verify. Templates stay unrendered until a run."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.engine.nodes.base import NodeConfigError

METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
BODY_TYPES = ("none", "form-data", "x-www-form-urlencoded", "raw-text", "json", "binary")
AUTH_KINDS = ("basic", "bearer", "custom")


@dataclass(frozen=True, slots=True)
class Authorization:
    kind: str | None  # None: no-auth; else basic | bearer | custom
    api_key: str = ""  # a template
    header: str = ""  # empty: Authorization

    @property
    def header_name(self) -> str:
        return self.header or "Authorization"


@dataclass(frozen=True, slots=True)
class BodyItem:
    key: str  # a template
    type: str  # text | file
    value: str  # a template
    file: tuple[str, ...]  # the file variable's selector (file items)


@dataclass(frozen=True, slots=True)
class Body:
    type: str
    items: tuple[BodyItem, ...]


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float | None = None  # None or 0: the default
    read: float | None = None
    write: float | None = None


@dataclass(frozen=True, slots=True)
class HttpRequestConfig:
    method: str  # lower case
    url: str
    authorization: Authorization
    headers: str
    params: str
    body: Body | None
    timeouts: Timeouts
    ssl_verify: bool | None


def _text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise NodeConfigError(f"{key} must be text")


def _authorization(raw: Any) -> Authorization:
    if raw is None:
        return Authorization(None)
    if not isinstance(raw, Mapping):
        raise NodeConfigError("authorization must be a mapping")
    kind = raw.get("type")
    if kind == "no-auth":
        return Authorization(None)
    if kind != "api-key":
        raise NodeConfigError(f"unsupported authorization type {kind!r}")
    config = raw.get("config")
    if not isinstance(config, Mapping):
        raise NodeConfigError("the api-key authorization has no config")
    if config.get("type") not in AUTH_KINDS:
        raise NodeConfigError(f"unsupported api-key type {config.get('type')!r}")
    return Authorization(str(config["type"]), _text(config, "api_key"), _text(config, "header"))


def _body_item(raw: Any) -> BodyItem:
    if not isinstance(raw, Mapping):
        raise NodeConfigError("a body item must be a mapping")
    kind = raw.get("type")
    if kind not in ("text", "file"):
        raise NodeConfigError(f"unsupported body item type {kind!r}")
    selector = raw.get("file") or []
    if not isinstance(selector, list | tuple) or not all(isinstance(s, str) for s in selector):
        raise NodeConfigError("a body file must be a variable selector")
    return BodyItem(_text(raw, "key"), str(kind), _text(raw, "value"), tuple(selector))


def _body(raw: Any) -> Body | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise NodeConfigError("body must be a mapping")
    kind = raw.get("type")
    if kind not in BODY_TYPES:
        raise NodeConfigError(f"unsupported body type {kind!r}")
    data = raw.get("data")
    if not data:
        items: tuple[BodyItem, ...] = ()
    elif isinstance(data, str):  # DSLs before 0.1.2: the body text itself
        items = (BodyItem("", "text", data, ()),)
    elif isinstance(data, list):
        items = tuple(_body_item(item) for item in data)
    else:
        raise NodeConfigError("body data must be a list")
    return Body(str(kind), items)


def _seconds(raw: Mapping[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _timeouts(raw: Any) -> Timeouts:
    if not isinstance(raw, Mapping):
        return Timeouts()
    return Timeouts(_seconds(raw, "connect"), _seconds(raw, "read"), _seconds(raw, "write"))


def parse_config(data: Mapping[str, Any]) -> HttpRequestConfig:
    method = data.get("method")
    if not isinstance(method, str) or method.lower() not in METHODS:
        raise NodeConfigError(f"Invalid http method {method}")
    if not isinstance(data.get("url"), str):
        raise NodeConfigError("the http request has no url")
    ssl_verify = data.get("ssl_verify")
    if ssl_verify is not None and not isinstance(ssl_verify, bool):
        raise NodeConfigError("ssl_verify must be a boolean")
    return HttpRequestConfig(
        method=method.lower(),
        url=data["url"],
        authorization=_authorization(data.get("authorization")),
        headers=_text(data, "headers"),
        params=_text(data, "params"),
        body=_body(data.get("body")),
        timeouts=_timeouts(data.get("timeout")),
        ssl_verify=ssl_verify,
    )
