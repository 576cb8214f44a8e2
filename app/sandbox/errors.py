"""Errors the sandbox raises; `message` is what a node failure shows to the user."""


class SandboxError(Exception):
    """User code, a template or the sandbox itself failed; `message` is user-facing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SandboxTimeoutError(SandboxError):
    """The call ran past its wall-clock or CPU time limit and was killed."""


class SandboxUnsupportedError(SandboxError):
    """The kernel lacks what confinement needs (seccomp, Landlock): nothing runs."""


class SandboxOutputTooLargeError(SandboxError):
    """The result (or a rendered template) is larger than allowed."""


class SandboxUnavailableError(SandboxError):
    """The sandbox cannot take calls (a worker failed to start, a remote service is down)."""
