"""What the command line shows of apps' triggers: each active webhook's URL (Dify's
`{TRIGGER_URL}/triggers/webhook/{webhook_id}`) and method, each schedule's cron
expression, timezone and next fire time."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from app.core.config import Settings
from app.core.db import session_scope
from app.engine.graph.loader import read_nodes
from app.models import App, AppTrigger
from app.services.triggers.sync import WEBHOOK


def webhook_url(settings: Settings, webhook_id: str) -> str:
    origin = settings.trigger_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
    return f"{origin}/triggers/webhook/{webhook_id}"


@dataclass(frozen=True, slots=True)
class TriggerInfo:
    node_id: str
    title: str
    type: str  # trigger-webhook | trigger-schedule
    url: str | None = None  # webhooks
    method: str | None = None
    cron: str | None = None  # schedules (None: the schedule cannot be read)
    timezone: str | None = None
    next_run_at: datetime | None = None

    def describe(self) -> str:
        where = f"{self.title} ({self.node_id})"
        if self.type == WEBHOOK:
            return f"webhook   {where}  {self.method} {self.url}"
        if self.cron is None:
            return f"schedule  {where}  never fires: its schedule cannot be read"
        when = f"{self.next_run_at:%Y-%m-%d %H:%M:%S} UTC" if self.next_run_at else "-"
        return f"schedule  {where}  {self.cron} ({self.timezone}), next {when}"

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"node_id": self.node_id, "type": self.type}
        if self.type == WEBHOOK:
            found.update(url=self.url, method=self.method)
        else:
            when = self.next_run_at.isoformat() if self.next_run_at else None
            found.update(cron=self.cron, timezone=self.timezone, next_run_at=when)
        return found


async def app_triggers(settings: Settings, apps: Sequence[App]) -> dict[str, list[TriggerInfo]]:
    """Each app's active triggers, in its graph's order."""
    ids = [app.id for app in apps]
    if not ids:
        return {}
    async with session_scope() as session:
        statement = select(AppTrigger).where(
            col(AppTrigger.app_id).in_(ids), col(AppTrigger.active).is_(True)
        )
        rows = {(r.app_id, r.node_id): r for r in (await session.exec(statement)).all()}
    found: dict[str, list[TriggerInfo]] = {}
    for app in apps:
        workflow = app.dsl.get("workflow") if isinstance(app.dsl, dict) else None
        graph = workflow.get("graph") if isinstance(workflow, dict) else None
        for spec in read_nodes(graph if isinstance(graph, dict) else {}).values():
            row = rows.get((app.id, spec.id))
            if row is None:
                continue
            info = TriggerInfo(spec.id, spec.title, row.type)
            if row.type == WEBHOOK and row.webhook_id:
                method = str(spec.data.get("method") or "get").upper()
                info = TriggerInfo(
                    spec.id, spec.title, row.type, webhook_url(settings, row.webhook_id), method
                )
            elif row.cron_expression:
                info = TriggerInfo(
                    spec.id,
                    spec.title,
                    row.type,
                    cron=row.cron_expression,
                    timezone=row.timezone,
                    next_run_at=row.next_run_at,
                )
            found.setdefault(app.id, []).append(info)
    return found
