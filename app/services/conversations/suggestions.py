"""Follow-up questions after an answer, written by the app's own model from the last turns
of the conversation; any failure gives an empty list (never an error)."""

import asyncio
import logging
import re

from sqlmodel import col, select

from app.core.db import session_scope
from app.core.errors import BadRequest
from app.engine.features import app_feature
from app.gateway.tokens import count_tokens
from app.models import App, Message
from app.runtime import Runtime
from app.services.conversations.message_access import owned_message
from app.services.conversations.model_text import complete, first_json

logger = logging.getLogger("kiln.suggestions")

MAX_QUESTIONS = 3
HISTORY_TURNS = 3
HISTORY_TOKENS = 3000
SUGGESTION_PARAMS = {"max_tokens": 256, "temperature": 0}
SPEAKERS = ("Human", "Assistant")
INSTRUCTIONS = (
    "Based on the conversation above, write the three questions the user is most likely to "
    "ask next. Keep each question short (under twenty words) and in the language of the "
    "conversation. Reply with a JSON array of three strings and nothing else.\n"
    "questions:\n"
)
_BULLET = re.compile(r"^\s*(?:[-*\u2022]+|\d+[.)]|Q\d*[:.)])\s*")


def enabled(app: App) -> bool:
    feature = app_feature(app.app_mode, app.dsl, "suggested_questions_after_answer")
    return bool(feature.get("enabled"))


def parse_questions(text: str) -> list[str]:
    """A JSON array anywhere in the reply; otherwise lines that read as questions (never
    lines quoting the conversation back)."""
    found = first_json(text, list)
    if isinstance(found, list):
        items = [item.strip() for item in found if isinstance(item, str) and item.strip()]
    else:
        items = []
        for line in text.splitlines():
            if any(f"{speaker}:" in line for speaker in SPEAKERS):
                continue
            line = _BULLET.sub("", line).strip().strip("\"'").strip()
            if line.endswith("?"):
                items.append(line)
    return items[:MAX_QUESTIONS]


async def _history(conversation_id: str) -> str:
    async with session_scope(read_only=True) as session:
        statement = (
            select(Message)
            .where(Message.conversation_id == conversation_id, col(Message.is_running).is_(False))
            .order_by(col(Message.created_at).desc(), col(Message.id).desc())
            .limit(HISTORY_TURNS)
        )
        rows = list((await session.exec(statement)).all())
    rows.reverse()
    turns = [f"{SPEAKERS[0]}: {r.query}\n{SPEAKERS[1]}: {r.answer}" for r in rows]
    while len(turns) > 1 and count_tokens("\n".join(turns)) > HISTORY_TOKENS:
        turns.pop(0)
    return "\n".join(turns)


async def suggested(runtime: Runtime, app: App, user: str, message_id: str) -> list[str]:
    message = await owned_message(app.id, user, message_id)
    if not enabled(app):
        raise BadRequest("Suggested Questions Is Disabled.")
    history = await _history(message.conversation_id)
    try:
        reply = await complete(runtime, app, f"{history}\n{INSTRUCTIONS}", SUGGESTION_PARAMS)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        logger.info("suggested questions failed for app %s: %s", app.id, exc)
        return []
    return parse_questions(reply)
