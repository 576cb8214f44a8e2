"""OpenAPI tools (`provider_type: api`): one tool per operation of an operator-mapped
OpenAPI document, called through the SSRF guard."""

from app.integrations.tools.openapi.provider import OpenApiToolProvider

__all__ = ["OpenApiToolProvider"]
