"""What clients and logs may see of the text that comes back from upstream calls.

- `redact`: provider keys and keyed URLs out of any text.
- `upstream_detail` / `body_detail` / `not_a_stream_detail`: a provider's error text (or
  what it sent instead of an answer) as a client sees it and the failed message stores
  it: keys redacted, an HTML page summarised, URLs, host names and markup removed, at most
  `MAX_DETAIL` characters.
- `install_log_redaction`: log records of the HTTP clients (httpx, httpcore, openai,
  litellm) with credentials removed from the URLs they name; host, path and status stay.
"""

import logging
import re
from typing import Any

import orjson

_KEY_PARAM = re.compile(
    r"([?&](?:key|api_key|api-key|token|access_token)=)[^&\s'\"<>()\[\];,]+", re.I
)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._\-]+", re.I)
_SK = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{6,}")

MAX_DETAIL = 500
HTML_PAGE = "Upstream returned an HTML error page"
_HTML = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|title)\b", re.I)
# A URL, without the punctuation that ends the sentence around it.
_URL = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s\"'<>`]*[^\s\"'<>`.,;:!?)\]}]", re.I)
_IP = re.compile(
    r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b|\[[0-9a-f:.]*:[0-9a-f:.]*\](?::\d{1,5})?", re.I
)
# `name:port` (a letter in the name, so times like 10:30 stay) and `localhost`.
_HOST_PORT = re.compile(r"\b(?=[a-z0-9.\-]*[a-z])[a-z0-9](?:[a-z0-9.\-]*[a-z0-9])?:\d{2,5}\b", re.I)
_LOCALHOST = re.compile(r"\blocalhost\b", re.I)
# Dotted names ending in a common or internal top-level domain (model names such as
# `gpt-3.5-turbo` or `claude-3.5-sonnet` do not).
_DOMAIN = re.compile(
    r"\b(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+"
    r"(?:com|net|org|io|ai|dev|app|cloud|co|info|biz|xyz|tech|site|online|us|uk|eu|de|fr|nl"
    r"|cn|jp|kr|in|ru|br|ca|au|sg|hk|tw|internal|local|localdomain|lan|corp|intranet|home"
    r"|svc|cluster)\b",
    re.I,
)
_TAG = re.compile(r"</?[a-z!][^<>]{0,200}>", re.I)
_SPACE = re.compile(r"\s+")


def redact(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _KEY_PARAM.sub(r"\1***", text)
    text = _BEARER.sub(r"\1***", text)
    return _SK.sub("***", text)


def is_html(text: str) -> bool:
    return _HTML.search(text) is not None


def upstream_detail(
    text: str, secrets: tuple[str | None, ...] = (), status: int | None = None
) -> str:
    """A provider's own words, fit for a client: an HTML page becomes one short sentence;
    otherwise URLs become `[url]`, addresses and host names `[host]`, tags go."""
    text = redact(text, secrets)
    if is_html(text):
        return HTML_PAGE + (f" ({status})" if status is not None else "")
    text = _URL.sub("[url]", text)
    text = _IP.sub("[host]", text)
    text = _HOST_PORT.sub("[host]", text)
    text = _DOMAIN.sub("[host]", text)
    text = _LOCALHOST.sub("[host]", text)
    text = _TAG.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def body_detail(raw: bytes, secrets: tuple[str | None, ...], status: int) -> str:
    """What an upstream answer body says: an OpenAI-style error's message, else the body
    itself, cleaned by `upstream_detail` (empty: said so)."""
    text = raw.decode("utf-8", "replace")
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        payload = None
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, dict):
            text = str(error.get("message") or error)
        elif isinstance(error, str):
            text = error
    if not text.strip():
        return "Upstream returned an empty body"
    return upstream_detail(text[: MAX_DETAIL * 8], secrets, status)


def _readable(text: str) -> bool:
    """Text, not bytes decoded as text (which bring replacement and control characters)."""
    return "\ufffd" not in text and all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def not_a_stream_detail(head: str, secrets: tuple[str | None, ...]) -> str:
    """What came instead of an event stream in a 200 (`head`: the body's start)."""
    text = head.strip()
    if not text:
        return "Upstream returned an empty body instead of an event stream"
    if text.startswith(("{", "[")):
        try:
            payload = orjson.loads(text)
        except orjson.JSONDecodeError:
            payload = None
        if isinstance(payload, dict) and payload.get("error"):
            return body_detail(text.encode(), secrets, 200)
        return "Upstream returned plain JSON instead of an event stream"
    if is_html(text):
        return upstream_detail(text, secrets, 200)
    if _readable(text):
        return "Upstream returned text instead of an event stream: " + upstream_detail(
            text, secrets, 200
        )
    return "Upstream returned a body that is not an event stream"


# -- logs ------------------------------------------------------------------------------
# Loggers of the libraries that make upstream calls (and their children).
_CLIENT_LOGGERS = ("httpx", "httpcore", "openai", "litellm", "LiteLLM")
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.\-]*://)[^/\s@\"'<>]+@", re.I)
_SECRET_PARAM = re.compile(
    r"([?&][^=&\s\"'<>]*(?:key|token|secret|sig|signature|password|auth|credential)"
    r"[^=&\s\"'<>]*=)[^&\s\"'<>]+",
    re.I,
)


def redact_urls(text: str) -> str:
    """Credentials out of every URL in a log line: user info and secret-looking query
    values go; scheme, host, path and the rest stay."""
    text = _USERINFO.sub(r"\1", text)
    text = _SECRET_PARAM.sub(r"\1***", text)
    return redact(text)


def _is_client_logger(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in _CLIENT_LOGGERS)


def install_log_redaction() -> None:
    """Redact the client libraries' records as they are made, whichever handler (uvicorn's,
    the CLI's, a test's) writes them. Installed once per process."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "kiln_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _is_client_logger(record.name):
            try:
                message = record.getMessage()
            except Exception:  # a malformed call: logging reports it when it is written
                return record
            record.msg, record.args = redact_urls(message), None
        return record

    factory.kiln_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
