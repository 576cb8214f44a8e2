"""The variable pool of one run: `[node_id][name]` → value, plus the reserved namespaces
`sys`, `env` and `conversation`. Reads take a selector and drill into objects (and file
attributes) key by key; a missing variable reads as MISSING (nodes decide what that means)."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from app.engine.variables.values import FileValue

SYSTEM, ENVIRONMENT, CONVERSATION = "sys", "env", "conversation"
RESERVED = frozenset((SYSTEM, ENVIRONMENT, CONVERSATION))


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

Selector = Sequence[str]


class VariablePool:
    __slots__ = ("_values", "secrets")

    def __init__(
        self,
        system: Mapping[str, Any] | None = None,
        environment: Mapping[str, Any] | None = None,
        conversation: Mapping[str, Any] | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self._values: dict[str, dict[str, Any]] = {
            SYSTEM: dict(system or {}),
            ENVIRONMENT: dict(environment or {}),
            CONVERSATION: dict(conversation or {}),
        }
        # Values of secret environment variables: kept out of events and logs.
        self.secrets: frozenset[str] = frozenset(s for s in secrets if s)

    def add(self, node_id: str, name: str, value: Any) -> None:
        self._values.setdefault(node_id, {})[name] = value

    def add_outputs(self, node_id: str, outputs: Mapping[str, Any]) -> None:
        self._values.setdefault(node_id, {}).update(outputs)

    def remove_node(self, node_id: str) -> None:
        self._values.pop(node_id, None)

    def lookup(self, selector: Selector) -> Any:
        """The value, or MISSING when a part of the selector does not resolve."""
        if len(selector) < 2:
            return MISSING
        scope = self._values.get(selector[0])
        if scope is None or selector[1] not in scope:
            return MISSING
        value = scope[selector[1]]
        for key in selector[2:]:
            if isinstance(value, FileValue):
                value = value.attribute(key)
            elif isinstance(value, dict) and key in value:
                value = value[key]
            else:
                return MISSING
        return value

    def get(self, selector: Selector, default: Any = None) -> Any:
        value = self.lookup(selector)
        return default if value is MISSING else value

    def node_values(self, node_id: str) -> dict[str, Any]:
        return dict(self._values.get(node_id, {}))

    def scope(self, name: str) -> dict[str, Any]:
        """A reserved namespace's values (e.g. `conversation` to persist it)."""
        return self._values.setdefault(name, {})

    def scopes(self) -> dict[str, dict[str, Any]]:
        """Every namespace's values (a paused run's snapshot); shallow copies."""
        return {key: dict(scope) for key, scope in self._values.items()}

    @classmethod
    def from_scopes(
        cls, scopes: Mapping[str, Mapping[str, Any]], secrets: Iterable[str] = ()
    ) -> "VariablePool":
        pool = cls(secrets=secrets)
        for key, scope in scopes.items():
            pool._values[key] = dict(scope)
        return pool

    def fork(self) -> "VariablePool":
        """A copy whose node scopes can be written without touching this one (a parallel
        iteration round); reserved namespaces stay shared, as Dify shares them."""
        child = VariablePool.__new__(VariablePool)
        child._values = {
            key: scope if key in (SYSTEM, ENVIRONMENT, CONVERSATION) else dict(scope)
            for key, scope in self._values.items()
        }
        child.secrets = self.secrets
        return child
