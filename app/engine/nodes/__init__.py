"""Workflow node types, one package each; `registry.py` maps a DSL type id to its class."""
