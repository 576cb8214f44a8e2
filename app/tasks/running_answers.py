"""The answers this process's generations have streamed so far, kept for a periodic save:
a running message reads with its text so far, and a crash loses at most one interval.

Watching an event costs an append; joining and saving happen off the hot path, in the
saver's own loop (app/services/generation/progress.py)."""

from collections.abc import Callable
from typing import Any

Event = dict[str, Any]
ANSWER_EVENTS = ("message", "agent_message")


class RunningAnswer:
    """One generation's answer as its client has been sent it."""

    __slots__ = ("_changed", "_parts")

    def __init__(self, so_far: str = "") -> None:
        self._parts: list[str] = [so_far] if so_far else []
        self._changed = False

    def observe(self, event: Event) -> None:
        kind = event.get("event")
        if kind in ANSWER_EVENTS:
            self._parts.append(str(event.get("answer") or ""))
            self._changed = True
        elif kind == "message_replace":  # output moderation replaced the whole answer
            self._parts = [str(event.get("answer") or "")]
            self._changed = True

    def watching(self, emit: Callable[[Event], None]) -> Callable[[Event], None]:
        """`emit`, then note the event's text."""

        def emit_and_observe(event: Event) -> None:
            emit(event)
            self.observe(event)

        return emit_and_observe

    def text(self) -> str:
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def mark_changed(self) -> None:
        self._changed = True

    def take_change(self) -> str | None:
        """The text, if it changed since the last call; else None."""
        if not self._changed:
            return None
        self._changed = False
        return self.text()


class RunningAnswers:
    """Every running generation's answer in this process, by message id."""

    def __init__(self) -> None:
        self._running: dict[str, RunningAnswer] = {}

    def track(self, message_id: str, so_far: str = "") -> RunningAnswer:
        """`so_far`: what the message already said (a run resumed after a pause)."""
        answer = RunningAnswer(so_far)
        self._running[message_id] = answer
        return answer

    def untrack(self, message_id: str) -> None:
        self._running.pop(message_id, None)

    def changes(self) -> dict[str, str]:
        """The answers that grew since the last call, by message id."""
        changed: dict[str, str] = {}
        for message_id, answer in list(self._running.items()):
            text = answer.take_change()
            if text is not None:
                changed[message_id] = text
        return changed

    def unsaved(self, message_ids: list[str]) -> None:
        """A save failed: offer these answers again next time."""
        for message_id in message_ids:
            answer = self._running.get(message_id)
            if answer is not None:
                answer.mark_changed()
