"""`llm` nodes, and the model-call pieces the classifier and extractor share."""
