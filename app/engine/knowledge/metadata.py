"""The External Knowledge API's `metadata_condition` from a retrieval's metadata filter.

- disabled: none.
- manual: `{logical_operator, conditions: [{name, comparison_operator, value}]}` with each
  string value filled in (workflow nodes: `{{#node.var#}}` from the pool, a lone number
  variable staying a number; classic apps: `{{var}}` from the inputs), line breaks and tabs
  folded to spaces; `empty` / `not empty` keep their value as is.
- automatic: Dify asks a model to pick conditions among the datasets' metadata fields and
  keeps only fields it knows; Dify holds no metadata fields for external datasets, so for
  them the answer is always no condition. Kiln gives that result without the model call.
"""

import re
from collections.abc import Callable
from typing import Any

from app.engine.knowledge.settings import MetadataFilter

_FOLD = re.compile(r"[\r\n\t]+")

# Fills one string value: a workflow pool or a classic app's inputs.
ValueFiller = Callable[[str], Any]


def _folded(value: Any) -> Any:
    return _FOLD.sub(" ", value).strip() if isinstance(value, str) else value


def metadata_condition(spec: MetadataFilter, fill: ValueFiller) -> dict[str, Any] | None:
    if spec.mode != "manual" or spec.conditions is None:
        return None
    conditions: list[dict[str, Any]] = []
    for condition in spec.conditions:
        value = condition.value
        if isinstance(value, str) and condition.comparison_operator not in ("empty", "not empty"):
            value = _folded(fill(value))
        conditions.append(
            {
                "name": condition.name,
                "comparison_operator": condition.comparison_operator,
                "value": value,
            }
        )
    return {"logical_operator": spec.logical_operator, "conditions": conditions}
