"""Agents: Dify's two built-in strategies (function calling and ReAct) over the tool
runtime, shared by classic agent-chat apps and the workflow `agent` node. A strategy knows
no events: it reports rounds, text, tool calls and observations to a listener, and the
caller (app/engine/agent_chat.py, nodes/agent/) turns them into Dify's events."""
