"""`question-classifier` nodes."""
