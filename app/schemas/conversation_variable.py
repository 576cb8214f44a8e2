"""Conversation variables as Dify's Service API shows them: `value` as a string."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models import ConversationVariable
from app.models.base import timestamp

# Dify's ConversationVariablesQuery: letters and digits of any script plus `-_.`, then
# a deny-list of SQL-looking fragments.
_SUSPICIOUS = ("'", '"', ";", "--", "/*", "*/", "xp_", "sp_")


def render_value(value: Any) -> str | None:
    """Dify marshals `value` with a string field: Python's `str()` of the value."""
    return None if value is None else str(value)


class ConversationVariablesQuery(BaseModel):
    last_id: str | None = None
    limit: int = Field(default=20, ge=1, le=100)
    variable_name: str | None = Field(default=None, min_length=1, max_length=255)

    @field_validator("variable_name")
    @classmethod
    def _name_characters(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValueError(
                "Variable name can only contain letters, numbers, hyphens (-), "
                "underscores (_), and periods (.)"
            )
        for pattern in _SUSPICIOUS:
            if pattern in value.lower():
                raise ValueError(f"Variable name contains invalid characters: {pattern}")
        return value


class ConversationVariableUpdatePayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    value: Any
    user: str | int | None = None


class ConversationVariableItem(BaseModel):
    id: str
    name: str
    value_type: str
    value: str | None
    description: str
    created_at: int | None
    updated_at: int | None

    @classmethod
    def of(cls, row: ConversationVariable) -> "ConversationVariableItem":
        return cls(
            id=row.id,
            name=row.name,
            value_type=row.value_type,
            value=render_value(row.value),
            description=row.description,
            created_at=timestamp(row.created_at),
            updated_at=timestamp(row.updated_at),
        )


class ConversationVariablePage(BaseModel):
    limit: int
    has_more: bool
    data: list[ConversationVariableItem]
