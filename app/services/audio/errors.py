"""Dify's audio error codes (service_api/app/error.py) and the gateway-error mapping the
audio endpoints use (Dify's audio controller has no rate-limit branch: an upstream 429 is
a `completion_request_error` there)."""

from app.core.errors import DifyError
from app.gateway.audio_types import SpeechModelMissing
from app.gateway.types import GatewayError
from app.services.model_errors import dify_error


class NoAudioUploaded(DifyError):
    code = "no_audio_uploaded"
    status = 400
    default_message = "Please upload your audio."


class AudioTooLarge(DifyError):
    code = "audio_too_large"
    status = 413
    default_message = "Audio size exceeded. {message}"


class UnsupportedAudioType(DifyError):
    code = "unsupported_audio_type"
    status = 415
    default_message = "Audio type not allowed."


class ProviderNotSupportSpeechToText(DifyError):
    code = "provider_not_support_speech_to_text"
    status = 400
    default_message = "Provider not support speech to text."


class ProviderNotSupportTextToSpeech(DifyError):
    code = "provider_not_support_text_to_speech"
    status = 400
    default_message = "Provider not support text to speech."


class BadRequestKeyError(DifyError):
    """Werkzeug's answer to a missing form part (`request.files["file"]`)."""

    code = "bad_request_key_error"
    status = 400
    default_message = "The browser (or proxy) sent a request that this server could not understand."


def from_gateway(exc: GatewayError, *, speech: bool = False) -> DifyError:
    """`speech`: the failed call was text-to-speech (else speech-to-text)."""
    if isinstance(exc, SpeechModelMissing):
        return ProviderNotSupportTextToSpeech() if speech else ProviderNotSupportSpeechToText()
    return dify_error(exc)
