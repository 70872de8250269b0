"""Source-demo files: segmentation, the on-disk format, and the shipped scripted demos."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dexmg_bench.datasets.record import REPLAY_ATOL, REPLAY_FOLLOWED_STEPS
from dexmg_bench.datasets.source import (
    LazyDemos,
    SourceDemo,
    SourceFile,
    read_source_file,
    segment_boundaries,
    shipped_source_file,
    write_source_file,
)
from dexmg_bench.envs import TASKS


def test_segment_boundaries_follow_signal_onsets():
    """A subtask ends the step after its signal first turns on; the last ends with the demo."""
    sig = {
        "grasp": np.array([0, 0, 1, 1, 0, 0, 0, 0], bool),
        "lift": np.array([1, 0, 0, 0, 0, 1, 1, 0], bool),  # the early blip is before grasp ends
        "place": np.zeros(8, bool),
    }
    np.testing.assert_array_equal(segment_boundaries(sig, ("grasp", "lift", "place"), 8), [3, 6, 8])


def test_segment_boundaries_reject_a_subtask_that_never_ends():
    """Missing termination is an error naming the subtask."""
    sig = {"grasp": np.zeros(5, bool), "place": np.zeros(5, bool)}
    with pytest.raises(ValueError, match="'grasp' never ends"):
        segment_boundaries(sig, ("grasp", "place"), 5)


def _fake_demo(rng: np.random.Generator, steps: int = 7) -> SourceDemo:
    return SourceDemo(
        seed=3,
        actions=rng.uniform(-1, 1, (steps, 14)),
        states=rng.normal(size=(steps + 1, 20)),
        eef_pose=rng.normal(size=(steps, 2, 4, 4)),
        target_pose=rng.normal(size=(steps, 2, 4, 4)),
        hand=rng.uniform(-1, 1, (steps, 2, 1)),
        object_pose={"needle": rng.normal(size=(steps, 4, 4))},
        signals={"right": {"a": rng.uniform(size=steps) > 0.5}},
        boundaries={"right": np.array([2, steps])},
        success=True,
    )


def test_write_read_round_trip_is_exact(tmp_path, rng):
    """Every array comes back bit for bit, read-only, with the file metadata."""
    demos = (_fake_demo(rng), _fake_demo(rng, steps=4))
    src = SourceFile(
        env_id="DexMG/Threading-D0-v0",
        task="Threading",
        variant="D0",
        origin="scripted",
        code_version="0.0.0",
        demos=demos,
    )
    path = tmp_path / "demos.hdf5"
    write_source_file(path, src)
    assert not path.with_suffix(".hdf5.tmp").exists()
    back = read_source_file(path)
    assert (back.task, back.origin, len(back.demos)) == ("Threading", "scripted", 2)
    for d0, d1 in zip(demos, back.demos, strict=True):
        for field in ("actions", "states", "eef_pose", "target_pose", "hand"):
            np.testing.assert_array_equal(getattr(d0, field), getattr(d1, field))
        np.testing.assert_array_equal(d0.object_pose["needle"], d1.object_pose["needle"])
        np.testing.assert_array_equal(d0.signals["right"]["a"], d1.signals["right"]["a"])
        assert not d1.actions.flags.writeable


def test_lazy_demos_read_the_same_arrays_one_at_a_time(tmp_path, rng):
    """What a streamed writer reads: the same demos as an eager read, across several files."""
    files = []
    for k in range(2):
        src = SourceFile(
            env_id="DexMG/Threading-D0-v0", task="Threading", variant="D0", origin="generated",
            code_version="0", demos=(_fake_demo(rng), _fake_demo(rng, steps=3 + k)),
        )  # fmt: skip
        write_source_file(tmp_path / f"f{k}.hdf5", src)
        files.append(read_source_file(tmp_path / f"f{k}.hdf5"))
    lazy = read_source_file(tmp_path / "f0.hdf5", lazy=True)
    assert isinstance(lazy.demos, LazyDemos) and len(lazy.demos) == 2
    many = LazyDemos([(tmp_path / "f1.hdf5", "demo_1"), (tmp_path / "f0.hdf5", "demo_0")])
    expected = [files[1].demos[1], files[0].demos[0]]
    for got in (list(many), [many[0], many[1]], list(many[0:2])):
        for a, b in zip(expected, got, strict=True):
            np.testing.assert_array_equal(a.states, b.states)
            np.testing.assert_array_equal(a.actions, b.actions)
            assert a.boundaries["right"].tolist() == b.boundaries["right"].tolist()
    # a demo of the written copy equals the one it came from
    write_source_file(tmp_path / "copy.hdf5", dataclasses.replace(files[0], demos=many))
    np.testing.assert_array_equal(
        read_source_file(tmp_path / "copy.hdf5").demos[0].states, expected[0].states
    )


def test_unknown_origin_is_refused(tmp_path, rng):
    """Provenance labels are a closed set (scripted demos are never called human)."""
    src = SourceFile("x", "Threading", "D0", "crowd", "0", (_fake_demo(rng),))
    with pytest.raises(ValueError, match="origin must be one of"):
        write_source_file(tmp_path / "x.hdf5", src)


def test_truncated_and_foreign_files_give_clear_errors(tmp_path, rng):
    """A cut file and an HDF5 file without datagen info are both named in the error."""
    good = tmp_path / "good.hdf5"
    write_source_file(good, SourceFile("x", "Threading", "D0", "scripted", "0", (_fake_demo(rng),)))
    cut = tmp_path / "cut.hdf5"
    cut.write_bytes(good.read_bytes()[:500])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_source_file(cut)
    import h5py

    foreign = tmp_path / "foreign.hdf5"
    with h5py.File(foreign, "w") as f:
        f.attrs["format_version"] = 1
        f.create_dataset("demo_0/actions", data=np.zeros((3, 14)))
    with pytest.raises(ValueError, match="lacks"):
        read_source_file(foreign)
    with pytest.raises(FileNotFoundError):
        read_source_file(tmp_path / "missing.hdf5")


SHIPPED = [t.name for t in TASKS]


@pytest.mark.parametrize("task", SHIPPED)
def test_shipped_demos_are_ten_scripted_segmented_demos(task):
    """Ten scripted demos per gripper task, five per dexterous or humanoid task (paper's counts)."""
    from dexmg_bench.envs import GRIPPERS, task_entry

    expected = 10 if task_entry(task).embodiment == GRIPPERS else 5
    src = read_source_file(shipped_source_file(task))
    assert src.task == task and src.origin == "scripted" and len(src.demos) == expected
    for d in src.demos:
        assert d.success
        for arm in ("right", "left"):
            b = d.boundaries[arm]
            assert np.all(np.diff(b) > 0) and b[-1] == d.num_steps
        assert d.states.shape[0] == d.num_steps + 1


@pytest.mark.parametrize("task", SHIPPED)
def test_shipped_demos_replay_to_success(task):
    """Acceptance: every shipped demo replays from its first state to success."""
    from dexmg_bench.datasets.record import replay_demo
    from dexmg_bench.envs import make_task_env

    src = read_source_file(shipped_source_file(task))
    env = make_task_env(task, src.variant)
    for k, demo in enumerate(src.demos):
        env.reset(seed=demo.seed)
        close = {"atol": REPLAY_ATOL, "rtol": 0}
        np.testing.assert_allclose(env.get_state(), demo.states[0], **close, err_msg=f"{k} reset")
        assert replay_demo(env, demo), f"{task} demo_{k} did not replay to success"
        env.set_state(demo.states[0])
        for t, action in enumerate(demo.actions[:REPLAY_FOLLOWED_STEPS]):
            env.step(action)
            np.testing.assert_allclose(
                env.get_state(), demo.states[t + 1], **close, err_msg=f"demo_{k} step {t}"
            )
    env.close()
