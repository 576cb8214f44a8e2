"""Small validators shared by request shapes."""

import uuid


def optional_uuid(value: str | None, name: str) -> str | None:
    """Blank means absent; anything else must be a UUID (Dify's message)."""
    if value is None or not value.strip():
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise ValueError(f"{name} must be a valid UUID") from None
