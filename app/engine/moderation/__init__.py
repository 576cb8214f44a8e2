"""Dify's `sensitive_word_avoidance` feature: input and output moderation for classic apps
(keywords, OpenAI moderation, API-based extension)."""
