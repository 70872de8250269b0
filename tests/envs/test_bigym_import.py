"""``dexmg bigym import-demos``: BiGym's demo files as source demos.

CI (no BiGym): the task check, BiGym's decimation, the base-dof mapping, adapter seeds that
address BiGym's seeds (on the fake) and the CLI's error line. Slow tier (BiGym installed): genuine
demo files written by BiGym's own ``DemoRecorder`` at 500 Hz from the CupboardsCloseAll scripted
expert, imported, replayed in joint and pose mode; decimation equal to BiGym's ``DemoConverter``;
delta-mode files made by BiGym's converter import to the same joint targets; adapter seeds address
BiGym's seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dexmg_bench.datasets.bigym_demo_files import BiGymDemoError, parse_demo
from dexmg_bench.datasets.bigym_import import decimate, import_demos


def test_import_refuses_a_task_that_is_not_bigym(tmp_path):
    """The task is checked first (no BiGym needed to say so)."""
    with pytest.raises(BiGymDemoError, match="--task must be one of BiGym-FlipCup"):
        import_demos(tmp_path, "CupboardsCloseAll", tmp_path / "o.hdf5")
    with pytest.raises(BiGymDemoError, match="--task must be one of"):
        import_demos(tmp_path, "BiGym-StackBlocks", tmp_path / "o.hdf5")


def test_decimate_absolute_averages_arms_sums_base_takes_last_grippers():
    """BiGym's rule, checked against a hand computation: 5 steps at rate 2 (one padded)."""
    a = np.zeros((5, 6))  # base 2, "arms" 2, grippers 2
    a[:, 0] = [0.1, 0.2, 0.3, 0.4, 0.5]  # base deltas: summed per window
    a[:, 2] = [1.0, 3.0, 5.0, 7.0, 9.0]  # absolute arm targets: averaged
    a[:, 4] = [0, 1, 0, 1, 0]  # grippers: the window's last
    low, high = np.full(6, -10.0), np.full(6, 10.0)
    out = decimate(a, 2, absolute=True, n_base=2, low=low, high=high)
    f32 = {"rtol": 1e-6}  # BiGym sums in float32
    np.testing.assert_allclose(out[:, 0], [0.3, 0.7, 1.0], **f32)  # last: 0.5 twice (padding)
    np.testing.assert_allclose(out[:, 2], [2.0, 6.0, 9.0], **f32)
    np.testing.assert_array_equal(out[:, 4], [1, 1, 0])
    delta = decimate(a, 2, absolute=False, n_base=2, low=10 * low, high=10 * high)
    np.testing.assert_allclose(delta[:, 2], [4.0, 12.0, 18.0], **f32)  # delta arms: summed


def test_decimate_carries_what_clipping_cut_into_the_next_window():
    """A base delta beyond the bound is clipped and the rest added to the next window."""
    a = np.zeros((4, 4))
    a[:2, 0] = 0.3  # 0.6 in the first window, bound 0.5: 0.1 carried over
    out = decimate(a, 2, absolute=True, n_base=1, low=np.full(4, -0.5), high=np.full(4, 0.5))
    np.testing.assert_allclose(out[:, 0], [0.5, 0.1], rtol=1e-6)  # BiGym sums in float32


def test_seed_base_passes_bigyms_own_seed_through():
    """Adapter seed ``BIGYM_SEED_BASE + s`` resets BiGym (here the CI fake) with its seed ``s``."""
    import gymnasium as gym
    from fake_bigym import FakeBiGymEnv

    from dexmg_bench.envs.bigym import BIGYM_SEED_BASE

    env = gym.make(
        "DexMG/BiGym-FlipCup-v0", disable_env_checker=True, backend="fake_bigym"
    ).unwrapped

    def bigym_mug(seed: int) -> np.ndarray:
        raw = FakeBiGymEnv("FlipCup", control_frequency=50)
        raw.reset(seed=seed)
        return raw.objects["mug"]

    for seed in (5, 2**32 - 1):
        obs, _ = env.reset(seed=BIGYM_SEED_BASE + seed)
        np.testing.assert_array_equal(obs["mug_pos"], bigym_mug(seed))
    other = env.reset(seed=5)[0]["mug_pos"]  # an ordinary seed: drawn from np_random, not 5
    assert not np.array_equal(other, bigym_mug(5))
    with pytest.raises(ValueError, match="must be < 2\\^33"):
        env.reset(seed=2 * BIGYM_SEED_BASE)


