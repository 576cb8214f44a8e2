"""`parameter-extractor` nodes."""
