"""Write the graph fixtures: tests/fixtures/graphs/<name>.yml and <name>.cases.json.

The fixtures are our own small Dify exports (own ids, titles, prompts and code), shaped like
the exports of the DSL version each one claims. This file is their source: edit a fixture
here, then run

    .venv/bin/python tools/oracle/build_fixtures.py

and re-run the oracle (`make oracle`) to refresh the goldens. Output is deterministic.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "graphs"

PLUGIN_OPENAI = (
    "langgenius/openai:0.2.8@6f1e0b2d5a3c4e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"
)


# --------------------------------------------------------------------------- builders


def features(version: str) -> dict[str, Any]:
    """The eight feature keys, in the shape the version's exporter wrote them."""
    file_upload: dict[str, Any] = {
        "image": {
            "enabled": False,
            "number_limits": 3,
            "transfer_methods": ["local_file", "remote_url"],
        }
    }
    if version >= "0.1.5":
        file_upload.update(
            {
                "allowed_file_extensions": [".JPG", ".JPEG", ".PNG", ".GIF", ".WEBP", ".SVG"],
                "allowed_file_types": ["image"],
                "allowed_file_upload_methods": ["local_file", "remote_url"],
                "enabled": False,
                "number_limits": 3,
            }
        )
    if version >= "0.3.0":
        file_upload["fileUploadConfig"] = {
            "audio_file_size_limit": 50,
            "batch_count_limit": 5,
            "file_size_limit": 15,
            "image_file_size_limit": 10,
            "video_file_size_limit": 100,
            "workflow_file_upload_limit": 10,
        }
    return {
        "file_upload": file_upload,
        "opening_statement": "",
        "retriever_resource": {"enabled": True},
        "sensitive_word_avoidance": {"enabled": False},
        "speech_to_text": {"enabled": False},
        "suggested_questions": [],
        "suggested_questions_after_answer": {"enabled": False},
        "text_to_speech": {"enabled": False, "language": "", "voice": ""},
    }


def model(version: str, name: str = "gpt-4o-mini", **params: Any) -> dict[str, Any]:
    provider = "langgenius/openai/openai" if version >= "0.1.5" else "openai"
    return {
        "completion_params": {"temperature": 0.2, **params},
        "mode": "chat",
        "name": name,
        "provider": provider,
    }


CANVAS_TYPES = {
    "iteration-start": "custom-iteration-start",
    "loop-start": "custom-loop-start",
}


