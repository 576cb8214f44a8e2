"""What one file's extraction may spend: pages, rows, unpacked bytes and time. Extractors
call `page`/`rows`/`tick` as they go, so a file past a limit fails with a clear error and an
extraction the node gave up on (timed out, run stopped) stops at its next step instead of
running on in its worker thread."""

import threading
import time
from dataclasses import dataclass, field

from app.engine.nodes.document_extractor.errors import LimitExceeded
from app.engine.workflow.env import DocumentLimits


class ExtractionAbandoned(Exception):
    """The node no longer waits for this extraction (its time is up or the run stopped)."""


@dataclass(slots=True)
class Budget:
    limits: DocumentLimits
    name: str  # the file's name, for messages
    deadline: float  # time.monotonic() value
    abandoned: threading.Event = field(default_factory=threading.Event)
    rows_seen: int = 0

    @classmethod
    def start(cls, limits: DocumentLimits, name: str) -> "Budget":
        return cls(limits, name, time.monotonic() + limits.timeout)

    def tick(self) -> None:
        """Between two steps of work: stop when the node gave up or the time is over."""
        if self.abandoned.is_set() or time.monotonic() > self.deadline:
            raise ExtractionAbandoned

    def pages(self, count: int, unit: str = "pages") -> None:
        """Refuse a document of more pages (slides, chapters) than the limit, up front."""
        limit = self.limits.max_pages
        if count > limit:
            raise LimitExceeded(
                f"{self.name} has {count} {unit}; document extraction reads at most {limit} "
                "(KILN_DOCUMENT_EXTRACTOR_MAX_PAGES)"
            )

    def row(self) -> None:
        """Count one table row (CSV, spreadsheet, Word table)."""
        self.rows_seen += 1
        if self.rows_seen > self.limits.max_rows:
            raise LimitExceeded(
                f"{self.name} has more than {self.limits.max_rows} rows; document extraction "
                "reads at most that many (KILN_DOCUMENT_EXTRACTOR_MAX_ROWS)"
            )
        if self.rows_seen % 256 == 0:
            self.tick()
