"""``dexmg teleop``: record source demos by hand (or from a stored device session)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dexmg_bench.envs import TaskEntry

DEVICES = ("keyboard", "spacemouse", "replay")


def teleop(
    *,
    task: str = "Threading",
    variant: str = "D0",
    device: str = "keyboard",
    inputs: Path | None = None,
    out: Path = Path("out/teleop"),
    seed: int = 0,
    n: int = 1,
    keep_failures: bool = False,
) -> None:
    """Drive a task with a device and record source demos in the generator's format.

    Live devices show MuJoCo's viewer; `--device replay --inputs FILE` replays a stored device
    session (.npz) without a person or a display, as tests do. Subtask boundaries are marked with a
    key per arm (keyboard: n). Demos from a live device are labelled `human`, replayed ones
    `replayed`. Output: OUT/<task>-<variant>.hdf5 (plus OUT/inputs_<k>.npz for live sessions).

    Keys (keyboard): arrows move in x-y, . and ; move down/up, o/p yaw, y/h pitch, e/r roll,
    spacebar grasp, s switch arm, m mirror both arms, n mark boundary, enter keep, backspace
    discard, ctrl+q reset.

    Args:
        task: task name (see `dexmg envs`).
        variant: reset variant.
        device: keyboard, spacemouse or replay.
        inputs: the stored device session for --device replay.
        out: output folder.
        seed: reset seed of the first episode (episode k uses seed + k).
        n: live devices: episodes to keep.
        keep_failures: also keep episodes that did not succeed.
    """
    from dexmg_bench import __version__
    from dexmg_bench.datasets.source import SourceFile, write_source_file
    from dexmg_bench.envs import task_entry
    from dexmg_bench.errors import UserInputError, check_min

    if device not in DEVICES:
        raise UserInputError(f"unknown device {device!r}: use one of {', '.join(DEVICES)}.")
    if device == "replay" and inputs is None:
        raise UserInputError("--device replay needs --inputs FILE (a stored device session, .npz).")
    check_min("n", n, 1)
    check_min("seed", seed, 0)
    entry = task_entry(task)
    env_id = entry.env_id(variant)  # an unknown variant, before the env is built
    seq = _inputs(inputs, task, variant) if inputs is not None and device == "replay" else None
    env = entry.make_env(variant)
    if seq is not None:
        demos, origin = _replay(env, seq, keep_failures), "replayed"
    else:
        demos, origin = (
            _live(env, entry, device, out, seed=seed, n=n, keep_failures=keep_failures),
            "human",
        )
    if not demos:
        raise SystemExit("no demo kept (the episode did not succeed; --keep-failures keeps it).")
    path = out / f"{entry.slug}-{variant.lower()}.hdf5"
    write_source_file(path, SourceFile(env_id, task, variant, origin, __version__, tuple(demos)))
    for d in demos:
        marks = {a: b.tolist() for a, b in d.boundaries.items()}
        print(f"seed {d.seed}: {d.num_steps} steps, success={d.success}, boundaries {marks}")
    print(f"{len(demos)} {origin} demo(s) -> {path}")


def _inputs(inputs: Path, task: str, variant: str) -> Any:
    """The stored device session, checked against the task before any env is built."""
    from dexmg_bench.datasets.teleop import InputSequence
    from dexmg_bench.errors import UserInputError

    seq = InputSequence.load(inputs)
    if (seq.task, seq.variant) != (task, variant):
        raise UserInputError(
            f"{inputs} was recorded on {seq.task}-{seq.variant}, not {task}-{variant}."
        )
    return seq


def _replay(env, seq: Any, keep_failures: bool) -> list:
    from dexmg_bench.datasets.teleop import replay_inputs

    demo = replay_inputs(env, seq)
    return [demo] if demo.success or keep_failures else []


def _live(
    env, entry: TaskEntry, device: str, out: Path, *, seed: int, n: int, keep_failures: bool
) -> list:
    """Record episodes from a live device; ``entry`` is the task the env was built from."""
    import numpy as np

    from dexmg_bench.datasets.teleop import InputSequence, TeleopRecorder, step_sizes
    from dexmg_bench.sim.devices import KEYBOARD_HELP, DeviceError, LiveDevice, open_viewer

    arms = tuple(env.subtask_names)
    try:
        dev = LiveDevice(device, arms, *step_sizes(env))
        viewer = open_viewer(env.physics)
    except DeviceError as err:
        raise SystemExit(str(err)) from None
    print(KEYBOARD_HELP if device == "keyboard" else "SpaceMouse: buttons toggle grasp / reset")
    horizon = entry.horizon
    kept, k = [], 0
    try:
        while len(kept) < n and viewer.is_running():
            rec, log, verdict = TeleopRecorder(env, seed + k), [], ""
            while not verdict and rec.steps < horizon and viewer.is_running():
                t0 = time.perf_counter()
                dpos, drot, grasp, events = dev.read()
                rec.step(dpos, drot, grasp)
                log.append((dpos, drot, grasp))
                for event in events:
                    kind, arm = event.split(":")
                    if kind == "n":
                        rec.mark(arm)
                    else:
                        verdict = kind
                viewer.sync()
                time.sleep(max(0.0, 0.05 - (time.perf_counter() - t0)))  # about 20 Hz
            demo = rec.finish()
            if verdict != "backspace" and (demo.success or keep_failures):
                kept.append(demo)
                InputSequence(
                    task=entry.name, variant=env.config.variant,
                    seed=seed + k, dpos=np.array([x[0] for x in log]),
                    drot=np.array([x[1] for x in log]), grasp=np.array([x[2] for x in log]),
                    marks={a: tuple(m) for a, m in rec.marks.items()},
                ).save(out / f"inputs_{k}.npz")  # fmt: skip
            print(f"episode {k}: success={demo.success}, kept {len(kept)}/{n}")
            k += 1
    finally:
        dev.close()
        viewer.close()
    return kept
