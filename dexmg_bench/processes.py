"""Worker processes that never outlive the job that started them.

Generation, rendering, evaluation and training start worker processes; a job killed with
``kill -9`` (or a closed terminal) must not leave them running, finishing work nobody reads and
printing ``BrokenPipeError`` when they try to hand it back. Plain ``os``/``ctypes``: any layer
may import it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent_pid: int) -> None:
    """End this worker process at once, silently, when process ``parent_pid`` (its parent) dies.

    On Linux the kernel sends SIGKILL (``PR_SET_PDEATHSIG``); elsewhere a daemon thread polls
    the parent id every second. A parent that died before this call is caught by the check at
    the end.
    """
    libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
    if libc is None or libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:
        os._exit(0)


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(0)
