"""The one mapping from a model-gateway failure to the Dify error a client sees, for
streams, blocking answers and the audio endpoints alike."""

from app.core import errors
from app.engine.knowledge.classic import RetrievalFailure
from app.engine.moderation.base import ModerationFailure
from app.gateway.types import (
    GatewayError,
    ProviderNotInitialized,
    UpstreamAuthFailed,
    UpstreamRateLimited,
)

INCORRECT_API_KEY = "Incorrect API key provided"


def dify_error(exc: GatewayError, *, blocking: bool = False) -> errors.DifyError:
    """Dify's stream mapping makes every model invoke error a `completion_request_error`;
    only a blocking answer keeps the Service API's 429 for a provider rate limit."""
    if isinstance(exc, ModerationFailure | RetrievalFailure):  # Dify: a ValueError → invalid_param
        return errors.InvalidParam(str(exc))
    if isinstance(exc, ProviderNotInitialized):
        return errors.ProviderNotInitialize(str(exc))
    if isinstance(exc, UpstreamAuthFailed):  # Dify tells nothing more of a refused key
        return errors.CompletionRequestError(INCORRECT_API_KEY)
    if blocking and isinstance(exc, UpstreamRateLimited):
        return errors.RateLimitError(str(exc))
    return errors.CompletionRequestError(str(exc))


def error_triple(error: errors.DifyError) -> tuple[str, str, int]:
    """`(code, message, status)` as an `error` event carries them."""
    return error.code, error.message, error.status