class Graph:
    """Nodes and edges with the canvas keys an export carries."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []
        self.types: dict[str, str] = {}
        self.parents: dict[str, str] = {}
        self._column = 0

    def node(
        self, node_id: str, node_type: str, title: str, parent: str | None = None, **data: Any
    ) -> str:
        body: dict[str, Any] = {"desc": "", "selected": False, "title": title, "type": node_type}
        body.update(data)
        x = 80 + 300 * self._column
        y = 280 + 40 * (len(self.nodes) % 5)
        self._column += 1
        record: dict[str, Any] = {
            "data": body,
            "height": 54 if node_type not in ("iteration", "loop") else 200,
            "id": node_id,
            "position": {"x": x, "y": y},
            "positionAbsolute": {"x": x, "y": y},
            "selected": False,
            "sourcePosition": "right",
            "targetPosition": "left",
            "type": CANVAS_TYPES.get(node_type, "custom"),
            "width": 244 if node_type not in ("iteration", "loop") else 600,
        }
        if node_type in ("iteration", "loop"):
            record["zIndex"] = 1
        if parent is not None:
            kind = self.types[parent]
            if kind == "iteration":
                body["isInIteration"] = True
                if node_type != "iteration-start":
                    body["iteration_id"] = parent
            else:
                body["isInLoop"] = True
                if node_type != "loop-start":
                    body["loop_id"] = parent
            record["parentId"] = parent
            record["zIndex"] = 1002
            if node_type in ("iteration-start", "loop-start"):
                record["draggable"] = False
                record["selectable"] = False
                record["width"] = 44
                record["height"] = 48
            self.parents[node_id] = parent
        self.nodes.append(record)
        self.types[node_id] = node_type
        return node_id

    def note(self, node_id: str, text: str) -> None:
        """A canvas sticky note (`custom-note`): not executable."""
        self.nodes.append(
            {
                "data": {
                    "author": "oracle",
                    "desc": "",
                    "height": 88,
                    "selected": False,
                    "showAuthor": True,
                    "text": text,
                    "theme": "blue",
                    "title": "",
                    "type": "",
                    "width": 240,
                },
                "height": 88,
                "id": node_id,
                "position": {"x": 80, "y": 60},
                "positionAbsolute": {"x": 80, "y": 60},
                "selected": False,
                "sourcePosition": "right",
                "targetPosition": "left",
                "type": "custom-note",
                "width": 240,
            }
        )

    def edge(self, source: str, target: str, handle: str = "source") -> None:
        parent = self.parents.get(target)
        data: dict[str, Any] = {
            "isInIteration": parent is not None and self.types[parent] == "iteration",
            "sourceType": self.types[source],
            "targetType": self.types[target],
        }
        if self.version >= "0.3.0":
            data["isInLoop"] = parent is not None and self.types[parent] == "loop"
        if parent is not None:
            key = "iteration_id" if self.types[parent] == "iteration" else "loop_id"
            data[key] = parent
        self.edges.append(
            {
                "data": data,
                "id": f"{source}-{handle}-{target}-target",
                "source": source,
                "sourceHandle": handle,
                "target": target,
                "targetHandle": "target",
                "type": "custom",
                "zIndex": 1002 if parent is not None else 0,
            }
        )

    def chain(self, *node_ids: str) -> None:
        for source, target in zip(node_ids, node_ids[1:], strict=False):
            self.edge(source, target)


def document(
    *,
    name: str,
    mode: str,
    version: str,
    graph: Graph,
    description: str,
    icon: str = "🧪",
    env: list[dict[str, Any]] | None = None,
    conversation: list[dict[str, Any]] | None = None,
    uses_model: bool = False,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "app": {
            "description": description,
            "icon": icon,
            "icon_background": "#FFEAD5",
            "mode": mode,
            "name": name,
            "use_icon_as_answer_icon": False,
        },
        "kind": "app",
        "version": version,
        "workflow": {
            "conversation_variables": conversation or [],
            "environment_variables": env or [],
            "features": features(version),
            "graph": {
                "edges": graph.edges,
                "nodes": graph.nodes,
                "viewport": {"x": 0, "y": 0, "zoom": 0.8},
            },
        },
    }
    if version >= "0.1.5":
        doc["dependencies"] = (
            [
                {
                    "current_identifier": None,
                    "type": "marketplace",
                    "value": {
                        "marketplace_plugin_unique_identifier": PLUGIN_OPENAI,
                        "version": None,
                    },
                }
            ]
            if uses_model
            else []
        )
    return doc


def env_var(name: str, value: Any, value_type: str, var_id: str) -> dict[str, Any]:
    return {
        "description": "",
        "id": var_id,
        "name": name,
        "selector": ["env", name],
        "value": value,
        "value_type": value_type,
    }


def conv_var(name: str, value: Any, value_type: str, var_id: str) -> dict[str, Any]:
    return {
        "description": "",
        "id": var_id,
        "name": name,
        "selector": ["conversation", name],
        "value": value,
        "value_type": value_type,
    }


def field(variable: str, kind: str, *, required: bool = True, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "label": variable.replace("_", " ").title(),
        "max_length": 256 if kind in ("text-input", "paragraph") else None,
        "options": [],
        "required": required,
        "type": kind,
        "variable": variable,
    }
    record.update(extra)
    return record


def code_data(
    code: str,
    variables: list[tuple[str, list[str]]],
    outputs: dict[str, str],
    language: str = "python3",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "code": code,
        "code_language": language,
        "outputs": {key: {"children": None, "type": kind} for key, kind in outputs.items()},
        "variables": [
            {"value_selector": selector, "variable": name} for name, selector in variables
        ],
        **extra,
    }


def template_data(template: str, variables: list[tuple[str, list[str]]]) -> dict[str, Any]:
    return {
        "template": template,
        "variables": [
            {"value_selector": selector, "variable": name} for name, selector in variables
        ],
    }


def end_data(
    outputs: list[tuple[str, list[str]] | tuple[str, list[str], str]],
) -> dict[str, Any]:
    items = []
    for item in outputs:
        record: dict[str, Any] = {"value_selector": item[1], "variable": item[0]}
        if len(item) == 3:
            record["value_type"] = item[2]
        items.append(record)
    return {"outputs": items}


def llm_data(
    version: str,
    messages: list[tuple[str, str]],
    *,
    memory: dict[str, Any] | None = None,
    context: list[str] | None = None,
    **params: Any,
) -> dict[str, Any]:
    prompt = []
    for index, (role, text) in enumerate(messages):
        item: dict[str, Any] = {"role": role, "text": text}
        if version >= "0.1.2":
            item["id"] = f"msg-{index + 1}"
        prompt.append(item)
    data: dict[str, Any] = {
        "context": {"enabled": context is not None, "variable_selector": context or []},
        "model": model(version, **params),
        "prompt_template": prompt,
        "variables": [],
        "vision": {"enabled": False},
    }
    if memory is not None:
        data["memory"] = memory
    return data


def cond(
    selector: list[str],
    operator: str,
    value: Any = "",
    var_type: str = "string",
    cond_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "comparison_operator": operator,
        "id": cond_id or _stable_id(selector, operator, value),
        "value": value,
        "varType": var_type,
        "variable_selector": selector,
    }
    record.update(extra)
    return record


def _stable_id(*parts: Any) -> str:
    digest = hashlib.sha1(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"


def one_case(case_id: str, conditions: list[dict[str, Any]], logic: str = "and") -> dict:
    return {"case_id": case_id, "conditions": conditions, "logical_operator": logic}


def file_input(
    filename: str, file_type: str = "document", mime: str = "application/pdf", size: int = 2048
) -> dict[str, Any]:
    extension = "." + filename.rsplit(".", 1)[1]
    return {
        "type": file_type,
        "transfer_method": "remote_url",
        "url": f"https://files.example.test/{filename}",
        "filename": filename,
        "extension": extension,
        "mime_type": mime,
        "size": size,
    }


FIXTURES: dict[str, Callable[[], tuple[dict[str, Any], list[dict[str, Any]]]]] = {}


def fixture(func: Callable[[], tuple[dict[str, Any], list[dict[str, Any]]]]) -> Callable:
    FIXTURES[func.__name__] = func
    return func


# --------------------------------------------------------------------------- fixtures


@fixture
def wf_start_fields() -> tuple[dict, list]:
    """Every start field type, read by a template, a code node and end selectors."""
    v = "0.5.0"
    g = Graph(v)
    g.node(
        "start",
        "start",
        "Start",
        variables=[
            field("topic", "text-input", max_length=48),
            field("notes", "paragraph", required=False),
            field("count", "number"),
            field("tone", "select", options=["formal", "casual"]),
            field("urgent", "checkbox", required=False),
            field(
                "meta",
                "json_object",
                required=False,
                json_schema='{"type": "object", "properties": {"owner": {"type": "string"}}}',
            ),
            field(
                "doc",
                "file",
                required=False,
                allowed_file_types=["document"],
                allowed_file_extensions=[],
                allowed_file_upload_methods=["local_file", "remote_url"],
            ),
            field(
                "attachments",
                "file-list",
                required=False,
                max_length=5,
                allowed_file_types=["document", "image"],
                allowed_file_extensions=[],
                allowed_file_upload_methods=["remote_url"],
            ),
        ],
    )
    g.node(
        "brief",
        "template-transform",
        "Brief",
        **template_data(
            "Topic: {{ topic }} ({{ tone }})\n"
            "Double count: {{ count * 2 }}\n"
            "Urgent: {{ urgent }}\n"
            "Owner: {{ meta.owner if meta else 'nobody' }}\n"
            "Notes: {{ notes | default('none', true) }}",
            [
                ("topic", ["start", "topic"]),
                ("tone", ["start", "tone"]),
                ("count", ["start", "count"]),
                ("urgent", ["start", "urgent"]),
                ("meta", ["start", "meta"]),
                ("notes", ["start", "notes"]),
            ],
        ),
    )
    g.node(
        "inspect",
        "code",
        "Inspect files",
        **code_data(
            "def main(doc_name, doc_size, attachments) -> dict:\n"
            "    names = [item['filename'] for item in (attachments or [])]\n"
            "    label = f'{doc_name} ({doc_size} bytes)' if doc_name else 'no document'\n"
            "    return {'doc_label': label, 'names': names, 'total': len(names)}\n",
            [
                ("doc_name", ["start", "doc", "name"]),
                ("doc_size", ["start", "doc", "size"]),
                ("attachments", ["start", "attachments"]),
            ],
            {"doc_label": "string", "names": "array[string]", "total": "number"},
        ),
    )
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [
                ("brief", ["brief", "output"], "string"),
                ("count", ["start", "count"], "number"),
                ("urgent", ["start", "urgent"], "boolean"),
                ("meta", ["start", "meta"], "object"),
                ("doc_name", ["start", "doc", "name"], "string"),
                ("doc_extension", ["start", "doc", "extension"], "string"),
                ("doc_label", ["inspect", "doc_label"], "string"),
                ("names", ["inspect", "names"], "array[string]"),
                ("total", ["inspect", "total"], "number"),
            ]
        ),
    )
    g.chain("start", "brief", "inspect", "end")
    doc = document(
        name="Intake Form Echo",
        mode="workflow",
        version=v,
        graph=g,
        description="Reads every kind of start field.",
    )
    cases = [
        {
            "name": "all_fields",
            "inputs": {
                "topic": "Quarterly report",
                "notes": "Bring the charts.",
                "count": 21,
                "tone": "formal",
                "urgent": True,
                "meta": {"owner": "Rosa", "tags": ["q3", "finance"]},
                "doc": file_input("summary.pdf"),
                "attachments": [
                    file_input("chart.png", "image", "image/png", 512),
                    file_input("appendix.docx", "document", "application/msword", 4096),
                ],
            },
        },
        {
            "name": "optional_missing",
            "inputs": {"topic": "Lunch", "count": 0.5, "tone": "casual", "urgent": False},
        },
    ]
    return doc, cases


@fixture
def wf_end_branches_legacy() -> tuple[dict, list]:
    """DSL 0.1.0: legacy if-else (top-level conditions), two ends on exclusive branches,
    one end without value_type."""
    v = "0.1.0"
    g = Graph(v)
    g.node(
        "1718000000001",
        "start",
        "Start",
        variables=[field("name", "text-input"), field("score", "number")],
    )
    g.node(
        "1718000000002",
        "if-else",
        "Passed?",
        conditions=[
            cond(["1718000000001", "score"], "≥", "50", "number", "cond-score"),
            cond(["1718000000001", "name"], "not empty", "", "string", "cond-name"),
        ],
        logical_operator="and",
    )
    g.node(
        "1718000000003",
        "template-transform",
        "Praise",
        **template_data(
            "{{ who }} passed with {{ points }} points.",
            [("who", ["1718000000001", "name"]), ("points", ["1718000000001", "score"])],
        ),
    )
    g.node(
        "1718000000004",
        "end",
        "End pass",
        **end_data([("message", ["1718000000003", "output"], "string")]),
    )
    g.node(
        "1718000000005",
        "end",
        "End fail",
        outputs=[
            {"value_selector": ["1718000000001", "name"], "variable": "who"},
            {"value_selector": ["1718000000001", "score"], "variable": "score"},
        ],
    )
    g.edge("1718000000001", "1718000000002")
    g.edge("1718000000002", "1718000000003", "true")
    g.edge("1718000000003", "1718000000004")
    g.edge("1718000000002", "1718000000005", "false")
    doc = document(
        name="Grade Gate", mode="workflow", version=v, graph=g, description="Pass or fail."
    )
    cases = [
        {"name": "pass", "inputs": {"name": "Iris", "score": 72}},
        {"name": "fail_low_score", "inputs": {"name": "Iris", "score": 49.5}},
        {"name": "fail_empty_name", "inputs": {"name": "", "score": 90}},
    ]
    return doc, cases


@fixture
def chat_answers_stream() -> tuple[dict, list]:
    """Several answers on one path: constant text, sys/env/conversation values, LLM text,
    then an answer after an if-else."""
    v = "0.3.1"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[])
    g.node("welcome", "answer", "Welcome", answer="Welcome to the desk!\n", variables=[])
    g.node(
        "echo",
        "answer",
        "Echo",
        answer="{{#env.GREETING#}}, you wrote: {{#sys.query#}} (turn {{#sys.dialogue_count#}})\n",
        variables=[],
    )
    g.node(
        "reply",
        "llm",
        "Reply",
        **llm_data(
            v,
            [
                ("system", "You are the front desk. Keep it short."),
                ("user", "Visitor says: {{#sys.query#}}"),
            ],
        ),
    )
    g.node("said", "answer", "Model says", answer="Desk: {{#reply.text#}}\n", variables=[])
    g.node(
        "route",
        "if-else",
        "Leaving?",
        cases=[one_case("true", [cond(["sys", "query"], "contains", "bye")])],
    )
    g.node(
        "bye",
        "answer",
        "Goodbye",
        answer="Goodbye from {{#conversation.last_topic#}}.",
        variables=[],
    )
    g.node(
        "stay",
        "answer",
        "Stay",
        answer="Visits so far: {{#conversation.visits#}}",
        variables=[],
    )
    g.chain("start", "welcome", "echo", "reply", "said", "route")
    g.edge("route", "bye", "true")
    g.edge("route", "stay", "false")
    doc = document(
        name="Front Desk",
        mode="advanced-chat",
        version=v,
        graph=g,
        description="Answers in several pieces.",
        env=[env_var("GREETING", "Hello", "string", "2a6d1c1e-0001-4a00-9000-000000000001")],
        conversation=[
            conv_var("visits", 3, "number", "2a6d1c1e-0002-4a00-9000-000000000002"),
            conv_var("last_topic", "the lobby", "string", "2a6d1c1e-0003-4a00-9000-000000000003"),
        ],
        uses_model=True,
    )
    cases = [
        {
            "name": "hello",
            "query": "hello there",
            "model": [{"when": "Visitor says: hello", "reply": "Hi! How can I help?"}],
        },
        {
            "name": "bye",
            "query": "ok bye now",
            "conversation_variables": {"last_topic": "billing"},
            "model": [],
        },
    ]
    return doc, cases


@fixture
def chat_llm_memory() -> tuple[dict, list]:
    """LLM with system/user/assistant messages, memory with a window, stop sequences."""
    v = "0.3.1"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("persona", "text-input")])
    g.node(
        "tutor",
        "llm",
        "Tutor",
        **llm_data(
            v,
            [
                ("system", "You are {{#start.persona#}}. Answer in one line."),
                ("user", "What is 2+2?"),
                ("assistant", "4"),
                ("user", "Question: {{#sys.query#}}"),
            ],
            memory={
                "query_prompt_template": "{{#sys.query#}}",
                "role_prefix": {"assistant": "", "user": ""},
                "window": {"enabled": True, "size": 2},
            },
            stop=["\nUser:", "###"],
        ),
    )
    g.node("out", "answer", "Answer", answer="{{#tutor.text#}}", variables=[])
    g.chain("start", "tutor", "out")
    doc = document(
        name="Math Tutor",
        mode="advanced-chat",
        version=v,
        graph=g,
        description="Remembers the last two turns.",
        uses_model=True,
    )
    history = [
        {"query": "Who are you?", "answer": "Your tutor."},
        {"query": "What is 3+3?", "answer": "6"},
        {"query": "And 5+5?", "answer": "10"},
    ]
    cases = [
        {
            "name": "first_turn",
            "inputs": {"persona": "a patient tutor"},
            "query": "What is 7+1?",
            "model": [{"when": "What is 7+1?", "reply": "8"}],
        },
        {
            "name": "window_of_two",
            "inputs": {"persona": "a strict tutor"},
            "query": "What is 9+9?",
            "history": history,
            "model": [{"when": "And 5+5?", "reply": "18, and I remember 5+5"}],
        },
    ]
    return doc, cases


@fixture
def wf_llm_context_jinja() -> tuple[dict, list]:
    """LLM context from a variable, a jinja2-edition message, a completion-mode model."""
    v = "0.5.0"
    g = Graph(v)
    g.node(
        "start",
        "start",
        "Start",
        variables=[field("question", "text-input"), field("facts", "paragraph")],
    )
    g.node(
        "gather",
        "code",
        "Gather facts",
        **code_data(
            "def main(facts: str) -> dict:\n"
            "    items = [line.strip() for line in facts.splitlines() if line.strip()]\n"
            "    return {'context': ' | '.join(items), 'items': items}\n",
            [("facts", ["start", "facts"])],
            {"context": "string", "items": "array[string]"},
        ),
    )
    grounded = llm_data(
        v,
        [
            ("system", "Use only this context: {{#context#}}"),
            ("user", "Q: {{#start.question#}}"),
        ],
        context=["gather", "context"],
    )
    g.node("grounded", "llm", "Grounded", **grounded)
    jinja = llm_data(v, [("system", ""), ("user", "List check for {{#start.question#}}")])
    jinja["prompt_template"][0].update(
        {
            "edition_type": "jinja2",
            "jinja2_text": "Facts:\n{% for f in facts %}* {{ f | upper }}\n{% endfor %}"
            "Total: {{ facts | length }}",
        }
    )
    jinja["prompt_config"] = {
        "jinja2_variables": [{"value_selector": ["gather", "items"], "variable": "facts"}]
    }
    g.node("jinja", "llm", "Jinja prompt", **jinja)
    completion = llm_data(v, [])
    completion["model"]["mode"] = "completion"
    completion["model"]["name"] = "gpt-3.5-turbo-instruct"
    completion["prompt_template"] = {"text": "Complete the line: {{#start.question#}} is"}
    g.node("complete", "llm", "Completion model", **completion)
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [
                ("grounded", ["grounded", "text"], "string"),
                ("jinja", ["jinja", "text"], "string"),
                ("completion", ["complete", "text"], "string"),
            ]
        ),
    )
    g.chain("start", "gather")
    for node_id in ("grounded", "jinja", "complete"):
        g.edge("gather", node_id)
        g.edge(node_id, "end")
    doc = document(
        name="Fact Checker",
        mode="workflow",
        version=v,
        graph=g,
        description="Three prompt styles.",
        uses_model=True,
    )
    cases = [
        {
            "name": "default",
            "inputs": {"question": "Is the sky blue", "facts": "sky is blue\n\ngrass is green\n"},
            "model": [
                {"when": "Use only this context", "reply": "Yes, per the context."},
                {"when": "Facts:", "reply": "Both facts checked."},
            ],
        }
    ]
    return doc, cases


@fixture
def wf_llm_structured() -> tuple[dict, list]:
    """Structured output: the reply is parsed as JSON into `structured_output`."""
    v = "0.6.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("bio", "paragraph")])
    data = llm_data(
        v,
        [("system", "Extract the person as JSON."), ("user", "Bio: {{#start.bio#}}")],
    )
    data["structured_output_enabled"] = True
    data["structured_output"] = {
        "schema": {
            "additionalProperties": False,
            "properties": {
                "age": {"type": "number"},
                "name": {"type": "string"},
                "skills": {"items": {"type": "string"}, "type": "array"},
            },
            "required": ["name", "age"],
            "type": "object",
        }
    }
    data["reasoning_format"] = "tagged"
    g.node("extract", "llm", "Extract person", error_strategy=None, **data)
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [
                ("name", ["extract", "structured_output", "name"], "string"),
                ("age", ["extract", "structured_output", "age"], "number"),
                ("all", ["extract", "structured_output"], "object"),
                ("text", ["extract", "text"], "string"),
            ]
        ),
    )
    g.chain("start", "extract", "end")
    doc = document(
        name="Bio Parser",
        mode="workflow",
        version=v,
        graph=g,
        description="Structured output.",
        uses_model=True,
    )
    cases = [
        {
            "name": "valid_json",
            "inputs": {"bio": "Ada, 36, writes compilers and poems."},
            "model": [
                {
                    "when": "Bio: Ada",
                    "reply": '{"name": "Ada", "age": 36, "skills": ["compilers", "poems"]}',
                }
            ],
        },
        {
            "name": "not_json",
            "inputs": {"bio": "Nobody in particular."},
            "model": [{"when": "Bio:", "reply": "I cannot find a person here."}],
            "expect_status": "failed",
        },
    ]
    return doc, cases


def fan_out_checks(
    g: Graph, source: str, join: str, checks: list[tuple[str, str, list[dict[str, Any]], str]]
) -> None:
    """One if-else per check, fanned out from `source`; both branches go to `join`."""
    for node_id, title, conditions, logic in checks:
        g.node(node_id, "if-else", title, cases=[one_case("true", conditions, logic)])
        g.edge(source, node_id)
        g.edge(node_id, join, "true")
        g.edge(node_id, join, "false")


@fixture
def wf_ifelse_strings() -> tuple[dict, list]:
    """String and list-membership operators, one if-else each; every branch joins one end."""
    v = "0.3.1"
    g = Graph(v)
    g.node(
        "start",
        "start",
        "Start",
        variables=[
            field("text", "paragraph"),
            field("word", "text-input", required=False),
            field("color", "select", options=["red", "green", "blue"]),
        ],
    )
    g.node("end", "end", "End", **end_data([("text", ["start", "text"], "string")]))
    text = ["start", "text"]
    checks = [
        ("s_contains", "contains", [cond(text, "contains", "apple")], "and"),
        ("s_not_contains", "not contains", [cond(text, "not contains", "pear")], "and"),
        ("s_start_with", "start with", [cond(text, "start with", "The")], "and"),
        ("s_end_with", "end with", [cond(text, "end with", ".")], "and"),
        ("s_is", "is", [cond(["start", "word"], "is", "exact words")], "and"),
        ("s_is_not", "is not", [cond(["start", "word"], "is not", "exact words")], "and"),
        ("s_empty", "empty", [cond(["start", "word"], "empty")], "and"),
        ("s_not_empty", "not empty", [cond(["start", "word"], "not empty")], "and"),
        ("s_in", "in", [cond(["start", "color"], "in", ["red", "green"])], "and"),
        ("s_not_in", "not in", [cond(["start", "color"], "not in", ["red", "green"])], "and"),
        (
            "s_template_value",
            "contains another input",
            [cond(text, "contains", "{{#start.color#}}")],
            "and",
        ),
        (
            "s_and",
            "and",
            [cond(text, "contains", "apple"), cond(text, "end with", "!")],
            "and",
        ),
        (
            "s_or",
            "or",
            [cond(text, "contains", "kiwi"), cond(text, "start with", "The")],
            "or",
        ),
    ]
    fan_out_checks(g, "start", "end", checks)
    doc = document(
        name="String Checks", mode="workflow", version=v, graph=g, description="Operators."
    )
    cases = [
        {
            "name": "apple_sentence",
            "inputs": {"text": "The apple is red.", "word": "exact words", "color": "red"},
        },
        {
            "name": "other_sentence",
            "inputs": {"text": "a pear and a kiwi!", "word": "", "color": "blue"},
        },
        {
            "name": "word_missing",
            "inputs": {"text": "The end", "color": "green"},
        },
    ]
    return doc, cases


@fixture
def wf_ifelse_numbers_arrays() -> tuple[dict, list]:
    """Number, null/exists, boolean, array and file-attribute operators."""
    v = "0.5.0"
    g = Graph(v)
    g.node(
        "start",
        "start",
        "Start",
        variables=[
            field("n", "number"),
            field("limit", "number"),
            field("maybe", "text-input", required=False),
            field("flag", "checkbox", required=False),
            field("doc", "file", required=False, allowed_file_types=["document"]),
            field("files", "file-list", required=False, max_length=5),
        ],
    )
    g.node(
        "make",
        "code",
        "Make lists",
        **code_data(
            "def main(n: float) -> dict:\n"
            "    tags = ['alpha', 'beta'] if n >= 10 else ['gamma']\n"
            "    scores = [n, n / 2] if n > 0 else []\n"
            "    return {'tags': tags, 'scores': scores}\n",
            [("n", ["start", "n"])],
            {"tags": "array[string]", "scores": "array[number]"},
        ),
    )
    g.node("end", "end", "End", **end_data([("tags", ["make", "tags"], "array[string]")]))
    n = ["start", "n"]
    tags = ["make", "tags"]
    scores = ["make", "scores"]
    checks = [
        ("n_eq", "= 10", [cond(n, "=", "10", "number")], "and"),
        ("n_ne", "≠ 10", [cond(n, "≠", "10", "number")], "and"),
        ("n_gt_limit", "> limit", [cond(n, ">", "{{#start.limit#}}", "number")], "and"),
        ("n_lt", "< 3", [cond(n, "<", "3", "number")], "and"),
        ("n_ge", "≥ 10", [cond(n, "≥", "10", "number")], "and"),
        ("n_le", "≤ 2.5", [cond(n, "≤", "2.5", "number")], "and"),
        ("v_null", "null", [cond(["start", "maybe"], "null")], "and"),
        ("v_not_null", "not null", [cond(["start", "maybe"], "not null")], "and"),
        ("f_exists", "exists", [cond(["start", "doc"], "exists", None, "file")], "and"),
        (
            "f_not_exists",
            "not exists",
            [cond(["start", "doc"], "not exists", None, "file")],
            "and",
        ),
        ("b_is", "boolean is", [cond(["start", "flag"], "is", True, "boolean")], "and"),
        ("a_contains", "contains", [cond(tags, "contains", "beta", "array[string]")], "and"),
        (
            "a_not_contains",
            "not contains",
            [cond(tags, "not contains", "gamma", "array[string]")],
            "and",
        ),
        (
            "a_all_of",
            "all of",
            [cond(tags, "all of", ["alpha", "beta"], "array[string]")],
            "and",
        ),
        ("a_empty", "empty", [cond(scores, "empty", "", "array[number]")], "and"),
        ("a_not_empty", "not empty", [cond(scores, "not empty", "", "array[number]")], "and"),
        (
            "mixed_or",
            "number or array",
            [cond(n, ">", "100", "number"), cond(tags, "contains", "alpha", "array[string]")],
            "or",
        ),
        (
            "file_pdf",
            "has a pdf",
            [
                cond(
                    ["start", "files"],
                    "contains",
                    "",
                    "array[file]",
                    sub_variable_condition={
                        "conditions": [
                            {
                                "comparison_operator": "is",
                                "id": "sub-ext-pdf",
                                "key": "extension",
                                "value": "pdf",
                            },
                            {
                                "comparison_operator": "in",
                                "id": "sub-type-doc",
                                "key": "type",
                                "value": ["document"],
                            },
                        ],
                        "logical_operator": "and",
                    },
                )
            ],
            "and",
        ),
    ]
    g.edge("start", "make")
    fan_out_checks(g, "make", "end", checks)
    doc = document(
        name="Number Checks", mode="workflow", version=v, graph=g, description="Operators."
    )
    cases = [
        {
            "name": "ten_with_files",
            "inputs": {
                "n": 10,
                "limit": 9,
                "maybe": "here",
                "flag": True,
                "doc": file_input("brief.pdf"),
                "files": [
                    file_input("photo.jpg", "image", "image/jpeg", 100),
                    file_input("terms.pdf"),
                ],
            },
        },
        {
            "name": "two_and_a_half_no_files",
            "inputs": {"n": 2.5, "limit": 2.5, "flag": False, "files": []},
        },
        {
            "name": "zero_with_image_only",
            "inputs": {
                "n": 0,
                "limit": -1,
                "maybe": "",
                "flag": False,
                "files": [file_input("photo.jpg", "image", "image/jpeg", 100)],
            },
        },
    ]
    return doc, cases


@fixture
def wf_ifelse_multicase() -> tuple[dict, list]:
    """Multi-case if-else (elif case ids), four ends on exclusive branches."""
    v = "0.3.1"
    g = Graph(v)
    g.node(
        "start",
        "start",
        "Start",
        variables=[
            field("level", "select", options=["low", "mid", "high"]),
            field("amount", "number"),
        ],
    )
    elif_a = "5b0c8f2e-6f0a-4d4c-9a43-1c2d3e4f5a61"
    elif_b = "9d8e7f60-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    g.node(
        "route",
        "if-else",
        "Route",
        cases=[
            one_case(
                "true",
                [
                    cond(["start", "level"], "is", "high"),
                    cond(["start", "amount"], ">", "100", "number"),
                ],
                "and",
            ),
            one_case(
                elif_a,
                [
                    cond(["start", "level"], "is", "mid"),
                    cond(["start", "amount"], ">", "1000", "number"),
                ],
                "or",
            ),
            one_case(elif_b, [cond(["start", "level"], "is", "low")]),
        ],
    )
    ends = {
        "true": ("end_high", "big"),
        elif_a: ("end_mid", "medium"),
        elif_b: ("end_low", "small"),
        "false": ("end_else", "unmatched"),
    }
    for handle, (end_id, label) in ends.items():
        g.node(
            f"label_{label}",
            "template-transform",
            f"Label {label}",
            **template_data(f"{label}:{{{{ amount }}}}", [("amount", ["start", "amount"])]),
        )
        g.node(end_id, "end", f"End {label}", **end_data([("route", [f"label_{label}", "output"])]))
        g.edge("route", f"label_{label}", handle)
        g.edge(f"label_{label}", end_id)
    g.edge("start", "route")
    doc = document(
        name="Order Router", mode="workflow", version=v, graph=g, description="Routes orders."
    )
    cases = [
        {"name": "high", "inputs": {"level": "high", "amount": 500}},
        {"name": "mid_by_amount", "inputs": {"level": "low", "amount": 5000}},
        {"name": "low", "inputs": {"level": "low", "amount": 5}},
        {"name": "else", "inputs": {"level": "high", "amount": 50}},
    ]
    return doc, cases


@fixture
def wf_code_types() -> tuple[dict, list]:
    """python3 with every output type, and one javascript node."""
    v = "0.3.1"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("line", "text-input")])
    g.node(
        "py",
        "code",
        "Python stats",
        **code_data(
            "import json\n\n\n"
            "def main(line: str) -> dict:\n"
            "    words = line.split()\n"
            "    return {\n"
            "        'upper': line.upper(),\n"
            "        'count': len(words),\n"
            "        'ratio': round(len(words) / max(len(line), 1), 4),\n"
            "        'info': {'first': words[0] if words else '', 'nested': {'n': len(words)}},\n"
            "        'words': words,\n"
            "        'lengths': [len(w) for w in words],\n"
            "        'pairs': [{'word': w, 'pos': i} for i, w in enumerate(words)],\n"
            "        'big': '1.5e+3',\n"
            "    }\n",
            [("line", ["start", "line"])],
            {
                "upper": "string",
                "count": "number",
                "ratio": "number",
                "info": "object",
                "words": "array[string]",
                "lengths": "array[number]",
                "pairs": "array[object]",
                "big": "number",
            },
        ),
    )
    g.node(
        "js",
        "code",
        "JavaScript joiner",
        **code_data(
            "function main({words, count}) {\n"
            "  return {\n"
            "    joined: words.join('-'),\n"
            "    doubled: count * 2,\n"
            "    reversed: [...words].reverse(),\n"
            "  };\n"
            "}\n",
            [("words", ["py", "words"]), ("count", ["py", "count"])],
            {"joined": "string", "doubled": "number", "reversed": "array[string]"},
            language="javascript",
        ),
    )
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [
                ("upper", ["py", "upper"], "string"),
                ("count", ["py", "count"], "number"),
                ("ratio", ["py", "ratio"], "number"),
                ("info", ["py", "info"], "object"),
                ("first", ["py", "info", "first"], "string"),
                ("lengths", ["py", "lengths"], "array[number]"),
                ("pairs", ["py", "pairs"], "array[object]"),
                ("big", ["py", "big"], "number"),
                ("joined", ["js", "joined"], "string"),
                ("doubled", ["js", "doubled"], "number"),
                ("reversed", ["js", "reversed"], "array[string]"),
            ]
        ),
    )
    g.chain("start", "py", "js", "end")
    doc = document(
        name="Word Stats", mode="workflow", version=v, graph=g, description="Code outputs."
    )
    cases = [{"name": "sentence", "inputs": {"line": "make it so now"}}]
    return doc, cases


@fixture
def wf_code_undeclared_output() -> tuple[dict, list]:
    """A code node returning a key it does not declare fails the run."""
    v = "0.3.1"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("x", "number")])
    g.node(
        "calc",
        "code",
        "Calc",
        **code_data(
            "def main(x: int) -> dict:\n    return {'double': x * 2, 'extra': 'oops'}\n",
            [("x", ["start", "x"])],
            {"double": "number"},
        ),
    )
    g.node("end", "end", "End", **end_data([("double", ["calc", "double"], "number")]))
    g.chain("start", "calc", "end")
    doc = document(name="Strict Outputs", mode="workflow", version=v, graph=g, description="Fails.")
    return doc, [{"name": "fails", "inputs": {"x": 4}, "expect_status": "failed"}]


@fixture
def wf_template_transform() -> tuple[dict, list]:
    """Jinja2 loops, filters, conditionals; numbers, booleans, objects, lists and None."""
    v = "0.5.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("who", "text-input")])
    g.node(
        "data",
        "code",
        "Data",
        **code_data(
            "def main() -> dict:\n"
            "    return {\n"
            "        'rows': [{'item': 'tea', 'qty': 2}, {'item': 'cake', 'qty': 1}],\n"
            "        'nums': [3, 1.5, 2],\n"
            "        'info': {'city': 'Oslo', 'open': True},\n"
            "        'score': 7,\n"
            "    }\n",
            [],
            {"rows": "array[object]", "nums": "array[number]", "info": "object", "score": "number"},
        ),
    )
    g.node(
        "render",
        "template-transform",
        "Render",
        **template_data(
            "Order for {{ who | title }}:\n"
            "{% for row in rows %}{{ loop.index }}. {{ row.item }} x{{ row.qty }}\n{% endfor %}"
            "Items: {{ rows | map(attribute='item') | join(', ') }}\n"
            "Total qty: {{ rows | sum(attribute='qty') }}\n"
            "Numbers: {{ nums }} max={{ nums | max }}\n"
            "Info: {{ info }} / {{ info.city }}\n"
            "Score: {{ score }} {% if score > 5 %}high{% else %}low{% endif %}\n"
            "Missing: {{ missing }}|",
            [
                ("who", ["start", "who"]),
                ("rows", ["data", "rows"]),
                ("nums", ["data", "nums"]),
                ("info", ["data", "info"]),
                ("score", ["data", "score"]),
                ("missing", ["start", "nothing_here"]),
            ],
        ),
    )
    g.node("end", "end", "End", **end_data([("text", ["render", "output"], "string")]))
    g.chain("start", "data", "render", "end")
    doc = document(
        name="Receipt Printer", mode="workflow", version=v, graph=g, description="Jinja."
    )
    return doc, [{"name": "order", "inputs": {"who": "ola nordmann"}}]


@fixture
def chat_aggregator() -> tuple[dict, list]:
    """Variable aggregator after an if-else: plain mode and group mode."""
    v = "0.3.1"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[])
    g.node(
        "route",
        "if-else",
        "Tea?",
        cases=[one_case("true", [cond(["sys", "query"], "contains", "tea")])],
    )
    g.node(
        "tea_text",
        "template-transform",
        "Tea text",
        **template_data("Tea time: {{ q }}", [("q", ["sys", "query"])]),
    )
    g.node(
        "tea_score",
        "code",
        "Tea score",
        **code_data(
            "def main(q: str) -> dict:\n    return {'score': len(q)}\n",
            [("q", ["sys", "query"])],
            {"score": "number"},
        ),
    )
    g.node(
        "other",
        "code",
        "Other",
        **code_data(
            "def main(q: str) -> dict:\n    return {'label': 'Other: ' + q[::-1], 'score': -1}\n",
            [("q", ["sys", "query"])],
            {"label": "string", "score": "number"},
        ),
    )
    g.node(
        "plain",
        "variable-aggregator",
        "Plain aggregator",
        output_type="string",
        variables=[["tea_text", "output"], ["other", "label"]],
    )
    g.node(
        "grouped",
        "variable-aggregator",
        "Grouped aggregator",
        advanced_settings={
            "group_enabled": True,
            "groups": [
                {
                    "groupId": "3f0d6a4e-8c1b-4f7e-9d2a-5b6c7d8e9f01",
                    "group_name": "label",
                    "output_type": "string",
                    "variables": [["tea_text", "output"], ["other", "label"]],
                },
                {
                    "groupId": "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                    "group_name": "score",
                    "output_type": "number",
                    "variables": [["tea_score", "score"], ["other", "score"]],
                },
            ],
        },
        output_type="string",
        variables=[["tea_text", "output"], ["other", "label"]],
    )
    g.node(
        "out",
        "answer",
        "Answer",
        answer="{{#plain.output#}} | {{#grouped.label.output#}} / {{#grouped.score.output#}}",
        variables=[],
    )
    g.chain("start", "route")
    g.edge("route", "tea_text", "true")
    g.chain("tea_text", "tea_score")
    g.edge("route", "other", "false")
    for source in ("tea_score", "other"):
        g.edge(source, "plain")
    g.chain("plain", "grouped", "out")
    doc = document(
        name="Drink Merger",
        mode="advanced-chat",
        version=v,
        graph=g,
        description="Aggregates branches.",
    )
    cases = [
        {"name": "tea", "query": "green tea please"},
        {"name": "other", "query": "coffee"},
    ]
    return doc, cases


@fixture
def wf_aggregator_legacy() -> tuple[dict, list]:
    """DSL 0.1.0 with the legacy `variable-assigner` type id for the aggregator."""
    v = "0.1.0"
    g = Graph(v)
    g.node(
        "1719000000001", "start", "Start", variables=[field("lang", "select", options=["en", "fr"])]
    )
    g.node(
        "1719000000002",
        "if-else",
        "French?",
        conditions=[cond(["1719000000001", "lang"], "is", "fr", "string", "cond-fr")],
        logical_operator="and",
    )
    g.node(
        "1719000000003",
        "template-transform",
        "Bonjour",
        **template_data("Bonjour", []),
    )
    g.node(
        "1719000000004",
        "template-transform",
        "Hello",
        **template_data("Hello", []),
    )
    g.node(
        "1719000000005",
        "variable-assigner",
        "Variable Assigner",
        output_type="string",
        variables=[["1719000000003", "output"], ["1719000000004", "output"]],
    )
    g.node(
        "1719000000006",
        "end",
        "End",
        **end_data([("greeting", ["1719000000005", "output"], "string")]),
    )
    g.edge("1719000000001", "1719000000002")
    g.edge("1719000000002", "1719000000003", "true")
    g.edge("1719000000002", "1719000000004", "false")
    g.edge("1719000000003", "1719000000005")
    g.edge("1719000000004", "1719000000005")
    g.edge("1719000000005", "1719000000006")
    doc = document(
        name="Greeting Picker", mode="workflow", version=v, graph=g, description="Legacy id."
    )
    return doc, [{"name": "fr", "inputs": {"lang": "fr"}}, {"name": "en", "inputs": {"lang": "en"}}]


def assign_item(selector: list[str], operation: str, value: Any, input_type: str) -> dict:
    if operation in ("clear", "remove-first", "remove-last"):
        input_type = "variable"  # what the editor leaves on value-less operations
    return {
        "input_type": input_type,
        "operation": operation,
        "value": value,
        "variable_selector": selector,
        "write_mode": "over-write",
    }


@fixture
def chat_assigner_v1() -> tuple[dict, list]:
    """Assigner v1 write modes (over-write, append, clear) on conversation variables."""
    v = "0.1.5"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[])
    g.node(
        "keep_query",
        "assigner",
        "Keep query",
        assigned_variable_selector=["conversation", "last_query"],
        input_variable_selector=["sys", "query"],
        write_mode="over-write",
    )
    g.node(
        "log_query",
        "assigner",
        "Log query",
        assigned_variable_selector=["conversation", "asked"],
        input_variable_selector=["sys", "query"],
        write_mode="append",
    )
    g.node(
        "wipe",
        "assigner",
        "Wipe scratch",
        assigned_variable_selector=["conversation", "scratch"],
        input_variable_selector=[],
        write_mode="clear",
    )
    g.node(
        "out",
        "answer",
        "Answer",
        answer="last={{#conversation.last_query#}} asked={{#conversation.asked#}} "
        "scratch=[{{#conversation.scratch#}}]",
        variables=[],
    )
    g.chain("start", "keep_query", "log_query", "wipe", "out")
    doc = document(
        name="Query Logger",
        mode="advanced-chat",
        version=v,
        graph=g,
        description="Assigner v1.",
        conversation=[
            conv_var("last_query", "", "string", "5d1e2f3a-0001-4b00-8000-0000000000a1"),
            conv_var("asked", [], "array[string]", "5d1e2f3a-0002-4b00-8000-0000000000a2"),
            conv_var("scratch", "temporary", "string", "5d1e2f3a-0003-4b00-8000-0000000000a3"),
        ],
    )
    cases = [
        {"name": "first", "query": "where is my parcel"},
        {
            "name": "with_earlier_values",
            "query": "and now?",
            "conversation_variables": {"asked": ["hi", "where is my parcel"]},
        },
    ]
    return doc, cases


@fixture
def chat_assigner_v2() -> tuple[dict, list]:
    """Assigner v2: every operation on conversation variables of each type."""
    v = "0.5.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[])
    g.node(
        "source",
        "code",
        "Values",
        **code_data(
            "def main(q: str) -> dict:\n"
            "    return {\n"
            "        'more': [w for w in q.split()],\n"
            "        'row': {'text': q, 'len': len(q)},\n"
            "        'rows': [{'text': 'x', 'len': 1}],\n"
            "        'profile': {'name': q.title(), 'level': 2},\n"
            "    }\n",
            [("q", ["sys", "query"])],
            {
                "more": "array[string]",
                "row": "object",
                "rows": "array[object]",
                "profile": "object",
            },
        ),
    )
    c = "conversation"
    g.node(
        "numbers",
        "assigner",
        "Numbers",
        version="2",
        items=[
            assign_item([c, "count"], "+=", 5, "constant"),
            assign_item([c, "total"], "-=", 2.5, "constant"),
            assign_item([c, "ratio"], "*=", 3, "constant"),
            assign_item([c, "count"], "/=", 2, "constant"),
            assign_item([c, "level"], "set", 9, "constant"),
        ],
    )
    g.node(
        "strings",
        "assigner",
        "Strings and objects",
        version="2",
        items=[
            assign_item([c, "name"], "over-write", ["sys", "query"], "variable"),
            assign_item([c, "note"], "clear", None, "constant"),
            assign_item([c, "motto"], "set", "stay curious", "constant"),
            assign_item([c, "profile"], "over-write", ["source", "profile"], "variable"),
            assign_item([c, "settings"], "clear", None, "constant"),
        ],
    )
    g.node(
        "arrays",
        "assigner",
        "Arrays",
        version="2",
        items=[
            assign_item([c, "tags"], "append", ["sys", "query"], "variable"),
            assign_item([c, "tags"], "extend", ["source", "more"], "variable"),
            assign_item([c, "tags"], "remove-first", None, "constant"),
            assign_item([c, "rows"], "append", ["source", "row"], "variable"),
            assign_item([c, "rows"], "remove-last", None, "constant"),
            assign_item([c, "rows"], "extend", ["source", "rows"], "variable"),
            assign_item([c, "spare"], "over-write", ["source", "more"], "variable"),
            assign_item([c, "gone"], "clear", None, "constant"),
        ],
    )
    g.node(
        "out",
        "answer",
        "Answer",
        answer="count={{#conversation.count#}} total={{#conversation.total#}} "
        "ratio={{#conversation.ratio#}} level={{#conversation.level#}}\n"
        "name={{#conversation.name#}} note=[{{#conversation.note#}}] "
        "motto={{#conversation.motto#}}\n"
        "profile={{#conversation.profile#}}\n"
        "tags={{#conversation.tags#}}\n"
        "rows={{#conversation.rows#}}",
        variables=[],
    )
    g.chain("start", "source", "numbers", "strings", "arrays", "out")
    ids = iter(f"6e2f3a4b-{n:04d}-4c00-9000-0000000000b{n % 10}" for n in range(1, 20))
    conversation = [
        conv_var("count", 10, "number", next(ids)),
        conv_var("total", 100, "number", next(ids)),
        conv_var("ratio", 0.5, "number", next(ids)),
        conv_var("level", 1, "number", next(ids)),
        conv_var("name", "anonymous", "string", next(ids)),
        conv_var("note", "remember me", "string", next(ids)),
        conv_var("motto", "", "string", next(ids)),
        conv_var("profile", {"name": "none", "level": 0}, "object", next(ids)),
        conv_var("settings", {"dark": True}, "object", next(ids)),
        conv_var("tags", ["old"], "array[string]", next(ids)),
        conv_var("rows", [{"text": "seed", "len": 4}], "array[object]", next(ids)),
        conv_var("spare", [], "array[string]", next(ids)),
        conv_var("gone", [{"a": 1}], "array[object]", next(ids)),
    ]
    doc = document(
        name="Variable Workshop",
        mode="advanced-chat",
        version=v,
        graph=g,
        description="Assigner v2 operations.",
        conversation=conversation,
    )
    cases = [
        {"name": "defaults", "query": "red fox"},
        {
            "name": "overridden",
            "query": "blue",
            "conversation_variables": {"count": 1, "tags": [], "rows": []},
        },
    ]
    return doc, cases


def iteration_node(
    g: Graph,
    node_id: str,
    title: str,
    iterator: list[str],
    output: list[str],
    *,
    output_type: str,
    legacy_start: str | None = None,
    **extra: Any,
) -> None:
    data: dict[str, Any] = {
        "error_handle_mode": "terminated",
        "height": 200,
        "is_parallel": False,
        "iterator_selector": iterator,
        "output_selector": output,
        "output_type": output_type,
        "parallel_nums": 10,
        "start_node_id": legacy_start or f"{node_id}start",
        "width": 600,
    }
    if g.version >= "0.3.0":
        data["flatten_output"] = True
    data.update(extra)
    g.node(node_id, "iteration", title, **data)
    if legacy_start is None:
        g.node(f"{node_id}start", "iteration-start", "", parent=node_id)


@fixture
def wf_iteration_flatten() -> tuple[dict, list]:
    """Sequential iterations whose children return lists: flatten_output true and false."""
    v = "0.3.1"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("n", "number")])
    g.node(
        "seq",
        "code",
        "Sequence",
        **code_data(
            "def main(n: int) -> dict:\n    return {'items': list(range(1, int(n) + 1))}\n",
            [("n", ["start", "n"])],
            {"items": "array[number]"},
        ),
    )
    for node_id, flatten in (("flat", True), ("nested", False)):
        iteration_node(
            g,
            node_id,
            f"Pairs ({'flat' if flatten else 'nested'})",
            ["seq", "items"],
            [f"{node_id}_pair", "pair"],
            output_type="array[array[number]]",
            flatten_output=flatten,
        )
        g.node(
            f"{node_id}_pair",
            "code",
            "Pair",
            parent=node_id,
            **code_data(
                "def main(x: int, i: int) -> dict:\n    return {'pair': [x, x * 10 + i]}\n",
                [("x", [node_id, "item"]), ("i", [node_id, "index"])],
                {"pair": "array[number]"},
            ),
        )
        g.edge(f"{node_id}start", f"{node_id}_pair")
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [
                ("flat", ["flat", "output"], "array[number]"),
                ("nested", ["nested", "output"]),
            ]
        ),
    )
    g.chain("start", "seq", "flat", "nested", "end")
    doc = document(
        name="Pair Maker", mode="workflow", version=v, graph=g, description="Flatten or not."
    )
    return doc, [
        {"name": "three", "inputs": {"n": 3}},
        {"name": "empty", "inputs": {"n": 0}},
    ]


@fixture
def wf_iteration_parallel_errors() -> tuple[dict, list]:
    """Parallel iterations (parallel_nums 2) with continue-on-error and
    remove-abnormal-output around a child that raises for one item."""
    v = "0.5.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("csv", "text-input")])
    g.node(
        "split",
        "code",
        "Split",
        **code_data(
            "def main(csv: str) -> dict:\n    return {'parts': csv.split(',')}\n",
            [("csv", ["start", "csv"])],
            {"parts": "array[string]"},
        ),
    )
    for node_id, mode in (("keep", "continue-on-error"), ("drop", "remove-abnormal-output")):
        iteration_node(
            g,
            node_id,
            f"Shout ({mode})",
            ["split", "parts"],
            [f"{node_id}_shout", "loud"],
            output_type="array[string]",
            is_parallel=True,
            parallel_nums=2,
            error_handle_mode=mode,
        )
        g.node(
            f"{node_id}_shout",
            "code",
            "Shout",
            parent=node_id,
            **code_data(
                "def main(part: str) -> dict:\n"
                "    if part == 'bad':\n"
                "        raise ValueError('cannot shout ' + part)\n"
                "    return {'loud': part.upper() + '!'}\n",
                [("part", [node_id, "item"])],
                {"loud": "string"},
            ),
        )
        g.edge(f"{node_id}start", f"{node_id}_shout")
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [
                ("kept", ["keep", "output"], "array[string]"),
                ("dropped", ["drop", "output"], "array[string]"),
            ]
        ),
    )
    g.chain("start", "split")
    g.edge("split", "keep")
    g.edge("split", "drop")
    g.edge("keep", "end")
    g.edge("drop", "end")
    doc = document(
        name="Shouter", mode="workflow", version=v, graph=g, description="Parallel iterations."
    )
    return doc, [
        {"name": "one_bad", "inputs": {"csv": "a,bad,c,d"}},
        {"name": "all_good", "inputs": {"csv": "x,y"}},
    ]


@fixture
def wf_iteration_terminated() -> tuple[dict, list]:
    """A sequential iteration in terminated mode: the first failing child fails the run."""
    v = "0.3.1"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("csv", "text-input")])
    g.node(
        "split",
        "code",
        "Split",
        **code_data(
            "def main(csv: str) -> dict:\n    return {'parts': csv.split(',')}\n",
            [("csv", ["start", "csv"])],
            {"parts": "array[string]"},
        ),
    )
    iteration_node(
        g,
        "each",
        "Each part",
        ["split", "parts"],
        ["each_num", "value"],
        output_type="array[number]",
        error_handle_mode="terminated",
    )
    g.node(
        "each_num",
        "code",
        "To number",
        parent="each",
        **code_data(
            "def main(part: str) -> dict:\n    return {'value': int(part)}\n",
            [("part", ["each", "item"])],
            {"value": "number"},
        ),
    )
    g.edge("eachstart", "each_num")
    g.node("end", "end", "End", **end_data([("numbers", ["each", "output"], "array[number]")]))
    g.chain("start", "split", "each", "end")
    doc = document(
        name="Number Parser", mode="workflow", version=v, graph=g, description="Terminated."
    )
    return doc, [
        {"name": "all_numbers", "inputs": {"csv": "1,2,3"}},
        {"name": "second_fails", "inputs": {"csv": "1,x,3"}, "expect_status": "failed"},
    ]


@fixture
def chat_iteration_legacy_llm() -> tuple[dict, list]:
    """DSL 0.1.0 iteration without an iteration-start node (`isIterationStart` on the first
    child), an LLM inside, the collected texts rendered by an answer."""
    v = "0.1.0"
    g = Graph(v)
    g.node("1720000000001", "start", "Start", variables=[])
    g.node(
        "1720000000002",
        "code",
        "Split topics",
        **code_data(
            "def main(q: str) -> dict:\n"
            "    return {'topics': [t.strip() for t in q.split(';') if t.strip()]}\n",
            [("q", ["sys", "query"])],
            {"topics": "array[string]"},
        ),
    )
    iteration_node(
        g,
        "1720000000003",
        "Per topic",
        ["1720000000002", "topics"],
        ["1720000000005", "output"],
        output_type="array[string]",
        legacy_start="1720000000004",
    )
    data = llm_data(
        v,
        [
            ("system", "Write one line about the topic."),
            ("user", "Topic #{{#1720000000003.index#}}: {{#1720000000003.item#}}"),
        ],
    )
    g.node(
        "1720000000004", "llm", "Line writer", parent="1720000000003", isIterationStart=True, **data
    )
    g.node(
        "1720000000005",
        "template-transform",
        "Bullet",
        parent="1720000000003",
        **template_data(
            "{{ topic }} -> {{ line }}",
            [("topic", ["1720000000003", "item"]), ("line", ["1720000000004", "text"])],
        ),
    )
    g.edge("1720000000004", "1720000000005")
    g.node(
        "1720000000006",
        "answer",
        "Answer",
        answer="Lines:\n{{#1720000000003.output#}}",
        variables=[],
    )
    g.chain("1720000000001", "1720000000002", "1720000000003", "1720000000006")
    doc = document(
        name="Topic Liner",
        mode="advanced-chat",
        version=v,
        graph=g,
        description="Legacy iteration.",
    )
    cases = [
        {
            "name": "two_topics",
            "query": "rivers; mountains",
            "model": [
                {"when": ": rivers", "reply": "Rivers carve valleys."},
                {"when": ": mountains", "reply": "Mountains touch clouds."},
            ],
        }
    ]
    return doc, cases


def loop_node(g: Graph, node_id: str, title: str, **data: Any) -> None:
    base: dict[str, Any] = {
        "break_conditions": [],
        "error_handle_mode": "terminated",
        "height": 200,
        "logical_operator": "and",
        "loop_count": 10,
        "loop_variables": [],
        "start_node_id": f"{node_id}start",
        "width": 600,
    }
    base.update(data)
    g.node(node_id, "loop", title, **base)
    g.node(f"{node_id}start", "loop-start", "", parent=node_id)


@fixture
def wf_loop_break() -> tuple[dict, list]:
    """Loop variables, a break condition with a template value, loop_count as the cap."""
    v = "0.3.1"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("target", "number")])
    loop_node(
        g,
        "count_up",
        "Count up",
        loop_count=6,
        break_conditions=[
            cond(["count_up", "num"], "≥", "{{#start.target#}}", "number", "brk-num")
        ],
        loop_variables=[
            {
                "id": "lv-num",
                "label": "num",
                "value": "1",
                "value_type": "constant",
                "var_type": "number",
            },
            {
                "id": "lv-trail",
                "label": "trail",
                "value": "go",
                "value_type": "constant",
                "var_type": "string",
            },
        ],
    )
    g.node(
        "step",
        "code",
        "Step",
        parent="count_up",
        **code_data(
            "def main(num: int, trail: str, i: int) -> dict:\n"
            "    return {'trail': f'{trail}>{num}@{i}'}\n",
            [
                ("num", ["count_up", "num"]),
                ("trail", ["count_up", "trail"]),
                ("i", ["count_up", "index"]),
            ],
            {"trail": "string"},
        ),
    )
    g.node(
        "bump",
        "assigner",
        "Bump",
        parent="count_up",
        version="2",
        items=[
            assign_item(["count_up", "num"], "+=", 1, "constant"),
            assign_item(["count_up", "trail"], "over-write", ["step", "trail"], "variable"),
        ],
    )
    g.chain("count_upstart", "step", "bump")
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [
                ("num", ["count_up", "num"], "number"),
                ("trail", ["count_up", "trail"], "string"),
            ]
        ),
    )
    g.chain("start", "count_up", "end")
    doc = document(
        name="Counter Loop", mode="workflow", version=v, graph=g, description="Loop with break."
    )
    index_note = (
        "graphon does not set [loop_id, index] for loop children (it reads as null, "
        "rendered 'None' by the code node's f-string); the reference says loops expose it."
    )
    return doc, [
        {"name": "breaks_at_four", "inputs": {"target": 4}, "graphon_differs": index_note},
        {"name": "hits_loop_count", "inputs": {"target": 50}, "graphon_differs": index_note},
        {"name": "breaks_at_once", "inputs": {"target": 1}},
    ]


@fixture
def chat_loop_end() -> tuple[dict, list]:
    """A loop that stops through a loop-end node; loop variables from a constant and from a
    variable; an array loop variable grown by an assigner."""
    v = "0.5.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("limit", "number")])
    loop_node(
        g,
        "ticker",
        "Ticker",
        loop_count=8,
        loop_variables=[
            {
                "id": "lv-count",
                "label": "count",
                "value": "0",
                "value_type": "constant",
                "var_type": "number",
            },
            {
                "id": "lv-stop",
                "label": "stop_at",
                "value": ["start", "limit"],
                "value_type": "variable",
                "var_type": "number",
            },
            {
                "id": "lv-marks",
                "label": "marks",
                "value": "[]",
                "value_type": "constant",
                "var_type": "array[string]",
            },
        ],
    )
    g.node(
        "enough",
        "if-else",
        "Enough?",
        parent="ticker",
        cases=[
            one_case(
                "true",
                [cond(["ticker", "count"], "≥", "{{#ticker.stop_at#}}", "number", "enough-c")],
            )
        ],
    )
    g.node("ticker_end", "loop-end", "Exit loop", parent="ticker")
    g.node(
        "mark",
        "template-transform",
        "Mark",
        parent="ticker",
        **template_data("tick{{ n }}", [("n", ["ticker", "count"])]),
    )
    g.node(
        "grow",
        "assigner",
        "Grow",
        parent="ticker",
        version="2",
        items=[
            assign_item(["ticker", "count"], "+=", 1, "constant"),
            assign_item(["ticker", "marks"], "append", ["mark", "output"], "variable"),
        ],
    )
    g.edge("tickerstart", "enough")
    g.edge("enough", "ticker_end", "true")
    g.edge("enough", "mark", "false")
    g.edge("mark", "grow")
    g.node(
        "out",
        "answer",
        "Answer",
        answer="Stopped at {{#ticker.count#}}: {{#ticker.marks#}}",
        variables=[],
    )
    g.chain("start", "ticker", "out")
    doc = document(
        name="Ticker", mode="advanced-chat", version=v, graph=g, description="Loop end node."
    )
    return doc, [
        {"name": "three", "inputs": {"limit": 3}, "query": "go"},
        {"name": "zero", "inputs": {"limit": 0}, "query": "go"},
    ]


@fixture
def wf_list_operator() -> tuple[dict, list]:
    """List operator: filter, order, limit, extract over numbers, strings and files."""
    v = "0.3.1"
    g = Graph(v)
    g.node(
        "start",
        "start",
        "Start",
        variables=[field("files", "file-list", required=False, max_length=5)],
    )
    g.node(
        "lists",
        "code",
        "Lists",
        **code_data(
            "def main() -> dict:\n"
            "    return {\n"
            "        'nums': [5, 3, 9, 1, 7],\n"
            "        'words': ['pear', 'apple', 'fig', 'banana', 'grape'],\n"
            "    }\n",
            [],
            {"nums": "array[number]", "words": "array[string]"},
        ),
    )
    g.node(
        "top_nums",
        "list-operator",
        "Top numbers",
        variable=["lists", "nums"],
        var_type="array[number]",
        item_var_type="number",
        filter_by={
            "conditions": [{"comparison_operator": ">", "key": "", "value": "2"}],
            "enabled": True,
        },
        order_by={"enabled": True, "key": "", "value": "desc"},
        limit={"enabled": True, "size": 3},
        extract_by={"enabled": False, "serial": "1"},
    )
    g.node(
        "a_words",
        "list-operator",
        "Words with a",
        variable=["lists", "words"],
        var_type="array[string]",
        item_var_type="string",
        filter_by={
            "conditions": [{"comparison_operator": "contains", "key": "", "value": "a"}],
            "enabled": True,
        },
        order_by={"enabled": True, "key": "", "value": "asc"},
        limit={"enabled": False, "size": 10},
        extract_by={"enabled": False, "serial": "1"},
    )
    g.node(
        "second_word",
        "list-operator",
        "Second word",
        variable=["lists", "words"],
        var_type="array[string]",
        item_var_type="string",
        filter_by={"conditions": [], "enabled": False},
        order_by={"enabled": False, "key": "", "value": "asc"},
        limit={"enabled": False, "size": 10},
        extract_by={"enabled": True, "serial": "2"},
    )
    g.node(
        "pdfs",
        "list-operator",
        "PDF files",
        variable=["start", "files"],
        var_type="array[file]",
        item_var_type="file",
        filter_by={
            "conditions": [{"comparison_operator": "is", "key": "extension", "value": ".pdf"}],
            "enabled": True,
        },
        order_by={"enabled": True, "key": "size", "value": "desc"},
        limit={"enabled": False, "size": 10},
        extract_by={"enabled": False, "serial": "1"},
    )
    g.node(
        "names",
        "template-transform",
        "Names",
        **template_data(
            "{% for f in pdfs %}{{ f.filename }}:{{ f.size }} {% endfor %}",
            [("pdfs", ["pdfs", "result"])],
        ),
    )
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [
                ("top", ["top_nums", "result"], "array[number]"),
                ("top_first", ["top_nums", "first_record"], "number"),
                ("top_last", ["top_nums", "last_record"], "number"),
                ("a_words", ["a_words", "result"], "array[string]"),
                ("second", ["second_word", "result"], "array[string]"),
                ("pdf_names", ["names", "output"], "string"),
                ("first_pdf", ["pdfs", "first_record", "name"], "string"),
            ]
        ),
    )
    g.chain("start", "lists")
    for node_id in ("top_nums", "a_words", "second_word", "pdfs"):
        g.edge("lists", node_id)
    g.edge("pdfs", "names")
    for node_id in ("top_nums", "a_words", "second_word", "names"):
        g.edge(node_id, "end")
    doc = document(
        name="List Sorter", mode="workflow", version=v, graph=g, description="List operator."
    )
    cases = [
        {
            "name": "with_files",
            "inputs": {
                "files": [
                    file_input("small.pdf", size=10),
                    file_input("photo.png", "image", "image/png", 99),
                    file_input("large.pdf", size=900),
                ]
            },
        },
        {"name": "no_files", "inputs": {"files": []}},
    ]
    return doc, cases


@fixture
def chat_iteration_llm() -> tuple[dict, list]:
    """A parallel iteration with an LLM inside (iteration-start form); the collected texts
    are rendered by an answer after it."""
    v = "0.5.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[])
    g.node(
        "topics",
        "code",
        "Split topics",
        **code_data(
            "def main(q: str) -> dict:\n"
            "    return {'topics': [t.strip() for t in q.split(';') if t.strip()]}\n",
            [("q", ["sys", "query"])],
            {"topics": "array[string]"},
        ),
    )
    iteration_node(
        g,
        "per_topic",
        "Per topic",
        ["topics", "topics"],
        ["bullet", "output"],
        output_type="array[string]",
        is_parallel=True,
        parallel_nums=3,
        error_handle_mode="terminated",
    )
    g.node(
        "writer",
        "llm",
        "Line writer",
        parent="per_topic",
        **llm_data(
            v,
            [
                ("system", "Write one line about the topic."),
                ("user", "Topic {{#per_topic.index#}}: {{#per_topic.item#}}"),
            ],
        ),
    )
    g.node(
        "bullet",
        "template-transform",
        "Bullet",
        parent="per_topic",
        **template_data(
            "{{ topic }} -> {{ line }}",
            [("topic", ["per_topic", "item"]), ("line", ["writer", "text"])],
        ),
    )
    g.chain("per_topicstart", "writer", "bullet")
    g.node(
        "out",
        "answer",
        "Answer",
        answer="Lines:\n{{#per_topic.output#}}",
        variables=[],
    )
    g.chain("start", "topics", "per_topic", "out")
    doc = document(
        name="Topic Liner Parallel",
        mode="advanced-chat",
        version=v,
        graph=g,
        description="LLM inside a parallel iteration.",
        uses_model=True,
    )
    cases = [
        {
            "name": "three_topics",
            "query": "rivers; mountains; deserts",
            "model": [
                {"when": ": rivers", "reply": "Rivers carve valleys."},
                {"when": ": mountains", "reply": "Mountains touch clouds."},
            ],
        }
    ]
    return doc, cases


def classifier_data(
    version: str, query: list[str], classes: list[tuple[str, str]], instruction: str = ""
) -> dict[str, Any]:
    return {
        "classes": [{"id": class_id, "name": name} for class_id, name in classes],
        "instruction": instruction,
        "instructions": "",
        "model": model(version),
        "query_variable_selector": query,
        "topics": [],
        "vision": {"enabled": False},
    }


@fixture
def chat_question_classifier() -> tuple[dict, list]:
    """Three classes, each to its own answer; an unparsable reply falls back to the first."""
    v = "0.3.1"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[])
    classes = [
        ("1730000000101", "Shipping questions"),
        ("1730000000102", "Billing questions"),
        ("1730000000103", "Anything else"),
    ]
    g.node(
        "sort",
        "question-classifier",
        "Sort request",
        **classifier_data(v, ["sys", "query"], classes),
    )
    for class_id, name in classes:
        answer_id = f"ans_{class_id[-3:]}"
        g.node(
            answer_id,
            "answer",
            f"About {name}",
            answer=f"[{name}] {{{{#sys.query#}}}}",
            variables=[],
        )
        g.edge("sort", answer_id, class_id)
    g.edge("start", "sort")
    doc = document(
        name="Help Sorter",
        mode="advanced-chat",
        version=v,
        graph=g,
        description="Question classifier.",
        uses_model=True,
    )
    cases = [
        {
            "name": "billing",
            "query": "Why was I charged twice?",
            "model": [
                {
                    "when": "charged twice",
                    "reply": '{"keywords": ["charged"], "category_id": "1730000000102", '
                    '"category_name": "Billing questions"}',
                }
            ],
        },
        {
            "name": "unparsable_reply",
            "query": "Hmm?",
            "model": [{"when": "Hmm?", "reply": "I would say billing, probably."}],
            "graphon_differs": "Dify falls back to the first class when the reply has no JSON; "
            "graphon fails the node ('could not find json block in the output.').",
        },
    ]
    return doc, cases


@fixture
def wf_question_classifier_four() -> tuple[dict, list]:
    """Four classes with an instruction template, in a workflow."""
    v = "0.5.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("ticket", "paragraph")])
    classes = [
        ("c_bug", "Bug report"),
        ("c_feature", "Feature request"),
        ("c_praise", "Praise"),
        ("c_other", "Other"),
    ]
    g.node(
        "triage",
        "question-classifier",
        "Triage",
        **classifier_data(
            v, ["start", "ticket"], classes, "Tickets come from the {{#start.ticket#}} form."
        ),
    )
    for class_id, name in classes:
        g.node(
            f"t_{class_id}",
            "template-transform",
            name,
            **template_data(f"{name}: {{{{ t }}}}", [("t", ["start", "ticket"])]),
        )
        g.node(
            f"e_{class_id}",
            "end",
            f"End {name}",
            **end_data(
                [
                    ("label", [f"t_{class_id}", "output"], "string"),
                    ("class_name", ["triage", "class_name"], "string"),
                ]
            ),
        )
        g.edge("triage", f"t_{class_id}", class_id)
        g.edge(f"t_{class_id}", f"e_{class_id}")
    g.edge("start", "triage")
    doc = document(
        name="Ticket Triage",
        mode="workflow",
        version=v,
        graph=g,
        description="Four classes.",
        uses_model=True,
    )
    cases = [
        {
            "name": "praise",
            "inputs": {"ticket": "Love the new dashboard!"},
            "model": [
                {
                    "when": "Love the new dashboard",
                    "reply": '```json\n{"keywords": ["love"], "category_id": "c_praise", '
                    '"category_name": "Praise"}\n```',
                }
            ],
        },
        {
            "name": "fallback_first",
            "inputs": {"ticket": "???"},
            "model": [{"when": "???", "reply": "no idea"}],
            "graphon_differs": "Dify falls back to the first class (c_bug) when the reply has "
            "no JSON; graphon fails the node ('could not find json block in the output.').",
        },
    ]
    return doc, cases


@fixture
def wf_parameter_extractor() -> tuple[dict, list]:
    """Parameter extractor in function_call mode (a tool call) and in prompt mode (JSON)."""
    v = "0.3.1"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("request", "paragraph")])
    common = {
        "model": model(v),
        "query": ["start", "request"],
        "vision": {"enabled": False},
    }
    g.node(
        "by_tool",
        "parameter-extractor",
        "Extract customer",
        instruction="Extract the customer from: {{#start.request#}}",
        parameters=[
            {"description": "Customer name", "name": "name", "required": True, "type": "string"},
            {"description": "Age in years", "name": "age", "required": False, "type": "number"},
            {
                "description": "Interests",
                "name": "tags",
                "required": False,
                "type": "array[string]",
            },
            {
                "description": "Plan",
                "name": "plan",
                "options": ["free", "pro"],
                "required": False,
                "type": "select",
            },
        ],
        reasoning_mode="function_call",
        **common,
    )
    g.node(
        "by_prompt",
        "parameter-extractor",
        "Extract trip",
        instruction="Find the trip.",
        parameters=[
            {"description": "Destination city", "name": "city", "required": True, "type": "string"},
            {"description": "Number of days", "name": "days", "required": True, "type": "number"},
        ],
        reasoning_mode="prompt",
        **common,
    )
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [
                ("name", ["by_tool", "name"], "string"),
                ("age", ["by_tool", "age"], "number"),
                ("tags", ["by_tool", "tags"], "array[string]"),
                ("plan", ["by_tool", "plan"], "string"),
                ("tool_ok", ["by_tool", "__is_success"], "number"),
                ("city", ["by_prompt", "city"], "string"),
                ("days", ["by_prompt", "days"], "number"),
                ("prompt_ok", ["by_prompt", "__is_success"], "number"),
                ("prompt_reason", ["by_prompt", "__reason"], "string"),
            ]
        ),
    )
    g.edge("start", "by_tool")
    g.edge("start", "by_prompt")
    g.edge("by_tool", "end")
    g.edge("by_prompt", "end")
    doc = document(
        name="Request Parser",
        mode="workflow",
        version=v,
        graph=g,
        description="Parameter extraction.",
        uses_model=True,
    )
    cases = [
        {
            "name": "both_modes",
            "inputs": {"request": "Mia, 29, likes hiking and chess, pro plan, 4 days in Lisbon"},
            "model": [
                {
                    "when": "Extract the customer",
                    "tool_call": {
                        "name": "extract_parameters",
                        "arguments": {
                            "name": "Mia",
                            "age": 29,
                            "tags": ["hiking", "chess"],
                            "plan": "pro",
                        },
                    },
                },
                {"when": "Find the trip", "reply": '{"city": "Lisbon", "days": 4}'},
            ],
        },
        {
            "name": "prompt_reply_not_json",
            "inputs": {"request": "nothing useful"},
            "model": [
                {
                    "when": "Extract the customer",
                    "tool_call": {"name": "extract_parameters", "arguments": {"name": "?"}},
                },
                {"when": "Find the trip", "reply": "no trip here"},
            ],
        },
    ]
    return doc, cases


@fixture
def wf_http_request() -> tuple[dict, list]:
    """http-request against the local fixture server (tests/support/graph_http.py) whose base
    URL comes from an environment variable; a non-2xx answer with an error strategy."""
    v = "0.5.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("q", "text-input")])
    timeout = {"max_connect_timeout": 0, "max_read_timeout": 0, "max_write_timeout": 0}
    g.node(
        "get",
        "http-request",
        "Search",
        authorization={"config": None, "type": "no-auth"},
        body={"data": [], "type": "none"},
        headers="X-Trace:trace-{{#start.q#}}\nAccept:application/json",
        method="get",
        params="q:{{#start.q#}}\nlimit:5",
        retry_config={"max_retries": 3, "retry_enabled": False, "retry_interval": 100},
        ssl_verify=True,
        timeout=timeout,
        url="{{#env.HTTP_BASE#}}/echo/search",
        variables=[],
    )
    g.node(
        "post",
        "http-request",
        "Create",
        authorization={
            "config": {"api_key": "{{#env.HTTP_TOKEN#}}", "header": "", "type": "bearer"},
            "type": "api-key",
        },
        body={
            "data": [
                {
                    "id": "body-json",
                    "key": "",
                    "type": "text",
                    "value": '{"query": "{{#start.q#}}", "count": 2}',
                }
            ],
            "type": "json",
        },
        headers="",
        method="post",
        params="",
        retry_config={"max_retries": 3, "retry_enabled": False, "retry_interval": 100},
        ssl_verify=True,
        timeout=timeout,
        url="{{#env.HTTP_BASE#}}/echo/items",
        variables=[],
    )
    g.node(
        "broken",
        "http-request",
        "Broken endpoint",
        authorization={"config": None, "type": "no-auth"},
        body={"data": [], "type": "none"},
        default_value=[
            {"key": "body", "type": "string", "value": "fallback body"},
            {"key": "status_code", "type": "number", "value": "0"},
        ],
        error_strategy="default-value",
        headers="",
        method="get",
        params="",
        retry_config={"max_retries": 3, "retry_enabled": False, "retry_interval": 100},
        ssl_verify=True,
        timeout=timeout,
        url="{{#env.HTTP_BASE#}}/status/503",
        variables=[],
    )
    g.node(
        "parse",
        "code",
        "Parse",
        **code_data(
            "import json\n\n\n"
            "def main(got: str, posted: str) -> dict:\n"
            "    a = json.loads(got)\n"
            "    b = json.loads(posted)\n"
            "    return {\n"
            "        'query': a['query'],\n"
            "        'trace': a['headers'].get('x-trace', ''),\n"
            "        'auth': b['headers'].get('authorization', ''),\n"
            "        'sent': json.loads(b['body']),\n"
            "    }\n",
            [("got", ["get", "body"]), ("posted", ["post", "body"])],
            {"query": "object", "trace": "string", "auth": "string", "sent": "object"},
        ),
    )
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [
                ("get_status", ["get", "status_code"], "number"),
                ("post_status", ["post", "status_code"], "number"),
                ("parsed", ["parse", "query"], "object"),
                ("trace", ["parse", "trace"], "string"),
                ("auth", ["parse", "auth"], "string"),
                ("sent", ["parse", "sent"], "object"),
                ("broken_status", ["broken", "status_code"], "number"),
                ("broken_body", ["broken", "body"], "string"),
            ]
        ),
    )
    g.edge("start", "get")
    g.edge("start", "post")
    g.edge("start", "broken")
    g.edge("get", "parse")
    g.edge("post", "parse")
    g.edge("parse", "end")
    g.edge("broken", "end")
    doc = document(
        name="Echo Client",
        mode="workflow",
        version=v,
        graph=g,
        description="HTTP requests to a local echo server.",
        env=[
            env_var(
                "HTTP_BASE", "http://127.0.0.1:9", "string", "7f3a4b5c-0001-4d00-a000-0000000000c1"
            ),
            env_var("HTTP_TOKEN", "", "secret", "7f3a4b5c-0002-4d00-a000-0000000000c2"),
        ],
    )
    cases = [
        {
            "name": "echo",
            "inputs": {"q": "kiln"},
            "environment": {"HTTP_BASE": "{http_base}", "HTTP_TOKEN": "tok-123"},
        }
    ]
    return doc, cases


@fixture
def wf_fanout_join() -> tuple[dict, list]:
    """Three parallel branches (template, code, LLM) joining into one template."""
    v = "0.5.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("word", "text-input")])
    g.node(
        "left",
        "template-transform",
        "Left",
        **template_data("<{{ w }}>", [("w", ["start", "word"])]),
    )
    g.node(
        "middle",
        "code",
        "Middle",
        **code_data(
            "def main(w: str) -> dict:\n    return {'n': len(w)}\n",
            [("w", ["start", "word"])],
            {"n": "number"},
        ),
    )
    g.node("right", "llm", "Right", **llm_data(v, [("user", "Rhyme with {{#start.word#}}")]))
    g.node(
        "join",
        "template-transform",
        "Join",
        **template_data(
            "{{ a }} {{ b }} {{ c }}",
            [("a", ["left", "output"]), ("b", ["middle", "n"]), ("c", ["right", "text"])],
        ),
    )
    g.node("end", "end", "End", **end_data([("joined", ["join", "output"], "string")]))
    for node_id in ("left", "middle", "right"):
        g.edge("start", node_id)
        g.edge(node_id, "join")
    g.edge("join", "end")
    doc = document(
        name="Three Ways",
        mode="workflow",
        version=v,
        graph=g,
        description="Fan-out and join.",
        uses_model=True,
    )
    return doc, [
        {
            "name": "cat",
            "inputs": {"word": "cat"},
            "model": [{"when": "Rhyme with cat", "reply": "hat"}],
        }
    ]


@fixture
def wf_join_after_ifelse_skip() -> tuple[dict, list]:
    """A chain on the untaken branch is skipped node by node; the join after the if-else
    runs once."""
    v = "0.3.1"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("n", "number")])
    g.node(
        "check",
        "if-else",
        "Big?",
        cases=[one_case("true", [cond(["start", "n"], ">", "10", "number")])],
    )
    for node_id, text in (("big_1", "big"), ("big_2", "bigger"), ("big_3", "biggest")):
        g.node(
            node_id,
            "template-transform",
            text.title(),
            **template_data(text + " {{ n }}", [("n", ["start", "n"])]),
        )
    g.node(
        "small",
        "template-transform",
        "Small",
        **template_data("small {{ n }}", [("n", ["start", "n"])]),
    )
    g.node(
        "merge",
        "variable-aggregator",
        "Merge",
        output_type="string",
        variables=[["big_3", "output"], ["small", "output"]],
    )
    g.node(
        "after",
        "template-transform",
        "After join",
        **template_data("joined: {{ v }}", [("v", ["merge", "output"])]),
    )
    g.node("end", "end", "End", **end_data([("result", ["after", "output"], "string")]))
    g.edge("start", "check")
    g.edge("check", "big_1", "true")
    g.chain("big_1", "big_2", "big_3", "merge")
    g.edge("check", "small", "false")
    g.chain("small", "merge")
    g.chain("merge", "after", "end")
    doc = document(
        name="Size Label", mode="workflow", version=v, graph=g, description="Join after if-else."
    )
    return doc, [{"name": "big", "inputs": {"n": 42}}, {"name": "small", "inputs": {"n": 3}}]


@fixture
def wf_error_default_value() -> tuple[dict, list]:
    """A code node that raises, with error_strategy default-value: the run continues with the
    default outputs plus error_message/error_type and ends partial-succeeded."""
    v = "0.5.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("divisor", "number")])
    g.node(
        "divide",
        "code",
        "Divide",
        error_strategy="default-value",
        default_value=[
            {"key": "result", "type": "number", "value": "-1"},
            {"key": "note", "type": "string", "value": "division failed"},
            {"key": "parts", "type": "array[string]", "value": '["none"]'},
        ],
        **code_data(
            "def main(d: float) -> dict:\n"
            "    if d == 0:\n"
            "        raise ZeroDivisionError('cannot divide by zero')\n"
            "    return {'result': 100 / d, 'note': 'ok', 'parts': ['a', 'b']}\n",
            [("d", ["start", "divisor"])],
            {"result": "number", "note": "string", "parts": "array[string]"},
        ),
    )
    g.node(
        "report",
        "template-transform",
        "Report",
        **template_data(
            "{{ r }} / {{ n }} / {{ p | join('+') }}",
            [
                ("r", ["divide", "result"]),
                ("n", ["divide", "note"]),
                ("p", ["divide", "parts"]),
            ],
        ),
    )
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [
                ("report", ["report", "output"], "string"),
                ("error", ["divide", "error_message"], "string"),
            ]
        ),
    )
    g.chain("start", "divide", "report", "end")
    doc = document(
        name="Safe Divider",
        mode="workflow",
        version=v,
        graph=g,
        description="Default values on error.",
    )
    return doc, [
        {"name": "ok", "inputs": {"divisor": 4}},
        {"name": "raises", "inputs": {"divisor": 0}, "expect_status": "partial-succeeded"},
    ]


@fixture
def chat_error_fail_branch() -> tuple[dict, list]:
    """A code node with error_strategy fail-branch: success goes on `source`, failure on
    `fail-branch` with error_message in the pool."""
    v = "0.5.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[])
    g.node(
        "parse",
        "code",
        "Parse number",
        error_strategy="fail-branch",
        **code_data(
            "def main(q: str) -> dict:\n    return {'value': float(q) * 2}\n",
            [("q", ["sys", "query"])],
            {"value": "number"},
        ),
    )
    g.node("ok", "answer", "Doubled", answer="Doubled: {{#parse.value#}}", variables=[])
    g.node(
        "bad",
        "answer",
        "Could not parse",
        answer="Could not parse: {{#parse.error_message#}}",
        variables=[],
    )
    g.edge("start", "parse")
    g.edge("parse", "ok")
    g.edge("parse", "bad", "fail-branch")
    doc = document(
        name="Doubler", mode="advanced-chat", version=v, graph=g, description="Fail branch."
    )
    return doc, [
        {"name": "number", "query": "21"},
        {"name": "not_a_number", "query": "twenty", "expect_status": "partial-succeeded"},
    ]


@fixture
def wf_error_retry() -> tuple[dict, list]:
    """Retry: a node that always fails is run 1 + max_retries times, then its default-value
    strategy applies; a node that succeeds first time runs once."""
    v = "0.5.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[field("word", "text-input")])
    g.node(
        "flaky",
        "code",
        "Always fails",
        error_strategy="default-value",
        default_value=[{"key": "out", "type": "string", "value": "gave up"}],
        retry_config={"max_retries": 2, "retry_enabled": True, "retry_interval": 10},
        **code_data(
            "def main(w: str) -> dict:\n    raise RuntimeError('service down for ' + w)\n",
            [("w", ["start", "word"])],
            {"out": "string"},
        ),
    )
    g.node(
        "steady",
        "code",
        "Succeeds",
        retry_config={"max_retries": 3, "retry_enabled": True, "retry_interval": 10},
        **code_data(
            "def main(w: str) -> dict:\n    return {'out': w[::-1]}\n",
            [("w", ["start", "word"])],
            {"out": "string"},
        ),
    )
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [("flaky", ["flaky", "out"], "string"), ("steady", ["steady", "out"], "string")]
        ),
    )
    g.edge("start", "flaky")
    g.edge("start", "steady")
    g.edge("flaky", "end")
    g.edge("steady", "end")
    doc = document(name="Retry Demo", mode="workflow", version=v, graph=g, description="Retries.")
    return doc, [
        {
            "name": "retries_then_default",
            "inputs": {"word": "abc"},
            "expect_status": "partial-succeeded",
        }
    ]


@fixture
def chat_conversation_vars() -> tuple[dict, list]:
    """Conversation variables of every common type, rendered by an answer (markdown), an LLM
    prompt (text) and a template (Jinja values)."""
    v = "0.3.1"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[])
    g.node(
        "show",
        "answer",
        "Show",
        answer="name={{#conversation.name#}}\nscore={{#conversation.score#}}\n"
        "prefs={{#conversation.prefs#}}\ntags={{#conversation.tags#}}\n"
        "items={{#conversation.items#}}\n",
        variables=[],
    )
    g.node(
        "ask",
        "llm",
        "Ask",
        **llm_data(
            v,
            [
                (
                    "user",
                    "name={{#conversation.name#}} score={{#conversation.score#}} "
                    "prefs={{#conversation.prefs#}} tags={{#conversation.tags#}} "
                    "items={{#conversation.items#}}",
                )
            ],
        ),
    )
    g.node(
        "tpl",
        "template-transform",
        "Jinja view",
        **template_data(
            "{{ name }}|{{ score }}|{{ prefs }}|{{ tags }}|{{ items }}",
            [
                ("name", ["conversation", "name"]),
                ("score", ["conversation", "score"]),
                ("prefs", ["conversation", "prefs"]),
                ("tags", ["conversation", "tags"]),
                ("items", ["conversation", "items"]),
            ],
        ),
    )
    g.node(
        "tail", "answer", "Tail", answer="llm={{#ask.text#}}\njinja={{#tpl.output#}}", variables=[]
    )
    g.chain("start", "show", "ask", "tpl", "tail")
    doc = document(
        name="State Viewer",
        mode="advanced-chat",
        version=v,
        graph=g,
        description="Conversation variable rendering.",
        conversation=[
            conv_var("name", "Ana", "string", "8a4b5c6d-0001-4e00-b000-0000000000d1"),
            conv_var("score", 4.5, "number", "8a4b5c6d-0002-4e00-b000-0000000000d2"),
            conv_var(
                "prefs",
                {"lang": "pt", "dark": False},
                "object",
                "8a4b5c6d-0003-4e00-b000-0000000000d3",
            ),
            conv_var(
                "tags", ["new", "vip"], "array[string]", "8a4b5c6d-0004-4e00-b000-0000000000d4"
            ),
            conv_var(
                "items",
                [{"sku": "A1", "qty": 2}],
                "array[object]",
                "8a4b5c6d-0005-4e00-b000-0000000000d5",
            ),
        ],
        uses_model=True,
    )
    return doc, [
        {"name": "defaults", "query": "show"},
        {
            "name": "overridden_empty",
            "query": "show",
            "conversation_variables": {
                "name": "",
                "score": 0,
                "prefs": {},
                "tags": [],
                "items": [],
            },
        },
    ]


@fixture
def wf_env_vars() -> tuple[dict, list]:
    """Environment variables (string, number, secret) in templates, prompts and ends."""
    v = "0.1.5"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[])
    g.node(
        "cfg",
        "template-transform",
        "Config",
        **template_data(
            "region={{ region }} max={{ max }} twice={{ max * 2 }} token_set={{ token != '' }}",
            [
                ("region", ["env", "REGION"]),
                ("max", ["env", "MAX_ITEMS"]),
                ("token", ["env", "API_TOKEN"]),
            ],
        ),
    )
    g.node(
        "say",
        "llm",
        "Say",
        **llm_data(
            v,
            [
                ("system", "Region {{#env.REGION#}}, limit {{#env.MAX_ITEMS#}}."),
                ("user", "Token: {{#env.API_TOKEN#}}"),
            ],
        ),
    )
    g.node(
        "end",
        "end",
        "End",
        **end_data(
            [
                ("cfg", ["cfg", "output"], "string"),
                ("max", ["env", "MAX_ITEMS"], "number"),
                ("said", ["say", "text"], "string"),
            ]
        ),
    )
    g.chain("start", "cfg", "say", "end")
    doc = document(
        name="Env Reader",
        mode="workflow",
        version=v,
        graph=g,
        description="Environment variables.",
        env=[
            env_var("REGION", "eu-north", "string", "9b5c6d7e-0001-4f00-8000-0000000000e1"),
            env_var("MAX_ITEMS", 12, "number", "9b5c6d7e-0002-4f00-8000-0000000000e2"),
            env_var("API_TOKEN", "", "secret", "9b5c6d7e-0003-4f00-8000-0000000000e3"),
        ],
        uses_model=True,
    )
    return doc, [
        {"name": "exported_blank_secret", "inputs": {}},
        {"name": "secret_set", "inputs": {}, "environment": {"API_TOKEN": "tok-abc"}},
    ]


@fixture
def chat_templates_unresolved() -> tuple[dict, list]:
    """`{{#node.var#}}` templates: unresolved selectors render as the bare selector text in
    an answer (an LLM prompt with one fails instead: the Probe node, caught by default-value);
    objects, arrays and numbers rendered into an answer; custom-note nodes are ignored."""
    v = "0.6.0"
    g = Graph(v)
    g.note("1740000000900", "This sticky note is not part of the run.")
    g.node("1740000000001", "start", "Start", variables=[field("city", "text-input")])
    g.node(
        "1740000000002",
        "code",
        "Values",
        **code_data(
            "def main() -> dict:\n"
            "    return {'obj': {'a': 1, 'b': 'two'}, 'nums': [1, 2.5], 'words': ['x', 'y'],\n"
            "            'rows': [{'k': 'v'}], 'n': 3, 'f': 0.5, 'empty': []}\n",
            [],
            {
                "obj": "object",
                "nums": "array[number]",
                "words": "array[string]",
                "rows": "array[object]",
                "n": "number",
                "f": "number",
                "empty": "array[string]",
            },
        ),
    )
    g.note("1740000000901", "Another note, between nodes.")
    g.node(
        "1740000000003",
        "answer",
        "Render",
        answer="city={{#1740000000001.city#}} missing={{#1740000000001.nope#}} "
        "ghost={{#ghost_node.value#}} deep={{#1740000000002.obj.a#}} "
        "deeper={{#1740000000002.obj.zzz#}}\n"
        "obj={{#1740000000002.obj#}}\nnums={{#1740000000002.nums#}}\n"
        "words={{#1740000000002.words#}}\nrows={{#1740000000002.rows#}}\n"
        "n={{#1740000000002.n#}} f={{#1740000000002.f#}} empty=[{{#1740000000002.empty#}}] "
        "literal={{not a selector}} {{#context#}}",
        variables=[],
    )
    g.chain("1740000000001", "1740000000002", "1740000000003")
    probe = llm_data(v, [("user", "Weather in {{#ghost_node.value#}} for {{#sys.query#}}")])
    g.node(
        "1740000000004",
        "llm",
        "Probe",
        error_strategy="default-value",
        default_value=[{"key": "text", "type": "string", "value": "probe failed"}],
        **probe,
    )
    g.edge("1740000000001", "1740000000004")
    doc = document(
        name="Template Corners",
        mode="advanced-chat",
        version=v,
        graph=g,
        description="Template rendering corners.",
        uses_model=True,
    )
    return doc, [
        {
            "name": "default",
            "inputs": {"city": "Porto"},
            "query": "hi",
            "graphon_differs": "graphon's response stream stops at the first selector that "
            "never resolves, so the streamed `answer` ends at 'missing='; the answer node's "
            "output (outputs.answer) has the whole text with bare selectors.",
        }
    ]


@fixture
def chat_parallel_answers() -> tuple[dict, list]:
    """Two LLMs in parallel, each feeding its own answer, then a joining answer: the
    streamed text keeps the answers' order. (A joining answer that references the LLM texts
    again streams them empty or not depending on timing in graphon, so it does not.)"""
    v = "0.5.0"
    g = Graph(v)
    g.node("start", "start", "Start", variables=[])
    g.node("head", "answer", "Head", answer="Two views on {{#sys.query#}}:\n", variables=[])
    g.node("pro", "llm", "Pro", **llm_data(v, [("user", "Argue for: {{#sys.query#}}")]))
    g.node("con", "llm", "Con", **llm_data(v, [("user", "Argue against: {{#sys.query#}}")]))
    g.node("pro_ans", "answer", "Pro answer", answer="+ {{#pro.text#}}\n", variables=[])
    g.node("con_ans", "answer", "Con answer", answer="- {{#con.text#}}\n", variables=[])
    g.node("tail", "answer", "Tail", answer="(end of the debate on {{#sys.query#}})", variables=[])
    g.chain("start", "head")
    g.edge("head", "pro")
    g.edge("head", "con")
    g.edge("pro", "pro_ans")
    g.edge("con", "con_ans")
    g.edge("pro_ans", "tail")
    g.edge("con_ans", "tail")
    doc = document(
        name="Debate",
        mode="advanced-chat",
        version=v,
        graph=g,
        description="Parallel answers.",
        uses_model=True,
    )
    return doc, [
        {
            "name": "tabs_vs_spaces",
            "query": "tabs",
            "model": [
                {"when": "Argue for", "reply": "Tabs are flexible."},
                {"when": "Argue against", "reply": "Spaces are exact."},
            ],
        }
    ]


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    names = sys.argv[1:] or sorted(FIXTURES)
    for name in names:
        doc, cases = FIXTURES[name]()
        text = yaml.dump(doc, allow_unicode=True, sort_keys=True, width=100)
        (OUT / f"{name}.yml").write_text(text, encoding="utf-8")
        (OUT / f"{name}.cases.json").write_text(
            json.dumps(cases, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print(f"{name}: {len(cases)} case(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
