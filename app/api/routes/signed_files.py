"""Signed, expiring file URLs under /files (outside /v1, as Dify serves them)."""

from fastapi import APIRouter

router = APIRouter(tags=["files"])
