"""Request dependencies: the calling app (from its API key) and the process runtime."""

from typing import Annotated

from fastapi import Depends, Request

from app.core.errors import Forbidden, Unauthorized
from app.models import App
from app.runtime import Runtime
from app.services.apps import auth


async def current_app(request: Request) -> App:
    header = request.headers.get("authorization")
    if not header or len(header.split(None, 1)) != 2:
        raise Unauthorized("Authorization header must be provided and start with 'Bearer'")
    scheme, token = header.split(None, 1)
    if scheme.lower() != "bearer":
        raise Unauthorized("Authorization scheme must be 'Bearer'")
    app = await auth.app_for_key(token.strip())
    if app is None:
        raise Unauthorized("Access token is invalid")
    if app.status != "normal":
        raise Forbidden("The app's status is abnormal.")
    if not app.enable_api:
        raise Forbidden("The app's API service has been disabled.")
    return app


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


AppDep = Annotated[App, Depends(current_app)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
