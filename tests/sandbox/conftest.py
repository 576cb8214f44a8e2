"""A local sandbox shared by the sandbox tests (workers start on first use)."""

from collections.abc import AsyncIterator

import pytest

from app.core.config import Settings
from app.sandbox.pool import LocalSandbox

TIMEOUT = 2.0


def sandbox_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "code_execution_endpoint": "",
        "code_execution_timeout": TIMEOUT,
        "code_sandbox_workers": 4,
        "code_sandbox_memory_mb": 512,
        "code_sandbox_max_output_bytes": 1024 * 1024,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
async def sandbox() -> AsyncIterator[LocalSandbox]:
    box = LocalSandbox(sandbox_settings())
    yield box
    await box.aclose()
