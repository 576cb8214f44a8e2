"""Confinement of a sandbox child before user code runs: resource limits, Landlock
(read-only access to the interpreter's files, no network ports, no signals or abstract
sockets outside), dropped capabilities, and a seccomp allow-list (no sockets, no exec, no
new processes; seccomp.py). `check_support()` tells why confinement is unavailable on this kernel.

Everything here runs in the worker or its forked child, never in the server process."""

import ctypes
import errno
import os
import platform
import resource
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass

from app.sandbox.libc import PR_SET_NO_NEW_PRIVS as _PR_SET_NO_NEW_PRIVS
from app.sandbox.libc import check as _check
from app.sandbox.libc import libc as _libc
from app.sandbox.seccomp import load_seccomp_program

# Linux syscall numbers (identical on x86_64 and aarch64 for Landlock).
_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1

# Landlock filesystem rights (ABI 1 has bits 0-12; REFER 13 from ABI 2, TRUNCATE 14 from
# ABI 3, IOCTL_DEV 15 from ABI 5).
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
# Network rights (ABI 4): bind and connect TCP. Scopes (ABI 6): abstract unix sockets, signals.
_NET_BIND_TCP = 1 << 0
_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
_SCOPE_SIGNAL = 1 << 1

_PR_SET_PDEATHSIG = 1
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_PR_GET_SECCOMP = 21
_CAPSET = {"x86_64": 126, "aarch64": 91}
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

# What V8 writes beyond its heap: its code range reservation and its own bookkeeping.
V8_RESERVATION_BYTES = 1024 << 20


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox child."""

    max_open_files: int = 64
    max_processes: int = 512  # RLIMIT_NPROC (threads count too; ignored for uid 0)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is missing or disabled."""
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    result = int(
        libc.syscall(
            ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET),
            None,
            ctypes.c_size_t(0),
            ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION),
        )
    )
    return max(result, 0)


def check_support(simulate_unsupported: str | None = None) -> str | None:
    """Why confinement cannot be applied here, or None when it can.

    `simulate_unsupported` (tests only) pretends the named feature is missing."""
    if simulate_unsupported:
        return f"{simulate_unsupported} is not available (simulated)"
    if sys.platform != "linux":
        return f"the code sandbox needs Linux, this is {sys.platform}"
    if platform.machine() not in _CAPSET:
        return f"the code sandbox supports x86_64 and aarch64, not {platform.machine()}"
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, RuntimeError) as exc:
        return f"seccomp is not available (libseccomp: {exc})"
    libc = _libc()
    if libc.prctl(_PR_GET_SECCOMP, 0, 0, 0, 0) < 0:
        return "seccomp is not available (the kernel was built without it)"
    abi = landlock_abi()
    if abi < 1:
        err = ctypes.get_errno()
        why = "disabled at boot" if err == errno.EOPNOTSUPP else "not in this kernel"
        return f"Landlock is not available ({why}; Linux 5.13+ with Landlock enabled is needed)"
    return None


