"""A workflow graph read from the DSL: nodes, edges, containers, and what cannot run."""
