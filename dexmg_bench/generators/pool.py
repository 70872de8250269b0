"""Where attempts run: in this process, a local process pool, or Ray actors.

Every backend yields attempts in the order of the items it was given, and an attempt is a pure
function of (seed, index), so the job's result does not depend on the backend or worker count.
Each worker (process or actor) builds its env and generator once and reuses them.

Ray is optional (``pip install "dexmg-bench[ray]"``) and imported only when ``--backend ray`` is
asked for. With ``address`` the job joins an existing cluster (``ray.init(address=...)``); without
it, it starts a local Ray with ``workers`` CPUs. A Ray session that is already initialized (a
notebook, a test session) is used as it is and left running.

``should_stop`` (the flag SIGINT/SIGTERM set) is polled between results, and every
``POLL_SECONDS`` while attempts run in workers or actors, so a stop request never waits for an
attempt to finish there. Pool workers die with the job process: ``kill -9`` of the job leaves no
orphan that would finish its attempt and print a ``BrokenPipeError`` on sending the result.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

from dexmg_bench.generators.execute import Attempt
from dexmg_bench.generators.job import GenerateConfig, build_generator
from dexmg_bench.processes import die_with_parent

POLL_SECONDS = 0.2  # longest wait before a stop request is seen while workers run attempts
_WORKER: Any = None


def _never() -> bool:
    return False


def _init_worker(config: GenerateConfig) -> None:
    global _WORKER  # noqa: PLW0603  (one generator and env per worker process, built once)
    _WORKER = build_generator(config)


def _init_pool_worker(config: GenerateConfig, parent_pid: int) -> None:
    die_with_parent(parent_pid)
    # Ctrl-C reaches the whole process group; the parent alone handles it (and terminates the
    # pool), so the workers do not each print a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(config)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while the pool starts its workers, which inherit that.

    Python installs its KeyboardInterrupt handler only where SIGINT is not ignored, so a worker
    still importing when Ctrl-C reaches the process group prints no traceback. A Ctrl-C in these
    few milliseconds is lost for the job too (press it again); SIGTERM is not affected.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def _run_attempt(args: tuple[int, int]) -> Attempt:
    seed, index = args
    return _WORKER.attempt(seed, index)


def map_attempts(
    config: GenerateConfig,
    items: Iterator[tuple[int, int]],
    should_stop: Callable[[], bool] | None = None,
) -> Generator[Attempt, None, None]:
    """Run ``(seed, index)`` items on the config's backend; results come in item order.

    The results end early once ``should_stop()`` is true; closing the iterator then ends the
    workers (attempts in flight are lost, and run again when the job resumes).
    """
    stop = should_stop or _never
    if config.backend == "ray":
        yield from _ray_map(config, items, stop)
    elif config.workers == 1:
        _init_worker(config)
        for item in items:
            if stop():
                return
            yield _run_attempt(item)
    else:
        ctx = mp.get_context("spawn")  # fresh interpreters: no inherited MuJoCo/OpenGL state
        init = (config, os.getpid())
        with _sigint_ignored():
            pool = ctx.Pool(config.workers, initializer=_init_pool_worker, initargs=init)
        with pool:
            results = pool.imap(_run_attempt, items, chunksize=1)
            while not stop():
                try:
                    yield results.next(timeout=POLL_SECONDS)
                except mp.TimeoutError:
                    continue
                except StopIteration:
                    return


def require_ray() -> Any:
    """Import Ray, or say how to install it."""
    try:
        import ray
    except ImportError as err:
        raise ImportError(
            '--backend ray needs Ray: pip install "dexmg-bench[ray]" (or ray==2.60.0)'
        ) from err
    return ray


class _AttemptActor:
    """One Ray worker: builds its env and generator once, then runs attempts."""

    def __init__(self, config: GenerateConfig):
        self.generator = build_generator(config)

    def attempt(self, seed: int, index: int) -> Attempt:
        return self.generator.attempt(seed, index)


def _submit(actor: Any, item: tuple[int, int]) -> Any:
    return actor.attempt.remote(*item)


def _ray_map(
    config: GenerateConfig, items: Iterator[tuple[int, int]], stop: Callable[[], bool]
) -> Iterator[Attempt]:
    ray = require_ray()
    from ray.util import ActorPool

    started = not ray.is_initialized()
    if started:
        if config.address:
            ray.init(address=config.address, log_to_driver=False)
        else:
            ray.init(num_cpus=config.workers, include_dashboard=False, log_to_driver=False)
    actor_cls = ray.remote(num_cpus=1)(_AttemptActor)
    actors = [actor_cls.remote(config) for _ in range(config.workers)]
    try:
        pool = ActorPool(actors)
        for item in items:
            pool.submit(_submit, item)
        while pool.has_next() and not stop():
            try:
                yield pool.get_next(timeout=POLL_SECONDS)
            except TimeoutError:
                continue
    finally:
        for actor in actors:
            ray.kill(actor)
        if started:
            ray.shutdown()
