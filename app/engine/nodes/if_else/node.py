"""`if-else`: cases tried in order, the first that holds selects its `case_id` handle, none
selects `false`. Legacy DSLs (no `cases`) have top-level `conditions`/`logical_operator`
and select `true`/`false`. Outputs `result` and `selected_case_id`; inputs are the last
case's condition values and process data every case tried, as Dify reports them."""

from dataclasses import dataclass
from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeConfigError, NodeContext, NodeError, NodeResult
from app.engine.variables.conditions import (
    Condition,
    ConditionError,
    InvalidConditions,
    evaluate,
    parse_conditions,
    parse_logical_operator,
)

LEGACY_GROUP = "default"  # how Dify names the legacy case in process data


@dataclass(frozen=True, slots=True)
class Case:
    case_id: str
    logical_operator: str
    conditions: tuple[Condition, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "logical_operator": self.logical_operator,
            "conditions": [c.to_dict() for c in self.conditions],
        }


def _parse_case(raw: Any) -> Case:
    if not isinstance(raw, dict):
        raise NodeConfigError("an if-else case must be an object")
    case_id = raw.get("case_id")
    if not isinstance(case_id, str) or not case_id:
        raise NodeConfigError("an if-else case needs a case_id")
    operator = raw.get("logical_operator")
    if operator is None:
        raise NodeConfigError(f"if-else case {case_id} needs a logical_operator")
    return Case(case_id, parse_logical_operator(operator), parse_conditions(raw.get("conditions")))


class IfElseNode(Node):
    node_type = "if-else"
    is_branch = True

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        raw_cases = spec.data.get("cases")
        try:
            # Dify falls back to the legacy shape whenever `cases` is empty or absent.
            if raw_cases:
                if not isinstance(raw_cases, list):
                    raise NodeConfigError("if-else cases must be a list")
                self.legacy = False
                self.cases = tuple(_parse_case(raw) for raw in raw_cases)
            else:
                self.legacy = True
                operator = parse_logical_operator(spec.data.get("logical_operator"))
                conditions = parse_conditions(spec.data.get("conditions"))
                self.cases = (Case("true", operator, conditions),)
        except InvalidConditions as exc:
            raise NodeConfigError(str(exc)) from exc

    async def run(self, ctx: NodeContext) -> NodeResult:
        inputs: dict[str, Any] = {"conditions": []}
        tried: list[dict[str, Any]] = []
        process_data: dict[str, Any] = {"condition_results": tried}
        selected, final = "false", False
        last_inputs: list[dict[str, Any]] = []
        try:
            for case in self.cases:
                result = evaluate(case.conditions, case.logical_operator, ctx.pool)
                last_inputs = result.inputs
                tried.append(
                    {
                        "group": LEGACY_GROUP if self.legacy else case.to_dict(),
                        "results": result.group_results,
                        "final_result": result.final,
                    }
                )
                if result.final:
                    selected, final = case.case_id, True
                    break
        except ConditionError as exc:
            raise NodeError(
                str(exc), "ConditionError", inputs=inputs, process_data=process_data
            ) from exc
        inputs["conditions"] = last_inputs
        return NodeResult(
            outputs={"result": final, "selected_case_id": selected},
            inputs=inputs,
            process_data=process_data,
            handle=selected,
        )
