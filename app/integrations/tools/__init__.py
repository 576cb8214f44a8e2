"""The tool runtime: one for workflow `tool` nodes, `agent` nodes and agent-chat apps."""
