"""One bench per results folder: an exclusive lock on ``--out`` for a bench's lifetime.

The lock is an ``flock`` on ``<out>/.ganzoo.lock``, which the kernel releases when the process dies,
however it dies (kill -9 and out-of-memory kills included): a lock file left behind by a dead bench is
stale and taken over, saying so. The file records host, pid and start time, so a refused bench can say
who holds the folder.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; the pid check below still refuses a live holder on this host
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".ganzoo.lock"


class LockHeld(ValueError):
    """Another live bench is writing the folder."""


class OutLock:
    def __init__(self, out: Path) -> None:
        self.path = Path(out) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> str | None:
        """Take the lock; returns a note when a stale lock was taken over. Raises LockHeld naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, previous = _try_lock(self.path)
        me = {"host": socket.gethostname(), "pid": os.getpid(), "started": datetime.now(timezone.utc).isoformat()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        self._fd = fd
        if previous and previous.get("pid") is not None:
            return f"took over the stale lock of a bench that is gone ({_describe(previous)})"
        return None

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)  # an empty lock file is a free folder
        finally:
            os.close(self._fd)  # releases the flock
            self._fd = None

    def __enter__(self) -> OutLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def live_holder(out: Path) -> str | None:
    """Why ``out`` cannot be taken now (a live bench holds it), or None. Only looks: a stale lock file
    is left as it is, so the bench that takes it over can say whose it was."""
    path = Path(out) / LOCK_FILE
    if not path.is_file():
        return None
    try:
        fd, _ = _try_lock(path)
    except LockHeld as exc:
        return str(exc)
    except OSError:
        return None
    os.close(fd)  # releases the flock, writes nothing
    return None


def _try_lock(path: Path) -> tuple[int, dict | None]:
    """Open the lock file and lock it: (its descriptor, the holder it names, live or stale). Raises
    LockHeld when a live bench holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    previous = _holder(fd)
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise LockHeld(
                f"--out {str(path.parent)!r} is being written by another bench ({_describe(previous)}); "
                "wait for it, or choose another folder"
            ) from None
    elif previous and previous.get("host") == socket.gethostname() and _alive(previous.get("pid")):
        os.close(fd)
        raise LockHeld(f"--out {str(path.parent)!r} is being written by another bench ({_describe(previous)})")
    return fd, previous


def _holder(fd: int) -> dict | None:
    try:
        raw = os.pread(fd, 4096, 0)
        obj = json.loads(raw) if raw.strip() else None
        return obj if isinstance(obj, dict) else None
    except (OSError, ValueError):
        return None


def _describe(holder: dict | None) -> str:
    if not holder:
        return "holder unknown"
    return f"pid {holder.get('pid')} on {holder.get('host')}, since {holder.get('started')}"


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except OSError:
        return False
