"""Tool runtime and builtin tools, in-process against local servers."""
