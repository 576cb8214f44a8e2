"""Naming an app on the command line: by its id or by its stable name (`source_key`)."""

import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import App


class AppNotFound(LookupError):
    pass


async def find_app_in(session: AsyncSession, ref: str, *, for_update: bool = False) -> App:
    wheres = [App.source_key == ref]
    try:
        wheres.insert(0, App.id == str(uuid.UUID(ref)))
    except ValueError:
        pass
    for where in wheres:
        statement = select(App).where(where)
        if for_update:
            statement = statement.with_for_update()
        app = (await session.exec(statement)).first()
        if app is not None:
            return app
    raise AppNotFound(f"No app with id or name {ref!r}")
