"""The libc calls the sandbox's confinement makes (prctl, syscall), with errors as OSError."""

import ctypes
import os

PR_SET_NO_NEW_PRIVS = 38


def libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result
