"""Running a workflow graph: scheduling, answer streaming, events, limits."""
