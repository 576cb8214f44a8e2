"""Knowledge bases behind Dify's External Knowledge API: exports name datasets by opaque
ids, the integrations file's `knowledge` section maps each id to a retrieval service, and
`ExternalKnowledge` asks that service (`POST {endpoint}/retrieval`) through the SSRF
guard."""
