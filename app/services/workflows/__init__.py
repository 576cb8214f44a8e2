"""Graph apps (workflow and advanced-chat): starting runs, their records, their streams."""
