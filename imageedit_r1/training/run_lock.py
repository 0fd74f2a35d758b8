"""One training process per output directory.

Two trainers writing one ``--out`` corrupt each other: each prunes checkpoints the other is about
to load, and both write ``final/``. That happens easily: a sweep is started again while the first
is still running (a resumed job whose earlier copy did not die), and the second resumes from the
newest checkpoint beside the first. So ``ieval train sft``, ``grpo`` and ``pipeline`` claim their
output directory before they read or write anything in it, and a second claim is refused at once
with the holder's pid, host and start time.

The claim is an advisory ``flock`` on ``OUT/.train.lock``. The kernel drops it when the holding
process ends in any way, ``kill -9`` included, so a crashed run never leaves a stale claim and
its rerun resumes at once. It holds between processes of one kernel (also across containers that
share the directory); network file systems may not honour it between hosts. Under a
multi-process launch (``accelerate launch``, ``torchrun``) only rank 0 claims the directory: the
other ranks of the same run write it too, by design.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import IO

LOCK_FILE = ".train.lock"
BUSY_EXIT = 75  # EX_TEMPFAIL (sysexits.h): try again once the other process has finished


class RunBusy(RuntimeError):
    """The output directory is claimed by another live training process."""


class RunLock:
    """A held claim on one output directory; release it with ``release()`` or a ``with`` block."""

    def __init__(self, out: Path, handle: IO[str] | None) -> None:
        self.out = out
        self._handle = handle

    @property
    def held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


def is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"


def claim_run(out: Path) -> RunLock:
    """Claim ``out`` for this process, or raise :class:`RunBusy` naming the process that holds it."""
    if not is_main_process():
        return RunLock(out, None)
    out.mkdir(parents=True, exist_ok=True)
    handle = (out / LOCK_FILE).open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "holder unknown"
        handle.close()
        raise RunBusy(
            f"{out} is being trained by another process ({holder}); "
            "wait for it to end, or give this run another --out"
        ) from None
    handle.seek(0)
    handle.truncate()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n")
    handle.flush()
    return RunLock(out, handle)
