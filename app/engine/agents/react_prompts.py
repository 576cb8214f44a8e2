"""Dify's English ReAct prompt templates (api/core/agent/prompt/template.py; the agent
strategy plugin ships the same chat template). `{{instruction}}`, `{{tools}}` (the tools
as JSON) and `{{tool_names}}` are filled in; the completion template also takes
`{{historic_messages}}`, `{{query}}` and `{{agent_scratchpad}}`."""

import json
from typing import Any

_FORMAT = """Respond to the human as helpfully and accurately as possible.

{{instruction}}

You have access to the following tools:

{{tools}}

Use a json blob to specify a tool by providing an action key (tool name) and an action_input key (tool input).
Valid "action" values: "Final Answer" or {{tool_names}}

Provide only ONE action per $JSON_BLOB, as shown:

```
{
"action": $TOOL_NAME,
"action_input": $ACTION_INPUT
}
```

Follow this format:

Question: input question to answer
Thought: consider previous and subsequent steps
Action:
```
$JSON_BLOB
```
Observation: action result
... (repeat Thought/Action/Observation N times)
Thought: I know what to respond
Action:
```
{
"action": "Final Answer",
"action_input": "Final response to human"
}
```

Begin! Reminder to ALWAYS respond with a valid json blob of a single action. Use tools if necessary. Respond directly if appropriate. Format is Action:```$JSON_BLOB```then Observation:."""  # noqa: E501

CHAT_PROMPT = _FORMAT + "\n"
COMPLETION_PROMPT = (
    _FORMAT + "\n{{historic_messages}}\nQuestion: {{query}}\n{{agent_scratchpad}}\nThought:"
)

# Providers whose models reject "Observation" as a stop word (Dify's list).
IGNORE_OBSERVATION_PROVIDERS = ("wenxin",)
OBSERVATION_STOP = "Observation"


def fill(template: str, instruction: str, tools: list[dict[str, Any]]) -> str:
    return (
        template.replace("{{instruction}}", instruction)
        .replace("{{tools}}", json.dumps(tools))
        .replace("{{tool_names}}", ", ".join(str(tool["name"]) for tool in tools))
    )