def test_map_base_fills_dofs_the_demo_lacks():
    """A standing demo (x, y, yaw) on a crouching adapter (x, y, z, yaw): zero z deltas."""
    from dexmg_bench.datasets.bigym_import import BASE_DOFS, map_base

    a = np.arange(2 * 15, dtype=float).reshape(2, 15)
    out = map_base(a, BASE_DOFS[3], BASE_DOFS[4])
    assert out.shape == (2, 16)
    np.testing.assert_array_equal(out[:, [0, 1, 3]], a[:, :3])
    np.testing.assert_array_equal(out[:, 2], 0.0)
    np.testing.assert_array_equal(out[:, 4:], a[:, 3:])
    assert map_base(a, BASE_DOFS[3], BASE_DOFS[3]) is a
    with pytest.raises(BiGymDemoError, match="lacks \\['pelvis_z'\\]"):
        map_base(out, BASE_DOFS[4], BASE_DOFS[3])


def test_import_demos_cli_reports_a_wrong_folder(tmp_path):
    """The CLI turns import errors into one line, exit status 1."""
    from dexmg_bench.cli import main

    with pytest.raises(SystemExit, match="import-demos: .* is not a folder"):
        main(["bigym", "import-demos", str(tmp_path / "x"), "--task", "BiGym-FlipCup"])


# ---- Slow tier: genuine BiGym demo files (BiGym installed) -------------------------------------

RATE = 25  # 500 Hz / CupboardsCloseAll's 20 Hz


def _bigym():
    pytest.importorskip("bigym", reason="BiGym is not installed (see the README's BiGym section)")
    pytest.importorskip("demonstrations", reason="BiGym's demonstrations package is not installed")


def record_genuine(task: str, seeds: tuple[int, ...], folder: Path) -> tuple[list[Path], list]:
    """Demo files of ``task`` written by BiGym's own ``DemoRecorder`` at 500 Hz, one per seed.

    The actions are the scripted expert's (pose mode) as the adapter sent them to BiGym at the
    task's rate, played at 500 Hz: each arm/gripper target held for ``500 / rate`` physics steps,
    each base delta split into that many equal parts (what BiGym's decimation sums back). The
    BiGym env has the adapter's base dofs. Returns the paths and ``(seed, actions, expert demo)``.
    """
    import importlib

    from bigym.action_modes import JointPositionActionMode, PelvisDof
    from demonstrations.demo_recorder import DemoRecorder

    from dexmg_bench.datasets.bigym_import import BASE_DOFS
    from dexmg_bench.datasets.record import run_expert
    from dexmg_bench.envs import make_task_env, task_entry
    from dexmg_bench.envs.bigym import BIGYM_SEED_BASE
    from dexmg_bench.sim.bigym_backend import TASK_CLASSES

    env = make_task_env(task)
    raw, runs, freq = env.raw, [], env.config.frequency
    nb = env._raw_low.size - 12
    for seed in seeds:
        sent: list[np.ndarray] = []
        step = raw.step

        def spy(a, step=step, sent=sent, **kw):
            sent.append(np.array(a, np.float64))
            return step(a, **kw)

        raw.step = spy
        expert, info = run_expert(
            env, BIGYM_SEED_BASE + seed, horizon=task_entry(task).max_episode_steps
        )
        del raw.step
        assert info["success"], (task, seed)
        runs.append((seed, np.asarray(sent), expert))
    env.close()
    module, name = TASK_CLASSES[task.removeprefix("BiGym-")].split(":")
    mode = JointPositionActionMode(
        floating_base=True, absolute=True, floating_dofs=[PelvisDof(d) for d in BASE_DOFS[nb]]
    )
    big = getattr(importlib.import_module(module), name)(
        action_mode=mode, control_frequency=500, start_seed=0
    )
    rate, paths = 500 // freq, []
    for seed, sent, _ in runs:
        recorder = DemoRecorder(folder)
        big.reset(seed=seed)
        recorder.record(big, lightweight_demo=True)
        for a in sent:
            fine = a.copy()
            fine[:nb] /= rate
            for _ in range(rate):
                recorder.add_timestep(big.step(fine), fine)
        recorder.stop()
        paths.append(recorder.save_demo())
    big.close()
    return paths, runs


@pytest.fixture(scope="module")
def genuine_demos(tmp_path_factory):
    """Two genuine CupboardsCloseAll demo files (BiGym seeds 3 and 4; see ``record_genuine``)."""
    _bigym()
    folder = tmp_path_factory.mktemp("bigym_demos") / "CupboardsCloseAll"
    paths, runs = record_genuine("BiGym-CupboardsCloseAll", (3, 4), folder)
    return folder, paths, runs


