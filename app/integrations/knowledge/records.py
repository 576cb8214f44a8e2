"""What a retrieval service answers and what Kiln knows of a mapped dataset."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class KnowledgeRecord:
    """One record of `{records: [{content, score, title, metadata}]}`."""

    content: str
    score: float | None = None
    title: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KnowledgeBaseInfo:
    """A mapped dataset as Dify would know it: id, name, description and its own
    retrieval setting (None: not set in the mapping)."""

    dataset_id: str
    name: str
    description: str = ""
    top_k: int | None = None
    score_threshold: float | None = None

    @property
    def router_description(self) -> str:
        """What single-mode routing tells the model (Dify's fallback when a dataset has
        no description)."""
        text = (
            self.description or f"useful for when you want to answer queries about the {self.name}"
        )
        return text.replace("\n", "").replace("\r", "")
