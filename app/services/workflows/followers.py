"""Listeners of resumed runs in this process (GET /v1/workflow/{id}/events): a resumed run
has no request of its own, so its events go to whoever follows it here."""

from collections.abc import Callable

from app.engine.channel import EventChannel
from app.engine.events import Event

_followers: dict[str, set[EventChannel]] = {}


def follow(run_id: str) -> EventChannel:
    channel = EventChannel()
    _followers.setdefault(run_id, set()).add(channel)
    return channel


def unfollow(run_id: str, channel: EventChannel) -> None:
    channels = _followers.get(run_id)
    if channels is not None:
        channels.discard(channel)
        if not channels:
            _followers.pop(run_id, None)


def is_local(run_id: str) -> bool:
    return run_id in _running


_running: set[str] = set()


def observer(run_id: str) -> Callable[[Event | None], None]:
    """What a resumed run tells its events to; None once it ended."""
    _running.add(run_id)

    def tell(event: Event | None) -> None:
        if event is None:
            _running.discard(run_id)
        for channel in list(_followers.get(run_id, ())):
            if event is None:
                channel.close()
            else:
                channel.emit(event)

    return tell