@pytest.mark.slow
def test_genuine_bigym_files_parse_and_decimate_as_bigym_does(genuine_demos):
    """Our parser reads BiGym's files; our decimation equals BiGym's ``DemoConverter.decimate``."""
    from demonstrations.demo import Demo
    from demonstrations.demo_converter import DemoConverter

    from dexmg_bench.datasets.bigym_import import joint_actions_for
    from dexmg_bench.envs import make_task_env

    _, paths, runs = genuine_demos
    env = make_task_env("BiGym-CupboardsCloseAll", action_mode="joint")
    for path, (seed, sent, _) in zip(paths, runs, strict=True):
        demo = parse_demo(path)
        assert (demo.env_name, demo.seed, demo.absolute, demo.frequency) == (
            "CupboardsCloseAll",
            seed,
            True,
            500,
        )
        assert demo.actions.shape == (RATE * len(sent), 15)
        theirs = DemoConverter.decimate(Demo.from_safetensors(path), 20, robot=env.raw.robot)
        theirs = np.array([t.executed_action for t in theirs.timesteps])
        ours = joint_actions_for(env, demo)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ours, sent, rtol=0, atol=1e-6)  # the expert's own actions
    env.close()


@pytest.mark.slow
def test_import_genuine_bigym_demos(genuine_demos, tmp_path):
    """Both demos succeed and are kept, with datagen info, boundaries and exact joint replay.

    Pose-mode replay of the imported pose actions is reported, not required: the pose action's
    IK moves the base only where the hands cannot reach, and in this task the walking legs shut
    the lower drawers, so the demo's base path is not reproduced (measured: 0/2, base yaw off by
    up to 0.5 rad, pinch sites up to ~15 cm off the recorded path).
    """
    import h5py

    from dexmg_bench.datasets.source import read_source_file
    from dexmg_bench.envs.bigym import BIGYM_SEED_BASE

    folder, _, runs = genuine_demos
    out = tmp_path / "imported.hdf5"
    rep = import_demos(folder.parent, "BiGym-CupboardsCloseAll", out, origin="scripted")
    assert (rep.files, rep.kept, rep.failed_seeds) == (2, 2, ())
    assert rep.joint_replay_max_state_diff == 0.0
    assert len(rep.pose_replay_drift_m) == 2 and 0 <= rep.pose_replay_success <= 2
    src = read_source_file(out)
    assert src.origin == "scripted" and src.env_id == "DexMG/BiGym-CupboardsCloseAll-v0"
    by_seed = {BIGYM_SEED_BASE + seed: (sent, exp) for seed, sent, exp in runs}  # uuid order
    assert sorted(d.seed for d in src.demos) == sorted(by_seed)
    for demo in src.demos:
        sent, expert = by_seed[demo.seed]
        assert demo.success
        assert demo.actions.shape == (len(sent), 14) and demo.states.shape[0] == len(sent) + 1
        for arm in ("right", "left"):
            ends = demo.boundaries[arm]
            assert len(ends) == 3 and np.all(np.diff(ends) > 0) and ends[-1] == len(sent)
        assert set(demo.object_pose) >= {"drawer0", "wall_door_left"}
        # The pose actions command exactly the stored target poses.
        targets = _targets(demo.actions)
        np.testing.assert_allclose(targets, demo.target_pose, atol=1e-9)
        # The recovered targets are the expert's own where it could reach them (measured median
        # 4 mm; up to 30 cm where it pushes into a door or beyond reach).
        gap = np.linalg.norm(demo.target_pose[..., :3, 3] - expert.target_pose[..., :3, 3], axis=2)
        assert np.median(gap) < 0.01, np.median(gap)
    with h5py.File(out) as f:
        joint = f["demo_0/bigym/joint_actions"][()]
        np.testing.assert_allclose(joint, by_seed[src.demos[0].seed][0], atol=1e-6)
    # The import keeps what the env returned, so the file writes to Minari (BiGym's adapter
    # cannot observe a restored state, so a file without them could not be written).
    import minari

    from dexmg_bench.datasets.minari_io import source_info, write_minari

    ds = write_minari(src, source_info(src))
    episode = next(iter(minari.load_dataset(ds.spec.dataset_id).iterate_episodes()))
    for key, value in src.demos[0].observations.items():
        np.testing.assert_array_equal(episode.observations[key], value, err_msg=key)


def _targets(actions: np.ndarray) -> np.ndarray:
    from dexmg_bench.envs.bigym import ORIGIN, POS_RANGE, ROT_RANGE
    from dexmg_bench.geometry import axis_angle_to_mat

    a = actions.reshape(len(actions), 2, 7)
    out = np.tile(np.eye(4), (*a.shape[:2], 1, 1))
    out[..., :3, 3] = ORIGIN + a[..., :3] * POS_RANGE
    out[..., :3, :3] = axis_angle_to_mat(a[..., 3:6] * ROT_RANGE)
    return out


