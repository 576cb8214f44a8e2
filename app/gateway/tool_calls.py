"""Tool calls put together from a stream: the provider sends each call's id and name
first, then its arguments in fragments, every piece tagged with the call's `index`."""

from app.gateway.types import ToolCall


class ToolCallParts:
    def __init__(self) -> None:
        self._calls: dict[int, list[str]] = {}  # index → [id, name, arguments so far]

    def add(
        self, position: int, index: object, call_id: object, name: object, arguments: object
    ) -> None:
        """One delta; `position` (its place in the chunk's list) stands in for a missing
        `index` (peers that send each call whole)."""
        key = index if isinstance(index, int) else position
        call = self._calls.setdefault(key, ["", "", ""])
        if isinstance(call_id, str) and call_id:
            call[0] = call_id
        if isinstance(name, str) and name:
            call[1] = name
        if isinstance(arguments, str):
            call[2] += arguments

    def flush(self) -> list[ToolCall]:
        """The calls gathered so far, in index order (nameless fragments are dropped)."""
        calls = [
            ToolCall(id=call[0] or f"call_{index}", name=call[1], arguments=call[2])
            for index, call in sorted(self._calls.items())
            if call[1]
        ]
        self._calls.clear()
        return calls
