"""SQLModel tables; importing this package registers them all on the metadata."""

from app.models.app import ApiToken, App
from app.models.conversation import Conversation, Message
from app.models.end_user import EndUser

__all__ = ["ApiToken", "App", "Conversation", "EndUser", "Message"]
