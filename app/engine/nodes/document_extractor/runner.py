"""Parsing runs off the event loop, in a small pool of threads of its own (so a burst of
documents never starves the loop's default executor, which DNS look-ups use).

Why threads and not processes: every parser here is either pure Python or PDFium, none is
known to hang, and the input is bounded before and while it is parsed (bytes, unpacked
bytes, pages, rows); a process per file would cost a fresh interpreter importing the
parsers (~0.3 s) on every extraction. The time limit is kept on both sides: the node stops
waiting at the deadline, and the worker, told it was given up on, stops at its next page,
row or paragraph instead of running on."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from app.engine.nodes.document_extractor.budget import Budget, ExtractionAbandoned
from app.engine.nodes.document_extractor.errors import (
    DocumentExtractorError,
    LimitExceeded,
    TextExtractionError,
)
from app.engine.nodes.document_extractor.formats import Format
from app.engine.nodes.document_extractor.zipguard import check_archive

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor(workers: int) -> ThreadPoolExecutor:
    """The process's extraction threads, made on first use (their number from the first
    run's limits: KILN_DOCUMENT_EXTRACTOR_WORKERS)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="kiln-documents")
        return _pool


def _extract_now(found: Format, content: bytes, budget: Budget) -> str:
    if found.extract is None:
        raise TextExtractionError(found.unavailable)
    budget.tick()
    if found.zipped:
        check_archive(content, budget)
    try:
        return found.extract(content, budget)
    except (DocumentExtractorError, ExtractionAbandoned):
        raise
    except RecursionError:
        raise TextExtractionError(f"{found.failure}: the document nests too deeply") from None
    except Exception as exc:
        raise TextExtractionError(f"{found.failure}: {exc}") from None


async def extract(found: Format, content: bytes, budget: Budget) -> str:
    """The file's text, or a DocumentExtractorError; never longer than the limit's time."""
    limits = budget.limits
    work = _executor(limits.workers).submit(_extract_now, found, content, budget)
    future = asyncio.wrap_future(work)
    try:
        return await asyncio.wait_for(future, timeout=limits.timeout)
    except (TimeoutError, ExtractionAbandoned):  # either side may see the deadline first
        raise LimitExceeded(
            f"Extracting text from {budget.name} took longer than {limits.timeout:g} s "
            "(KILN_DOCUMENT_EXTRACTOR_TIMEOUT)"
        ) from None
    finally:
        budget.abandoned.set()  # a worker still on it stops at its next step
