"""Renders a Jinja2 template inside a confined child: `SandboxedEnvironment` (no
autoescape), `render(**variables)` as Dify does, output capped in characters."""

from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from app.sandbox.python_runner import UserCodeError

_ENVIRONMENT = SandboxedEnvironment(autoescape=False)


class TemplateTooLongError(UserCodeError):
    """The rendered text is longer than allowed."""


def render(template: str, variables: dict[str, Any], max_length: int) -> str:
    try:
        output = _ENVIRONMENT.from_string(template).render(**variables)
    except MemoryError:
        raise UserCodeError("The template ran out of memory") from None
    except Exception as exc:  # noqa: BLE001 - any template failure is reported
        raise UserCodeError(f"{type(exc).__name__}: {exc}") from None
    if len(output) > max_length:
        raise TemplateTooLongError(f"Output length exceeds {max_length} characters")
    return output
