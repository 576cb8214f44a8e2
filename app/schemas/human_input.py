"""Request shapes of the human input endpoints (Dify's HumanInputFormSubmitPayload)."""

from typing import Any

from pydantic import BaseModel


class HumanInputSubmitPayload(BaseModel):
    inputs: dict[str, Any]
    action: str
