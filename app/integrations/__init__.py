"""What Kiln reaches outside a DSL for: tool providers (builtin, OpenAPI, MCP), knowledge
bases (Dify's External Knowledge API). Exports carry no schemas and no credentials, so an
operator maps them in one integrations file (`KILN_INTEGRATIONS_FILE`)."""
