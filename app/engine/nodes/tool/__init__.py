"""The `tool` node: one tool call through the run's tool runtime."""
