"""The sandbox child's seccomp allow-list (no sockets, no exec, no new processes): built
once per worker as a classic BPF program, loaded in each child with its own pid.

Everything here runs in the worker or its forked child, never in the server process."""

import ctypes
import errno
import os
import sys
from typing import Any

from app.sandbox.libc import PR_SET_NO_NEW_PRIVS as _PR_SET_NO_NEW_PRIVS
from app.sandbox.libc import check as _check
from app.sandbox.libc import libc as _libc

_PR_SET_NAME = 15
_PR_GET_NAME = 16
_PR_SET_VMA = 0x53564D41

_CLONE_THREAD = 0x00010000
_AF_UNIX = 1
# ioctl requests user code may need on its own descriptors: TCGETS, TIOCGWINSZ (isatty,
# terminal size), FIONBIO (non-blocking), FIONCLEX, FIOCLEX.
_IOCTL_ALLOWED = (0x5401, 0x5413, 0x5421, 0x5450, 0x5451)

# Everything a confined Python interpreter or V8 needs; the rest fails with EPERM.
_ALLOWED_SYSCALLS = (
    # files (Landlock decides which paths; writes are refused there)
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "preadv2", "pwritev2", "close", "lseek", "fstat", "newfstatat", "stat", "lstat", "statx",
    "fstatfs", "statfs", "getdents64", "getdents", "openat", "open", "access", "faccessat",
    "faccessat2", "readlink", "readlinkat", "getcwd", "chdir", "fchdir", "fcntl", "dup",
    "dup2", "dup3", "fadvise64", "umask", "pipe", "pipe2", "close_range",
    # memory
    "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "membarrier", "mincore",
    "pkey_alloc", "pkey_free", "pkey_mprotect",
    # threads and synchronisation (clone is allowed below for threads only)
    "futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "set_tid_address",
    "sched_yield", "sched_getaffinity", "sched_getparam", "sched_getscheduler",
    "sched_get_priority_max", "sched_get_priority_min", "getcpu", "arch_prctl",
    # identity and limits (reading only)
    "gettid", "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups",
    "getresuid", "getresgid", "getpgrp", "getpgid", "getsid", "getrusage", "times",
    "sysinfo", "uname", "getrandom",
    # signals (kill and tgkill are allowed below for the process itself only)
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
    "rt_sigsuspend", "sigaltstack", "restart_syscall", "getitimer", "setitimer", "alarm",
    # time
    "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
    # waiting on descriptors the process already has
    "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "timerfd_create",
    "timerfd_settime", "timerfd_gettime",
    # an existing socket pair (socketpair below, AF_UNIX only): V8's and asyncio's wake-ups
    "sendto", "recvfrom", "getsockname", "shutdown",
    "exit", "exit_group",
)  # fmt: skip

# Stands for the child's pid in the filter built once per worker; patched per child.
# Above any pid (PID_MAX_LIMIT is 2**22) and unlike every other constant in the filter.
_PID_PLACEHOLDER = 0x3FFFFFF1
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


def build_seccomp_program() -> bytes:
    """The allow-list as a classic BPF program (built once per worker with libseccomp;
    building it costs ~6 ms, loading it ~0.1 ms): anything not listed fails with EPERM;
    clone3 fails with ENOSYS so glibc falls back to clone, allowed for threads only."""
    import pyseccomp as sc

    flt: Any = sc.SyscallFilter(sc.ERRNO(errno.EPERM))
    for name in _ALLOWED_SYSCALLS:
        try:
            flt.add_rule(sc.ALLOW, name)
        except (OSError, RuntimeError, ValueError):  # not a syscall on this architecture
            continue
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    flt.add_rule(sc.ALLOW, "clone", sc.Arg(0, sc.MASKED_EQ, _CLONE_THREAD, _CLONE_THREAD))
    flt.add_rule(sc.ALLOW, "socketpair", sc.Arg(0, sc.EQ, _AF_UNIX))
    flt.add_rule(sc.ALLOW, "kill", sc.Arg(0, sc.EQ, _PID_PLACEHOLDER))
    flt.add_rule(sc.ALLOW, "tgkill", sc.Arg(0, sc.EQ, _PID_PLACEHOLDER))
    # Its own limits only; without capabilities a limit can only be lowered.
    flt.add_rule(sc.ALLOW, "prlimit64", sc.Arg(0, sc.EQ, 0))
    for request in _IOCTL_ALLOWED:
        flt.add_rule(sc.ALLOW, "ioctl", sc.Arg(1, sc.EQ, request))
    for option in (_PR_SET_NAME, _PR_GET_NAME, _PR_SET_VMA):
        flt.add_rule(sc.ALLOW, "prctl", sc.Arg(0, sc.EQ, option))
    read_fd, write_fd = os.pipe()
    try:
        with os.fdopen(write_fd, "wb", closefd=False) as sink:
            flt.export_bpf(sink)
        os.close(write_fd)
        write_fd = -1
        program = b""
        while chunk := os.read(read_fd, 1 << 16):
            program += chunk
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)
    if not program or len(program) % 8 or _pid_slots(program) == []:
        raise OSError(errno.EINVAL, "the seccomp filter could not be built")
    return program


def _pid_slots(program: bytes) -> list[int]:
    """Offsets of the instructions comparing with the pid placeholder."""
    placeholder = _PID_PLACEHOLDER.to_bytes(4, sys.byteorder)
    return [i for i in range(0, len(program), 8) if program[i + 4 : i + 8] == placeholder]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_seccomp_program(program: bytes, own_pid: int) -> None:
    """Load the worker's filter with this process's pid in place of the placeholder."""
    code = bytearray(program)
    pid = own_pid.to_bytes(4, sys.byteorder)
    for offset in _pid_slots(program):
        code[offset + 4 : offset + 8] = pid
    buffer = (ctypes.c_char * len(code)).from_buffer(code)
    prog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = _libc()
    _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    _check(
        libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0),
        "prctl(SET_SECCOMP)",
    )
