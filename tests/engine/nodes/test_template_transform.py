"""The template-transform node against the real local sandbox: Jinja2 filters, loops and
conditionals over native values, a missing variable rendered as Dify renders it (None),
the length cap, and template errors as node failures."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.engine.nodes.base import NodeConfigError, NodeError
from app.engine.nodes.template_transform.node import TemplateTransformNode
from app.engine.variables.values import FileValue
from app.engine.workflow.env import WorkflowLimits, WorkflowServices
from tests.engine.graph_cases import close_shared_sandbox, shared_sandbox
from tests.engine.nodes.single_node import pool_with, run_node, spec


@pytest.fixture(scope="module")
async def services() -> AsyncIterator[WorkflowServices]:
    yield WorkflowServices(sandbox=shared_sandbox())
    await close_shared_sandbox()


def template(text: str, **selectors: list[str]) -> dict[str, Any]:
    return {
        "template": text,
        "variables": [{"variable": k, "value_selector": v} for k, v in selectors.items()],
    }


ROWS = [{"item": "tea", "qty": 2}, {"item": "cake", "qty": 1}]


async def test_filters_loops_and_conditionals(services: WorkflowServices) -> None:
    data = template(
        "Order for {{ who | title }}:\n"
        "{% for row in rows %}{{ loop.index }}. {{ row.item }} x{{ row.qty }}\n{% endfor %}"
        "Items: {{ rows | map(attribute='item') | join(', ') }}\n"
        "Total: {{ rows | sum(attribute='qty') }} max={{ nums | max }}\n"
        "{{ info }} / {{ info.city }} / {{ 'open' if info.open else 'closed' }}\n"
        "{{ score }} {% if score > 5 %}high{% else %}low{% endif %}",
        who=["start", "who"],
        rows=["data", "rows"],
        nums=["data", "nums"],
        info=["data", "info"],
        score=["data", "score"],
    )
    pool = pool_with(
        {
            "start": {"who": "ola nordmann"},
            "data": {
                "rows": ROWS,
                "nums": [3, 1.5, 2],
                "info": {"city": "Oslo", "open": True},
                "score": 7,
            },
        }
    )
    result = await run_node("template-transform", data, pool, services)
    assert result.outputs == {
        "output": "Order for Ola Nordmann:\n1. tea x2\n2. cake x1\nItems: tea, cake\n"
        "Total: 3 max=3\n{'city': 'Oslo', 'open': True} / Oslo / open\n7 high"
    }
    assert result.inputs["rows"] == ROWS


async def test_missing_variables_render_as_none(services: WorkflowServices) -> None:
    data = template(
        "[{{ missing }}] [{{ nested }}] [{{ missing | default('none', true) }}]",
        missing=["start", "nothing_here"],
        nested=["data", "info", "nope"],
    )
    pool = pool_with({"start": {}, "data": {"info": {"city": "Oslo"}}})
    result = await run_node("template-transform", data, pool, services)
    assert result.outputs == {"output": "[None] [None] [none]"}
    assert result.inputs == {"missing": None, "nested": None}


async def test_files_render_as_their_mappings(services: WorkflowServices) -> None:
    doc = FileValue(
        type="document",
        transfer_method="remote_url",
        filename="a.pdf",
        url="https://files.example.test/a.pdf",
    )
    data = template("{{ doc.filename }} {{ doc.url }}", doc=["start", "doc"])
    result = await run_node(
        "template-transform", data, pool_with({"start": {"doc": doc}}), services
    )
    assert result.outputs == {"output": "a.pdf https://files.example.test/a.pdf"}


async def test_no_autoescape(services: WorkflowServices) -> None:
    data = template("<{{ w }}>", w=["start", "w"])
    result = await run_node(
        "template-transform", data, pool_with({"start": {"w": "a&b"}}), services
    )
    assert result.outputs == {"output": "<a&b>"}


async def test_the_length_cap(services: WorkflowServices) -> None:
    data = template("{{ 'x' * n }}", n=["start", "n"])
    limits = WorkflowLimits(template_max_length=10)
    ok = await run_node(
        "template-transform", data, pool_with({"start": {"n": 10}}), services, limits
    )
    assert ok.outputs == {"output": "x" * 10}
    with pytest.raises(NodeError, match=r"^Output length exceeds 10 characters$"):
        await run_node(
            "template-transform", data, pool_with({"start": {"n": 11}}), services, limits
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{% for %}", "TemplateSyntaxError: "),
        ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
        ("{{ w.a.b }}", "UndefinedError: "),
        ("{{ w.__class__.__mro__ }}", "SecurityError: "),  # the sandboxed environment
    ],
)
async def test_template_errors_fail_the_node(
    services: WorkflowServices, text: str, message: str
) -> None:
    with pytest.raises(NodeError) as caught:
        await run_node(
            "template-transform",
            template(text, w=["start", "w"]),
            pool_with({"start": {"w": "x"}}),
            services,
        )
    assert caught.value.message.startswith(message)
    assert caught.value.error_type == ""  # as Dify reports it
    assert caught.value.inputs == {"w": "x"}


async def test_no_sandbox() -> None:
    with pytest.raises(NodeError, match="no code sandbox configured"):
        await run_node("template-transform", template("hi"), services=WorkflowServices())


@pytest.mark.parametrize(
    "data",
    [{"template": 3}, {"template": "x", "variables": [{"variable": "a", "value_selector": "b"}]}],
)
def test_data_that_can_never_run(data: dict[str, Any]) -> None:
    with pytest.raises(NodeConfigError):
        TemplateTransformNode(spec("template-transform", data))
