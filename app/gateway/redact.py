"""Keep provider keys and keyed URLs out of anything a client or a log line sees."""

import re

_KEY_PARAM = re.compile(r"([?&](?:key|api_key|api-key|token|access_token)=)[^&\s'\"]+", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._\-]+", re.I)
_SK = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{6,}")


def redact(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _KEY_PARAM.sub(r"\1***", text)
    text = _BEARER.sub(r"\1***", text)
    return _SK.sub("***", text)
