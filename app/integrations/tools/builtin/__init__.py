"""Native builtin tools under Dify's provider and tool names (one module per provider)."""
