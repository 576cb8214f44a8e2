"""End users of an app: get-or-create the one a request's `user` field names, find one
without creating it, and look one up by id."""

from cachetools import LRUCache
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import read_scope, session_scope
from app.core.errors import DifyError, InvalidParam
from app.core.nul import check_no_nul
from app.models import EndUser

DEFAULT_USER = "DEFAULT-USER"
SERVICE_API_TYPE = "service_api"
TRIGGER_TYPE = "trigger"  # who webhook and schedule runs are by (Dify's InvokeFrom.TRIGGER)
# `end_users.session_id` (and Dify's `external_user_id`) is a 255-character column:
# PostgreSQL refuses a longer value, SQLite would keep it; both answer this 400 instead.
MAX_USER_LENGTH = 255
USER_TOO_LONG = f"Invalid parameter: user must be at most {MAX_USER_LENGTH} characters."


async def _find(
    session: AsyncSession, app_id: str, user: str, kind: str = SERVICE_API_TYPE
) -> EndUser | None:
    statement = select(EndUser).where(
        EndUser.app_id == app_id, EndUser.type == kind, EndUser.session_id == user
    )
    return (await session.exec(statement)).first()


# End users are never deleted, so a found row can be remembered.
_known: LRUCache[tuple[str, str], EndUser] = LRUCache(maxsize=20000)
_triggers: LRUCache[str, EndUser] = LRUCache(maxsize=20000)


def _session_id(user: str | None) -> str:
    """The request's `user` as stored (absent: Dify's default user); NUL and a value the
    column cannot hold refused, for lookups too, so every endpoint answers alike."""
    session_id = user if user else DEFAULT_USER
    check_no_nul(session_id)
    if len(session_id) > MAX_USER_LENGTH:
        raise InvalidParam(USER_TOO_LONG)
    return session_id


async def get_or_create(app_id: str, user: str | None) -> EndUser:
    session_id = _session_id(user)
    cached = _known.get((app_id, session_id))
    if cached is not None:
        return cached
    end_user = await _get_or_create(app_id, session_id)
    _known[(app_id, session_id)] = end_user
    return end_user


async def trigger_user(app_id: str) -> EndUser:
    """The end user webhook and schedule runs of an app are by: Dify's anonymous default
    user of the `trigger` type."""
    cached = _triggers.get(app_id)
    if cached is None:
        cached = _triggers[app_id] = await _get_or_create(app_id, DEFAULT_USER, TRIGGER_TYPE)
    return cached


async def _get_or_create(app_id: str, session_id: str, kind: str = SERVICE_API_TYPE) -> EndUser:
    # On the main pool: this is a generation's start-up, not a read request.
    async with session_scope(read_only=True) as session:
        found = await _find(session, app_id, session_id, kind)
        if found is not None:
            return found
    try:
        async with session_scope() as session:
            end_user = EndUser(
                app_id=app_id,
                type=kind,
                external_user_id=session_id,
                session_id=session_id,
                is_anonymous=session_id == DEFAULT_USER,
            )
            session.add(end_user)
        return end_user
    except IntegrityError:
        # A concurrent request created it first.
        async with session_scope(read_only=True) as session:
            found = await _find(session, app_id, session_id, kind)
            assert found is not None
            return found


async def find(app_id: str, user: str | None) -> EndUser | None:
    """Look up without creating (read endpoints with no user see nothing)."""
    session_id = _session_id(user)
    cached = _known.get((app_id, session_id))
    if cached is not None:
        return cached
    async with read_scope() as session:
        found = await _find(session, app_id, session_id)
    if found is not None:
        _known[(app_id, session_id)] = found
    return found


class EndUserNotFound(DifyError):
    code = "end_user_not_found"
    status = 404
    default_message = "End user not found."


async def get_by_id(app_id: str, end_user_id: str) -> EndUser:
    """`GET /v1/end-users/{id}`: an end user of the calling app, else 404."""
    async with read_scope() as session:
        end_user = await session.get(EndUser, end_user_id)
    if end_user is None or end_user.app_id != app_id:
        raise EndUserNotFound()
    return end_user
