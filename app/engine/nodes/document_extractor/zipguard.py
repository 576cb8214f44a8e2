"""Office files and EPUB are zip archives: their central directory says how large every
member unpacks to, so a zip bomb is refused before any parser inflates it."""

import io
import zipfile

from app.engine.nodes.document_extractor.budget import Budget
from app.engine.nodes.document_extractor.errors import LimitExceeded

MAX_MEMBERS = 10_000


def check_archive(content: bytes, budget: Budget) -> None:
    """Refuse an archive unpacking past the limit; a file that is no zip at all is left to
    its parser, whose own error names the format."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return
    limit = budget.limits.max_unpacked_size
    total = sum(member.file_size for member in members)
    if len(members) > MAX_MEMBERS or total > limit:
        raise LimitExceeded(
            f"{budget.name} unpacks to {total} bytes in {len(members)} parts; document "
            f"extraction unpacks at most {limit} bytes "
            "(KILN_DOCUMENT_EXTRACTOR_MAX_UNPACKED_SIZE)"
        )
