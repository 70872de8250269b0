"""Where attempts run: in this process, a local process pool, or Ray actors.

Every backend yields attempts in the order of the items it was given, and an attempt is a pure
function of (seed, index), so the job's result does not depend on the backend or worker count.
Each worker (process or actor) builds its env and generator once and reuses them.

Ray is optional (``pip install "dexmg-bench[ray]"``) and imported only when ``--backend ray`` is
asked for. With ``address`` the job joins an existing cluster (``ray.init(address=...)``); without
it, it starts a local Ray with ``workers`` CPUs. A Ray session that is already initialized (a
notebook, a test session) is used as it is and left running.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
from collections.abc import Iterator
from typing import Any

from dexmg_bench.generators.execute import Attempt
from dexmg_bench.generators.job import GenerateConfig, build_generator

_WORKER: Any = None


def _init_worker(config: GenerateConfig) -> None:
    global _WORKER  # noqa: PLW0603  (one generator and env per worker process, built once)
    _WORKER = build_generator(config)


def _init_pool_worker(config: GenerateConfig) -> None:
    # Ctrl-C reaches the whole process group; the parent alone handles it (and terminates the
    # pool), so the workers do not each print a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(config)


def _run_attempt(args: tuple[int, int]) -> Attempt:
    seed, index = args
    return _WORKER.attempt(seed, index)


def map_attempts(config: GenerateConfig, items: Iterator[tuple[int, int]]) -> Iterator[Attempt]:
    """Run ``(seed, index)`` items on the config's backend; results come in item order."""
    if config.backend == "ray":
        yield from _ray_map(config, items)
    elif config.workers == 1:
        _init_worker(config)
        for item in items:
            yield _run_attempt(item)
    else:
        ctx = mp.get_context("spawn")  # fresh interpreters: no inherited MuJoCo/OpenGL state
        with ctx.Pool(config.workers, initializer=_init_pool_worker, initargs=(config,)) as pool:
            yield from pool.imap(_run_attempt, items, chunksize=1)


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


def _ray_map(config: GenerateConfig, items: Iterator[tuple[int, int]]) -> Iterator[Attempt]:
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
        yield from pool.map(lambda actor, item: actor.attempt.remote(*item), items)
    finally:
        for actor in actors:
            ray.kill(actor)
        if started:
            ray.shutdown()
