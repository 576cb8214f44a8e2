"""Deleting an app with everything that belongs to it: its rows go in one transaction
(keys, versions, conversations, messages, files, annotations, end users, runs: the
foreign keys cascade), then its stored files."""

from sqlmodel import select

from app.core.config import Settings
from app.core.db import session_scope
from app.models import App, UploadFile
from app.services.apps.lookup import find_app_in
from app.storage import get_storage


async def delete_app(settings: Settings, ref: str) -> App:
    async with session_scope() as session:
        app = await find_app_in(session, ref, for_update=True)
        statement = select(UploadFile.storage_key).where(UploadFile.app_id == app.id)
        keys = list((await session.exec(statement)).all())
        await session.delete(app)
    storage = get_storage(settings)
    for key in keys:  # after the commit: a file is never gone while its row is there
        await storage.delete(key)
    return app
