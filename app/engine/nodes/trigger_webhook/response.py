"""What an accepted webhook call is answered, as the node configures it (Dify's
`generate_webhook_response`): its status code, and its response body as JSON when it
reads as a JSON object or array, else wrapped as `{"message": …}`."""

import json
from typing import Any

from app.engine.nodes.trigger_webhook.entities import WebhookConfig

DEFAULT_BODY = {"status": "success", "message": "Webhook processed successfully"}


def configured_response(config: WebhookConfig) -> tuple[int, Any]:
    text = config.response_body
    if not text:
        return config.status_code, dict(DEFAULT_BODY)
    if text.strip().startswith(("{", "[")):
        try:
            return config.status_code, json.loads(text)
        except json.JSONDecodeError:
            pass
    return config.status_code, {"message": text}
