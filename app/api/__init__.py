"""The HTTP layer: routers per area, request dependencies, SSE responses."""

from app.api import convertors as convertors  # `{name:dify_uuid}` paths need it registered
