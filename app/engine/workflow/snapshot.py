"""A paused run as JSON: its pool (files kept as files; `env` left out, so secrets are
never stored: a resumed run reads them from the workflow again), where its top level
stands, its answer streaming and its totals."""

import dataclasses
from typing import Any

from app.engine.nodes.base import Usage
from app.engine.variables.pool import ENVIRONMENT, VariablePool
from app.engine.variables.values import FileValue

SNAPSHOT_VERSION = 1
_FILE = "__kiln_file__"


def encode_value(value: Any) -> Any:
    if isinstance(value, FileValue):
        return {_FILE: dataclasses.asdict(value)}
    if isinstance(value, dict):
        return {str(k): encode_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_FILE}:
            return FileValue(**value[_FILE])
        return {k: decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    return value


def dump_pool(pool: VariablePool) -> dict[str, Any]:
    scopes = pool.scopes()
    scopes.pop(ENVIRONMENT, None)
    return dict(encode_value(scopes))


def load_pool(data: dict[str, Any], environment: VariablePool) -> VariablePool:
    """The stored scopes over a freshly built pool's `env` and secrets."""
    scopes = decode_value(data)
    scopes[ENVIRONMENT] = environment.scope(ENVIRONMENT)
    return VariablePool.from_scopes(scopes, environment.secrets)


def dump_usage(usage: Usage) -> dict[str, Any]:
    return dataclasses.asdict(usage)


def load_usage(data: dict[str, Any]) -> Usage:
    return Usage(**data)
