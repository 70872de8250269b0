"""Named places where a test may kill the process, to check that every write survives ``kill -9``.

The crash-safety tests run ``dexmg generate`` in a subprocess with
``DEXMG_TEST_KILL_AT=<point>[:<k>]``: the ``k``-th time (default the first) the process reaches
``crash_point("<point>")`` it sends itself SIGKILL, exactly what ``kill -9`` does, but at a
known place instead of a random one. Unset, as it is outside those tests, a call costs one
environment lookup. The points:

* ``episode-part``: an episode file is written under its temporary name, not yet renamed;
* ``output-part``: the job's final HDF5 file is written under its temporary name;
* ``minari-episode``: a Minari dataset is being written, before its ``k``-th episode.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV_VAR = "DEXMG_TEST_KILL_AT"
POINTS = ("episode-part", "output-part", "minari-episode")

_reached: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL if ``DEXMG_TEST_KILL_AT`` names this visit of ``name``."""
    wanted = os.environ.get(ENV_VAR)
    if not wanted:
        return
    point, _, k = wanted.partition(":")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] == int(k or 1):
        os.kill(os.getpid(), signal.SIGKILL)
