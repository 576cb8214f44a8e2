"""The workflow `agent` node: Dify's agent strategy plugins' function calling and ReAct on
Kiln's own strategies (app/engine/agents)."""
