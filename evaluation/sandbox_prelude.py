"""The prelude of evaluation/sandbox.py: Python source run inside the child (``python -I -c PRELUDE program.py``)
before the untrusted program. It blocks process creation, sockets, ctypes, rlimit changes and writes outside the
temporary directory, then runs the program as ``__main__``. A string, never imported as code by the parent."""

PRELUDE = r"""
import builtins, io, os, sys

_ROOT = os.path.realpath(os.getcwd())
_MARK = "blocked by the sandbox"


def _blocked(what):
    def deny(*args, **kwargs):
        raise PermissionError(f"{what} is {_MARK}")
    return deny


def _inside(path):
    if isinstance(path, int):
        return True  # an already open descriptor: opening it was checked
    real = os.path.realpath(os.fsdecode(path))
    return real == _ROOT or real.startswith(_ROOT + os.sep) or real == os.devnull


def _guard_path(fn, what, writes=lambda *a, **k: True):
    def guarded(path, *args, **kwargs):
        if writes(path, *args, **kwargs) and not _inside(path):
            raise PermissionError(f"{what} outside the sandbox directory ({os.fsdecode(path)!r}) is {_MARK}")
        return fn(path, *args, **kwargs)
    return guarded


def _guard_two(fn, what):
    def guarded(src, dst, *args, **kwargs):
        for p in (src, dst):
            if not _inside(p):
                raise PermissionError(f"{what} outside the sandbox directory ({os.fsdecode(p)!r}) is {_MARK}")
        return fn(src, dst, *args, **kwargs)
    return guarded


def _open_writes(path, mode="r", *args, **kwargs):
    return any(c in str(mode) for c in "wax+")


def _os_open_writes(path, flags, *args, **kwargs):
    return bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC))


import posix
for _mod in (os, posix):
    for _name in (
        "fork", "forkpty", "vfork", "system", "popen", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv",
        "spawnve", "spawnvp", "spawnvpe", "posix_spawn", "posix_spawnp", "execl", "execle", "execlp", "execlpe",
        "execv", "execve", "execvp", "execvpe", "kill", "killpg", "setsid", "setpgid", "setpgrp", "setuid",
        "setgid", "setreuid", "setregid", "setresuid", "setresgid", "chroot", "unshare", "setns", "pidfd_open",
    ):
        if hasattr(_mod, _name):
            setattr(_mod, _name, _blocked(f"os.{_name}"))

import _posixsubprocess
_posixsubprocess.fork_exec = _blocked("starting a process")
import subprocess
for _name in ("Popen", "run", "call", "check_call", "check_output", "getoutput", "getstatusoutput"):
    setattr(subprocess, _name, _blocked(f"subprocess.{_name}"))
try:
    import pty
    pty.fork = pty.spawn = _blocked("pty")
except ImportError:
    pass

import _socket, socket


class _NoSocket:
    def __init__(self, *args, **kwargs):
        raise PermissionError(f"network access is {_MARK}")


for _mod in (socket, _socket):
    _mod.socket = _NoSocket
    for _name in ("create_connection", "create_server", "socketpair", "fromfd", "getaddrinfo", "gethostbyname"):
        if hasattr(_mod, _name):
            setattr(_mod, _name, _blocked("network access"))

import resource
resource.setrlimit = _blocked("changing resource limits")
resource.prlimit = _blocked("changing resource limits")

for _name in ("ctypes", "_ctypes", "cffi", "_cffi_backend", "mmap"):
    sys.modules[_name] = None

builtins.open = _guard_path(builtins.open, "writing", _open_writes)
io.open = builtins.open


class _FileIO(io.FileIO):
    def __init__(self, file, mode="r", *args, **kwargs):
        if _open_writes(file, mode) and not _inside(file):
            raise PermissionError(f"writing outside the sandbox directory ({file!r}) is {_MARK}")
        super().__init__(file, mode, *args, **kwargs)


io.FileIO = _FileIO
for _mod in (os, posix):
    _mod.open = _guard_path(_mod.open, "writing", _os_open_writes)
    for _name in ("remove", "unlink", "rmdir", "removedirs", "mkdir", "makedirs", "chmod", "chown", "lchown",
                  "truncate", "utime", "mkfifo", "mknod"):
        if hasattr(_mod, _name):
            setattr(_mod, _name, _guard_path(getattr(_mod, _name), f"os.{_name}"))
    for _name in ("rename", "replace", "link", "symlink", "renames"):
        if hasattr(_mod, _name):
            setattr(_mod, _name, _guard_two(getattr(_mod, _name), f"os.{_name}"))
import shutil
shutil.rmtree = _guard_path(shutil.rmtree, "shutil.rmtree")

del _mod, _name
_path = sys.argv[1]
with io.open_code(_path) as _f:
    _code = compile(_f.read(), "program.py", "exec")
sys.argv = ["program.py"]
_globals = {"__name__": "__main__", "__builtins__": builtins}
del _f, _path
exec(_code, _globals)
"""
