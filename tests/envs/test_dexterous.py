"""Dexterous-hand tasks: the Inspire embodiment, the specs and the shipped demos' datagen info.

Checked: the action layout, the 6 -> 12 finger mapping, spec/env agreement, per-step finger
commands in the demos and coordination subtasks that end on the same step for both arms.
"""

from __future__ import annotations

import numpy as np
import pytest

from dexmg_bench.datasets.source import read_source_file, shipped_source_file
from dexmg_bench.envs import TASKS, make_task_env
from dexmg_bench.envs.robots import panda_inspire as inspire
from dexmg_bench.generators.spec import load_spec, spec_path, validate_against

DEXTEROUS = [t.name for t in TASKS if t.embodiment == inspire.EMBODIMENT_NAME]


def test_dexterous_tasks_are_registered():
    """Each dexterous task is listed with 24-D actions (per arm: pose 6 + hand 6)."""
    assert DEXTEROUS
    for t in TASKS:
        if t.name in DEXTEROUS:
            assert t.action_dim == 24


@pytest.mark.parametrize("task", DEXTEROUS)
def test_action_layout_is_pose_then_six_finger_commands(task):
    """Per arm: dpos 3, drot 3, hand 6; right arm first; 12-joint hand observations."""
    env = make_task_env(task)
    assert env.action_space.shape == (24,)
    assert env.action_layout == {
        "right": {"dpos": [0, 3], "drot": [3, 6], "hand": [6, 12]},
        "left": {"dpos": [12, 15], "drot": [15, 18], "hand": [18, 24]},
    }
    obs, _ = env.reset(seed=0)
    assert obs["right_gripper_qpos"].shape == (12,) and obs["left_gripper_qpos"].shape == (12,)
    env.close()


def test_hand_commands_map_to_the_models_ctrl_ranges():
    """-1 drives every finger actuator to its lower limit, +1 to its upper one, as robosuite."""
    env = make_task_env(DEXTEROUS[0])
    model = env.physics.model
    for i, arm in enumerate(inspire.ARMS):
        ranges = model.actuator_ctrlrange[env.controller.finger_act[i]]
        for cmd, col in ((-1.0, 0), (1.0, 1)):
            ctrl = inspire.hand_ctrl(np.full((1, 6), cmd))[0]
            np.testing.assert_allclose(ctrl, ranges[:, col], atol=1e-9, err_msg=f"{arm} {cmd}")
    env.close()


def test_closing_a_hand_curls_its_fingers():
    """A +1 command on the index finger bends only the index joints (the 6 -> 12 mapping)."""
    env = make_task_env(DEXTEROUS[0])
    env.reset(seed=0)
    hold = env.target_pose_to_action(env.eef_poses(), np.tile(inspire.OPEN, (2, 1)))
    index_cmd = inspire.OPEN.copy()
    index_cmd[inspire.COMMAND_NAMES.index("index")] = 1.0
    action = env.target_pose_to_action(env.eef_poses(), np.stack([index_cmd, inspire.OPEN]))
    for _ in range(10):
        env.step(action)
    q = env.physics.data.qpos[env.controller.finger_qpos[0]]
    names = inspire.HAND_JOINTS["right"]
    index = [k for k, n in enumerate(names) if "index" in n]
    others = [k for k in range(12) if k not in index]
    assert np.all(q[index] > 0.8), q
    assert np.all(np.abs(q[others]) < 0.1), q
    env.step(hold)
    env.close()


@pytest.mark.parametrize("task", DEXTEROUS)
def test_shipped_spec_matches_the_env(task):
    """The generator spec names only the env's objects and subtask signals, in its order."""
    spec = load_spec(spec_path(task))
    env = make_task_env(task)
    validate_against(spec, env.object_names, env.subtask_names)
    for arm in inspire.ARMS:
        assert tuple(s.name for s in spec.subtasks[arm]) == env.subtask_names[arm]
    env.close()


@pytest.mark.parametrize("task", DEXTEROUS)
def test_shipped_demos_carry_finger_commands_and_synchronised_coordination(task):
    """Datagen info has 6 finger commands per arm and step; coordination subtasks end together."""
    src = read_source_file(shipped_source_file(task))
    spec = load_spec(spec_path(task))
    for demo in src.demos:
        assert demo.hand.shape == (demo.num_steps, 2, 6)
        np.testing.assert_array_equal(demo.hand[:, 0], demo.actions[:, 6:12])
        np.testing.assert_array_equal(demo.hand[:, 1], demo.actions[:, 18:24])
        assert np.ptp(demo.hand) > 1.0  # the fingers really open and close
        for i, sub in enumerate(spec.subtasks["right"]):
            if sub.kind == "coordination":
                j = [s.name for s in spec.subtasks["left"]].index(str(sub.partner))
                assert demo.boundaries["right"][i] == demo.boundaries["left"][j]
