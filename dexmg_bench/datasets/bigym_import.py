"""Import BiGym's own demonstrations as DexMG source demos with datagen info.

BiGym's demo files (read by ``bigym_demo_files``) hold its actions at its physics rate, 500 Hz.
Facts this module relies on, read from BiGym ``72d3054``:

* Decimation: to replay at a control frequency ``f``, BiGym decimates by ``r = 500 / f``: it pads
  the demo with copies of its last action to a multiple of ``r``; per window of ``r`` actions it
  sums them (plus what clipping cut off the previous window), divides all but the floating-base
  part by ``r`` when the arm actions are absolute (so absolute arm targets are averaged, base
  deltas summed), takes the grippers from the window's last action, and clips to the action
  space at that rate (base bounds scaled by ``r``), carrying the clipped-off remainder into the
  next window.
* Action layout (``JointPositionActionMode``, floating base): base deltas (x, y, yaw by default),
  5 left-arm then 5 right-arm joint targets (absolute, or deltas added to the actuators' ctrl),
  left and right gripper in [0, 1].

The import replays each demo (decimated as BiGym does) in the adapter's joint action mode from
BiGym's own seed (adapter seed ``BIGYM_SEED_BASE + seed``), and records per step what ``dexmg
source`` records: the state, gripper and object poses, subtask signals and boundaries, and the
equivalent *pose* action: the pinch-site pose that the step's joint targets put the gripper at
(forward kinematics of the commanded base pose and arm targets less the servo sag, i.e. the
inverse of the adapter's pose-to-joint map), with the gripper commands. Only demos that end in
success are kept. The joint actions are stored too (``demo_<k>/bigym/joint_actions``): replaying
them in joint mode reproduces the recorded states exactly; replaying the pose actions goes
through the IK and may drift (the import reports by how much).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dexmg_bench.datasets.bigym_demo_files import (
    DEFAULT_FLOATING_DOFS,
    N_ARM_JOINTS,
    N_GRIPPERS,
    BiGymDemo,
    BiGymDemoError,
    find_demos,
)

# The adapter's base dofs by their number (BiGym's order; 4 where the robot crouches).
BASE_DOFS = {3: DEFAULT_FLOATING_DOFS, 4: ("pelvis_x", "pelvis_y", "pelvis_z", "pelvis_rz")}


def decimate(  # noqa: PLR0913 (BiGym's decimation has these inputs)
    actions: np.ndarray,
    rate: int,
    *,
    absolute: bool,
    n_base: int,
    low: np.ndarray,
    high: np.ndarray,
    dtype: type = np.float32,
) -> np.ndarray:
    """BiGym's decimation of a demo's actions by ``rate`` (see the module docstring).

    Args:
        actions: ``(T, A)`` at the recorded rate.
        rate: recorded rate / control rate (an integer).
        absolute: whether the arm actions are absolute targets (they are averaged, not summed).
        n_base: number of floating-base (delta) actions at the front.
        low: lower bounds of the action space at the control rate.
        high: upper bounds of the action space at the control rate.
        dtype: the accumulator's type; BiGym sums in its action space's float32, and this
            reproduces its results to the bit (float64 would differ by ~5e-7).

    Returns:
        ``(ceil(T / rate), A)`` actions at the control rate (float64 holding ``dtype`` values).
    """
    actions = np.asarray(actions, np.float64)
    low, high = np.asarray(low, dtype), np.asarray(high, dtype)
    pad = -len(actions) % rate
    if pad:
        actions = np.concatenate([actions, np.repeat(actions[-1:], pad, axis=0)])
    out = np.empty((len(actions) // rate, actions.shape[1]))
    total = np.zeros(actions.shape[1], dtype)
    overhead = np.zeros(actions.shape[1], dtype)
    for k in range(len(out)):
        for i in range(k * rate, (k + 1) * rate):
            total += actions[i] + overhead  # the clipped-off rest enters once, at the start
            overhead *= 0
        if absolute:
            total[n_base:] = total[n_base:] / rate
        total[-N_GRIPPERS:] = actions[(k + 1) * rate - 1, -N_GRIPPERS:]
        clipped = np.clip(total, low, high)
        out[k] = clipped
        overhead = total - clipped
        total = np.zeros_like(total)
    return out


@dataclass(frozen=True)
class ImportReport:
    """What an import did, demo by demo (for the CLI's summary and the tests)."""

    files: int
    kept: int
    failed_seeds: tuple[int, ...]
    pose_replay_success: int
    pose_replay_drift_m: tuple[float, ...]
    joint_replay_max_state_diff: float
    kept_seeds: tuple[int, ...] = ()
    pose_replay_ok: tuple[bool, ...] = ()


def _pose_action(target: np.ndarray, hand: np.ndarray) -> np.ndarray:
    """The adapter's pose action for pinch-site targets (2, 4, 4) and gripper commands (2,)."""
    from dexmg_bench.envs.bigym import ORIGIN, POS_RANGE, ROT_RANGE
    from dexmg_bench.geometry import mat_to_axis_angle

    rows = []
    for i in range(len(target)):
        pos = (target[i, :3, 3] - ORIGIN) / POS_RANGE
        rot = mat_to_axis_angle(target[i, :3, :3]) / ROT_RANGE
        rows.append(np.concatenate([pos, rot, hand[i : i + 1]]))
    return np.clip(np.concatenate(rows), -1.0, 1.0)


def record_demo(env: Any, demo: BiGymDemo, joint_actions: np.ndarray) -> tuple[Any, np.ndarray]:
    """Replay joint actions in ``env`` (the adapter, joint mode) and record a source demo.

    Returns:
        The ``SourceDemo`` (pose actions, datagen info; boundaries only if it succeeded) and the
        joint actions as the env applied them (clipped to its action space).
    """
    from dexmg_bench.datasets.source import (
        SourceDemo,
        append_scene,
        segment_boundaries,
        stack_obs,
    )
    from dexmg_bench.envs.bigym import BIGYM_SEED_BASE

    backend, raw = env._backend, env.raw
    n_arms = 2
    obs, info = env.reset(seed=BIGYM_SEED_BASE + demo.seed)
    hand = -np.ones(n_arms)  # right, left; the adapter's state keeps the last gripper command
    states, eef, target, hands, actions, applied = [], [], [], [], [], []
    observed, state_success = [obs], [bool(info["success"])]  # what the env returned, kept
    objects: dict[str, list[np.ndarray]] = {n: [] for n in env.object_names}
    signals = {arm: {s: [] for s in names} for arm, names in env.subtask_names.items()}

    def state() -> np.ndarray:
        s = env.get_state()
        s[-n_arms:] = hand
        return s

    states.append(state())
    low, high = env.action_space.low, env.action_space.high
    for given in joint_actions:
        a = np.clip(given, low, high).astype(env.action_space.dtype)
        eef.append(env.eef_poses())
        append_scene(env, objects, signals)
        sag = backend.servo_sag(raw)
        obs, _, _, _, info = env.step(a)
        observed.append(obs)
        state_success.append(bool(info["success"]))
        # The pose target this step commands: FK of the base's new servo target and the arm
        # targets less the sag the adapter would have added (its pose-to-joint map, inverted).
        arms = a[-N_ARM_JOINTS - N_GRIPPERS : -N_GRIPPERS]  # BiGym: base, arms, grippers
        q = np.concatenate([backend.base_command(raw), arms - sag])
        poses, _ = backend.kinematics(raw, q)
        grip = np.asarray(a[-N_GRIPPERS:], np.float64)  # BiGym: left, right in [0, 1]
        hand = 2.0 * grip[::-1] - 1.0
        target.append(poses)
        hands.append(hand.reshape(n_arms, 1).copy())
        actions.append(_pose_action(poses, hand))
        applied.append(np.asarray(a, np.float64))
        states.append(state())
    success = bool(info["success"])
    sig_arrays = {a: {s: np.asarray(v, bool) for s, v in d.items()} for a, d in signals.items()}
    boundaries = {}
    if success:
        boundaries = {
            arm: segment_boundaries(sig_arrays[arm], env.subtask_names[arm], len(actions))
            for arm in sig_arrays
        }
    else:
        sig_arrays = {}
    source = SourceDemo(
        seed=BIGYM_SEED_BASE + demo.seed,
        actions=np.asarray(actions),
        states=np.asarray(states),
        eef_pose=np.asarray(eef),
        target_pose=np.asarray(target),
        hand=np.asarray(hands),
        object_pose={k: np.asarray(v) for k, v in objects.items()},
        signals=sig_arrays,
        boundaries=boundaries,
        success=success,
        observations=stack_obs(observed),
        state_success=np.asarray(state_success, bool),
    )
    return source, np.asarray(applied)


def map_base(
    actions: np.ndarray, dofs: tuple[str, ...], env_dofs: tuple[str, ...], path: Any = "demo"
) -> np.ndarray:
    """The actions with the demo's base columns moved to the env's base dofs.

    A dof the demo lacks gets zero deltas (its servo holds), e.g. ``pelvis_z`` where the adapter
    lets the robot crouch but the demo was recorded standing.

    Raises:
        BiGymDemoError: if the demo moves a base dof the env does not have.
    """
    if tuple(dofs) == tuple(env_dofs):
        return actions
    missing = [d for d in dofs if d not in env_dofs]
    if missing or not env_dofs:
        raise BiGymDemoError(
            f"{path}: base dofs {list(dofs)}; the adapter's are {list(env_dofs)} (lacks {missing})"
        )
    out = np.zeros((len(actions), len(env_dofs) + actions.shape[1] - len(dofs)))
    for i, d in enumerate(dofs):
        out[:, env_dofs.index(d)] = actions[:, i]
    out[:, len(env_dofs) :] = actions[:, len(dofs) :]
    return out


def joint_actions_for(env: Any, demo: BiGymDemo) -> np.ndarray:
    """The demo's actions at the env's control rate as absolute joint actions (BiGym's layout).

    Decimated as BiGym does (the bounds are the env's joint action space, which is BiGym's at
    that rate). Delta-mode arm actions (BiGym adds each to the actuator's ctrl) are summed into
    the absolute targets the adapter's joint mode takes; their deltas are not bounded per step
    as BiGym's delta space would (+-0.1 rad per 500 Hz step), only the targets by the ctrl range.
    """
    freq = env.config.frequency
    if demo.frequency % freq:
        raise BiGymDemoError(
            f"{demo.path}: recorded at {demo.frequency} Hz, not a multiple of the env's {freq} Hz"
        )
    rate = demo.frequency // freq
    low, high = env.action_space.low.astype(np.float64), env.action_space.high.astype(np.float64)
    nb = low.size - N_ARM_JOINTS - N_GRIPPERS
    actions = map_base(demo.actions, demo.floating_dofs, BASE_DOFS.get(nb, ()), demo.path)
    if demo.absolute:
        return decimate(actions, rate, absolute=True, n_base=nb, low=low, high=high)
    # Delta arms: BiGym's delta action space bounds the arm deltas (at the rate), not the
    # targets; decimate without bounds on the arms, then integrate and bound the targets.
    arm = slice(nb, nb + N_ARM_JOINTS)
    d_low, d_high = low.copy(), high.copy()
    d_low[arm], d_high[arm] = -np.inf, np.inf
    out = decimate(actions, rate, absolute=False, n_base=nb, low=d_low, high=d_high)
    # BiGym's reset zeroes the actuators' ctrl (MuJoCo's reset; checked at 72d3054), and its
    # own absolute-to-delta converter starts from 0 too: the targets are the running sums.
    out[:, arm] = np.cumsum(out[:, arm], axis=0)
    return np.clip(out, low, high)


def pose_replay(env: Any, source: Any) -> tuple[bool, float]:
    """Replay a demo's pose actions from its first state (``dexmg replay``'s way).

    Returns:
        Success at the end, and the largest distance (m) between a pinch site and where the
        recorded demo had it after the same step.
    """
    env.reset(seed=source.seed)
    env.set_state(source.states[0])
    info: dict[str, Any] = {"success": False}
    drift = 0.0
    for k, action in enumerate(source.actions):
        _, _, _, _, info = env.step(action)
        if k + 1 < source.num_steps:
            gap = env.eef_poses()[:, :3, 3] - source.eef_pose[k + 1][:, :3, 3]
            drift = max(drift, float(np.linalg.norm(gap, axis=1).max()))
    return bool(info["success"]), drift


def import_demos(
    folder: str | Path,
    task: str,
    out: str | Path,
    *,
    frequency: int = 0,
    origin: str = "human",
    max_demos: int = 0,
    verify: bool = True,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> ImportReport:
    """Convert the BiGym demos of ``task`` (``BiGym-<Task>``) under ``folder`` into ``out``.

    Raises:
        BiGymDemoError: wrong folder, wrong task, bad files; or if no demo succeeds.
    """
    import h5py
    from tqdm import tqdm

    from dexmg_bench import __version__
    from dexmg_bench.datasets.source import SourceFile, write_source_file
    from dexmg_bench.envs import task_entry
    from dexmg_bench.sim.bigym_backend import TASK_CLASSES

    name = task.removeprefix("BiGym-")
    if not task.startswith("BiGym-") or name not in TASK_CLASSES:
        tasks = ", ".join(f"BiGym-{t}" for t in TASK_CLASSES)
        raise BiGymDemoError(f"--task must be one of {tasks}. Got {task!r}.")
    demos, summary = find_demos(folder, name, frequency)
    if max_demos:
        demos = demos[:max_demos]
    log(summary)
    entry = task_entry(task)
    env = entry.make_env(action_mode="joint")
    kept, joints, failed = [], [], []
    bar = tqdm(demos, desc=f"{task}: importing BiGym demos", disable=not progress)
    for demo in bar:
        source, applied = record_demo(env, demo, joint_actions_for(env, demo))
        if source.success:
            kept.append((demo, source))
            joints.append(applied)
        else:
            failed.append(demo.seed)
        bar.set_postfix(kept=f"{len(kept)}/{len(kept) + len(failed)}")
    if not kept:
        env.close()
        raise BiGymDemoError(f"none of the {len(demos)} {task} demos succeeded when replayed")
    # Exact replay in joint mode: the stored joint actions reproduce the stored states.
    diff = 0.0
    for (_, source), applied in zip(kept, joints, strict=True):
        env.reset(seed=source.seed)
        env.set_state(source.states[0])
        for k, a in enumerate(applied):
            env.step(a.astype(env.action_space.dtype))
            diff = max(diff, float(np.abs(env.get_state()[:-2] - source.states[k + 1][:-2]).max()))
    env.close()
    source_file = SourceFile(
        env_id=entry.env_id("D0"),
        task=task,
        variant="D0",
        origin=origin,
        code_version=__version__,
        demos=tuple(s for _, s in kept),
    )
    write_source_file(out, source_file)
    with h5py.File(out, "a") as f:
        f.attrs["bigym_import"] = json.dumps(
            {"folder": str(folder), "files": len(demos), "failed_bigym_seeds": failed}
        )
        for k, ((demo, _), applied) in enumerate(zip(kept, joints, strict=True)):
            g = f[f"demo_{k}"].create_group("bigym")
            g.create_dataset("joint_actions", data=applied)
            g.attrs.update(
                seed=demo.seed, uuid=demo.uuid, file=demo.path.name, frequency=demo.frequency
            )
    oks, drifts = [], []
    if verify:  # the pose actions, through the IK, in the default pose mode
        env = entry.make_env()
        for _, source in tqdm(kept, desc=f"{task}: pose-mode replay", disable=not progress):
            ok, drift = pose_replay(env, source)
            oks.append(ok)
            drifts.append(drift)
        env.close()
    return ImportReport(
        files=len(demos),
        kept=len(kept),
        failed_seeds=tuple(failed),
        pose_replay_success=sum(oks),
        pose_replay_drift_m=tuple(drifts),
        joint_replay_max_state_diff=diff,
        kept_seeds=tuple(d.seed for d, _ in kept),
        pose_replay_ok=tuple(oks),
    )
