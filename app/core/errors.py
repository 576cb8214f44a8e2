"""Dify's error body `{code, message, status}` and the exceptions that produce it."""

STOCK_MESSAGES = {
    400: "The browser (or proxy) sent a request that this server could not understand.",
    401: "The server could not verify that you are authorized to access the URL requested.",
    403: "You don't have the permission to access the requested resource. It is either "
    "read-protected or not readable by the server.",
    404: "The requested URL was not found on the server. If you entered the URL manually "
    "please check your spelling and try again.",
    405: "The method is not allowed for the requested URL.",
    415: "The server does not support the media type transmitted in the request.",
    503: "The server is temporarily unable to service your request due to maintenance "
    "downtime or capacity problems. Please try again later.",
}


class DifyError(Exception):
    """An API error with Dify's code, default message and HTTP status."""

    code = "unknown"
    status = 500
    default_message = "Internal Server Error"
    headers: dict[str, str] | None = None  # extra response headers (e.g. Retry-After)

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)


def _error(code: str, status: int, default: str) -> type[DifyError]:
    name = "".join(part.capitalize() for part in code.split("_")) + "Error"
    return type(name, (DifyError,), {"code": code, "status": status, "default_message": default})


InvalidParam = _error("invalid_param", 400, "Invalid parameter.")
BadRequest = _error("bad_request", 400, STOCK_MESSAGES[400])
Unauthorized = _error("unauthorized", 401, STOCK_MESSAGES[401])
Forbidden = _error("forbidden", 403, STOCK_MESSAGES[403])
NotFound = _error("not_found", 404, STOCK_MESSAGES[404])
AppUnavailable = _error(
    "app_unavailable", 400, "App unavailable, please check your app configurations."
)
NotChatApp = _error(
    "not_chat_app", 400, "Please check if your app mode matches the right API route."
)
NotCompletionApp = _error(
    "not_completion_app",
    400,
    "Please check if your Completion app mode matches the right API route.",
)
NotWorkflowApp = _error(
    "not_workflow_app", 400, "Please check if your app mode matches the right API route."
)
ConversationCompleted = _error(
    "conversation_completed", 400, "The conversation has ended. Please start a new conversation."
)
ProviderNotInitialize = _error(
    "provider_not_initialize",
    400,
    "No valid model provider credentials found. Please go to Settings -> Model Provider to "
    "complete your provider credentials.",
)
ProviderQuotaExceeded = _error(
    "provider_quota_exceeded",
    400,
    "Your quota for Dify Hosted OpenAI has been exhausted. Please go to Settings -> Model "
    "Provider to complete your own provider credentials.",
)
ModelCurrentlyNotSupport = _error(
    "model_currently_not_support",
    400,
    "Dify Hosted OpenAI trial currently not support the GPT-4 model.",
)
CompletionRequestError = _error("completion_request_error", 400, "Completion request failed.")
RateLimitError = _error("rate_limit_error", 429, "Rate Limit Error")
# Human input forms (Dify's services/human_input_service.py).
FormSubmitted = _error("human_input_form_submitted", 412, "This form has already been submitted")
FormExpired = _error("human_input_form_expired", 412, "This form has expired")
InvalidFormData = _error("invalid_form_data", 400, "Invalid form data")
TooManyRequests = _error("too_many_requests", 429, "Too many requests. Please try again later.")


class ServiceUnavailable(DifyError):
    """Werkzeug's 503 as Dify's error handler renders it; Kiln answers it when no database
    connection frees up within KILN_DATABASE_POOL_TIMEOUT, instead of hanging on."""

    code = "service_unavailable"
    status = 503
    default_message = STOCK_MESSAGES[503]
    headers = {"Retry-After": "1"}


def error_body(code: str, message: str, status: int) -> dict[str, object]:
    return {"code": code, "message": message, "status": status}