def read_paths() -> list[str]:
    """Paths user code may read (besides its own /proc entry): the interpreter's standard
    library and installed packages (never the checkout itself), shared libraries and
    time zones. Computed once per worker (sysconfig is slow)."""
    candidates: list[str] = []
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        candidates.append(paths[key])
    candidates += [
        "/usr/lib",
        "/usr/lib64",
        "/lib",
        "/lib64",
        "/usr/share/zoneinfo",
        "/etc/ld.so.cache",
        "/etc/localtime",
    ]
    seen: list[str] = []
    for path in candidates:
        if path and os.path.exists(path) and path not in seen:
            seen.append(path)
    return seen


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def apply_landlock(readable: Iterable[str]) -> int:
    """Restrict this process (and threads it starts later) to reading `readable`; no
    writes anywhere, no TCP bind/connect (ABI 4+), no signals or abstract unix sockets
    outside the sandbox (ABI 6+). Returns the ABI used."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError(errno.ENOSYS, "Landlock is not available")
    fs_rights = _FS_RIGHTS_BY_ABI[max(v for v in _FS_RIGHTS_BY_ABI if v <= abi)]
    attr = _RulesetAttr(fs_rights, 0, 0)
    size = 8
    if abi >= 4:
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL
        size = 24
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    ruleset = _check(
        int(
            libc.syscall(
                ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET),
                ctypes.byref(attr),
                ctypes.c_size_t(size),
                ctypes.c_uint32(0),
            )
        ),
        "landlock_create_ruleset",
    )
    try:
        for path in readable:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                is_dir = os.path.isdir(path)
                rights = _FS_READ_FILE | (_FS_READ_DIR if is_dir else 0)
                rule = _PathBeneathAttr(rights, fd)
                _check(
                    int(
                        libc.syscall(
                            ctypes.c_long(_SYS_LANDLOCK_ADD_RULE),
                            ctypes.c_int(ruleset),
                            ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH),
                            ctypes.byref(rule),
                            ctypes.c_uint32(0),
                        )
                    ),
                    f"landlock_add_rule({path})",
                )
            finally:
                os.close(fd)
        _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
        _check(
            int(
                libc.syscall(
                    ctypes.c_long(_SYS_LANDLOCK_RESTRICT_SELF),
                    ctypes.c_int(ruleset),
                    ctypes.c_uint32(0),
                )
            ),
            "landlock_restrict_self",
        )
    finally:
        os.close(ruleset)
    return abi


def apply_fixed_rlimits(limits: Limits) -> None:
    """Limits that do not depend on the call: descriptors, processes, file size, core dumps."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.max_open_files, limits.max_open_files))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_MEMLOCK, (0, 0))
    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))


def apply_call_rlimits(memory_bytes: int, cpu_seconds: int, *, javascript: bool) -> None:
    """Memory and CPU for one call, set by the already confined child once it knows the
    call (soft = hard, and without capabilities they can only go down from here). V8
    reserves far more address space than it uses (a ~512 MB code range), so JavaScript
    children cap RLIMIT_DATA (writable memory) with that reservation added instead of
    RLIMIT_AS; V8's own heap limit is `memory_bytes`."""
    if javascript:
        data = memory_bytes + V8_RESERVATION_BYTES
        resource.setrlimit(resource.RLIMIT_DATA, (data, data))
    else:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_capabilities() -> None:
    """Drop every capability (a root worker's child keeps uid 0 but no privilege: it can
    no longer raise its limits, bypass file permissions or signal other users)."""
    libc = _libc()
    _check(libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient")
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    libc.syscall.restype = ctypes.c_long
    _check(
        int(libc.syscall(ctypes.c_long(_CAPSET[platform.machine()]), ctypes.byref(header), data)),
        "capset",
    )


def die_with_parent(parent_pid: int) -> None:
    """SIGKILL this process when its parent exits (and exit now if it already has)."""
    import signal

    _check(_libc().prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0), "PDEATHSIG")
    if os.getppid() != parent_pid:
        os._exit(1)


def confine(limits: Limits, readable: list[str], seccomp_program: bytes) -> None:
    """Confine the calling (single-threaded) process for good, in this order: fixed
    limits, capabilities, Landlock (`readable` plus its own /proc entry), seccomp (the
    program from `seccomp.build_seccomp_program`). Raises OSError if any step fails; the caller
    must then not run user code."""
    own_pid = os.getpid()
    apply_fixed_rlimits(limits)
    drop = os.geteuid() == 0 or _has_capabilities()
    apply_landlock([*readable, f"/proc/{own_pid}"])
    if drop:
        drop_capabilities()
    load_seccomp_program(seccomp_program, own_pid)


def _has_capabilities() -> bool:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16) != 0
    except OSError:
        return True
    return False
