"""Service API routes for this area (issue 3; filled in as the area lands)."""

from fastapi import APIRouter

router = APIRouter(tags=["audio"])