@pytest.mark.slow
def test_delta_mode_files_import_to_the_same_joint_targets(genuine_demos, tmp_path):
    """A delta-mode file gives the absolute file's joint targets.

    The delta file is made by BiGym's own ``DemoConverter.absolute_to_delta``.
    """
    from demonstrations.demo import Demo
    from demonstrations.demo_converter import DemoConverter

    from dexmg_bench.datasets.bigym_import import joint_actions_for
    from dexmg_bench.envs import make_task_env

    _, paths, _ = genuine_demos
    delta_path = DemoConverter.absolute_to_delta(Demo.from_safetensors(paths[0])).save(
        tmp_path / "delta" / paths[0].name
    )
    delta = parse_demo(delta_path)
    assert not delta.absolute
    env = make_task_env("BiGym-CupboardsCloseAll", action_mode="joint")
    np.testing.assert_allclose(
        joint_actions_for(env, delta), joint_actions_for(env, parse_demo(paths[0])), atol=1e-6
    )  # to float32 precision: BiGym's decimation sums in float32
    env.close()


@pytest.mark.slow
def test_adapter_seed_base_gives_bigyms_own_scene():
    """Adapter seed ``BIGYM_SEED_BASE + s`` puts FlipCup's mug where BiGym's seed ``s`` does."""
    _bigym()
    import gymnasium as gym
    from bigym.action_modes import JointPositionActionMode
    from bigym.envs.manipulation import FlipCup

    from dexmg_bench.envs.bigym import BIGYM_SEED_BASE

    raw = FlipCup(
        action_mode=JointPositionActionMode(floating_base=True, absolute=True),
        control_frequency=50,
        start_seed=0,
    )
    env = gym.make("DexMG/BiGym-FlipCup-v0", disable_env_checker=True).unwrapped
    for seed in (7, 11):
        raw.reset(seed=seed)
        obs, _ = env.reset(seed=BIGYM_SEED_BASE + seed)
        np.testing.assert_array_equal(obs["mug_pos"], raw.cup.body.get_position())
    assert not np.allclose(env.reset(seed=BIGYM_SEED_BASE + 7)[0]["mug_pos"], obs["mug_pos"])
    with pytest.raises(ValueError, match="must be < 2\\^33"):
        env.reset(seed=2 * BIGYM_SEED_BASE)
    raw.close()
    env.close()


@pytest.mark.slow
def test_dishwasher_file_runs_through_and_unsuccessful_demos_are_dropped(tmp_path):
    """A genuine DishwasherLoadPlates file goes through the import and, failing, is dropped.

    BiGym's recorder, 1 s of holding still, standing base (x, y, yaw; the adapter may crouch:
    its z gets zero deltas). It does not load the plates, so no demo succeeds and no file is
    written.
    """
    _bigym()
    from bigym.action_modes import JointPositionActionMode
    from bigym.envs.dishwasher_plates import DishwasherLoadPlates
    from demonstrations.demo_recorder import DemoRecorder

    big = DishwasherLoadPlates(
        action_mode=JointPositionActionMode(floating_base=True, absolute=True),
        control_frequency=500,
        start_seed=0,
    )
    recorder = DemoRecorder(tmp_path / "demos")
    big.reset(seed=12)
    recorder.record(big, lightweight_demo=True)
    hold = np.clip(np.zeros(15), big.action_space.low, big.action_space.high)
    for _ in range(500):
        recorder.add_timestep(big.step(hold), hold)
    recorder.save_demo()
    big.close()
    with pytest.raises(BiGymDemoError, match="none of the 1 BiGym-DishwasherLoadPlates demos"):
        import_demos(tmp_path / "demos", "BiGym-DishwasherLoadPlates", tmp_path / "o.hdf5")
    assert not (tmp_path / "o.hdf5").exists()


@pytest.mark.slow
def test_import_genuine_flip_cup_demos_replay_in_pose_mode(tmp_path):
    """FlipCup (randomised: the mug's place comes from BiGym's seed) imports and replays.

    Two genuine files (BiGym seeds 5 and 6) import 2/2, replay exactly in joint mode, and their
    pose actions replay to success in the default pose mode too (measured: 2/2, pinch sites
    within 1.8 cm of the recorded path), since here the hands, not the base, do the task.
    """
    _bigym()
    record_genuine("BiGym-FlipCup", (5, 6), tmp_path / "demos")
    rep = import_demos(tmp_path / "demos", "BiGym-FlipCup", tmp_path / "o.hdf5", origin="scripted")
    assert (rep.files, rep.kept, rep.joint_replay_max_state_diff) == (2, 2, 0.0)
    assert rep.pose_replay_success == 2, rep
    assert max(rep.pose_replay_drift_m) < 0.05, rep
