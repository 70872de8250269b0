"""`dexmg eval --policy sb3:|module:|robomimic:`: outside policies under the standard protocol."""

from __future__ import annotations

import json
import pickle
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from dexmg_bench.cli import main
from dexmg_bench.errors import UserInputError
from dexmg_bench.evaluation.external import ExternalPolicy

TASK, ENV = "Threading", "DexMG/Threading-D0-v0"


def _eval(policy: str, out: Path, *extra: str) -> dict:
    """Two episodes of ten steps through the command line; the results JSON."""
    main(["eval", "--policy", policy, "--task", TASK, "--episodes", "2", "--workers", "1",
          "--max-steps", "10", "--out", str(out), *extra])  # fmt: skip
    return json.loads(out.read_text())


def _assert_protocol_results(res: dict, policy: str, checkpoint: str) -> None:
    """The fields every standard-protocol result has, for one training seed and checkpoint."""
    assert (res["task"], res["variant"], res["env_id"]) == (TASK, "D0", ENV)
    assert res["policy"] == policy
    assert res["protocol"]["episodes"] == 2 and res["protocol"]["max_steps"] == 10
    assert res["protocol"]["training_seeds"] == [0]
    assert 0.0 <= res["success_mean"] <= 1.0 and res["success_std"] == 0.0
    (row,) = res["per_seed"]
    assert row["best_checkpoint"] == checkpoint and set(row["rates"]) == {checkpoint}
    assert len(row["best_wilson95"]) == 2
    episodes = res["episodes"][f"0/{checkpoint}"]
    assert [e["steps"] for e in episodes] == [10, 10]
    assert {"dexmg_bench", "mujoco", "numpy"} <= set(res["versions"])


@pytest.fixture(scope="module")
def sb3_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, object]]:
    """PPO trained for 256 steps on Threading's Dict observations; the others untrained."""
    sb3 = pytest.importorskip("stable_baselines3")
    import torch

    import dexmg_bench.envs  # noqa: F401  (registers DexMG/...)

    torch.set_num_threads(1)  # OpenMP threads on 2 busy cores make SB3 many times slower
    root = tmp_path_factory.mktemp("sb3")
    env = gym.make(ENV)
    models = {
        "PPO": sb3.PPO("MultiInputPolicy", env, n_steps=128, batch_size=64, n_epochs=1, seed=0),
        "A2C": sb3.A2C("MultiInputPolicy", env, seed=0),
        "SAC": sb3.SAC("MultiInputPolicy", env, buffer_size=10, seed=0),
        "TD3": sb3.TD3("MultiInputPolicy", env, buffer_size=10, seed=0),
        "DDPG": sb3.DDPG("MultiInputPolicy", env, buffer_size=10, seed=0),
    }
    models["PPO"].learn(total_timesteps=256)
    env.close()
    out = {}
    for algo, model in models.items():
        model.save(root / f"{algo.lower()}.zip")
        out[algo] = (root / f"{algo.lower()}.zip", model)
    return out


def test_sb3_zip_runs_the_standard_protocol(sb3_models, tmp_path):
    """A PPO ``.zip`` from the command line: the results JSON of the standard protocol."""
    path, _ = sb3_models["PPO"]
    res = _eval(f"sb3:{path}", tmp_path / "eval.json")
    _assert_protocol_results(res, f"sb3:{path}", "ppo")


@pytest.mark.parametrize("algo", ["PPO", "A2C", "SAC", "TD3", "DDPG"])
def test_sb3_algorithm_is_read_from_the_zip(algo, sb3_models):
    """No algorithm option: the loaded policy acts as the saved model's deterministic predict."""
    path, model = sb3_models[algo]
    policy = ExternalPolicy.parse(f"sb3:{path}")()
    env = gym.make(ENV)
    obs, _ = env.reset(seed=5)
    env.close()
    policy.reset()
    expected, _ = model.predict(obs, deterministic=True)
    np.testing.assert_allclose(policy.act(obs), expected, atol=1e-6)


def test_sb3_model_of_a_flat_observation_is_an_input_error(tmp_path):
    """A model trained on a Box observation cannot read the Dict one: said before any rollout."""
    sb3 = pytest.importorskip("stable_baselines3")

    path = tmp_path / "pendulum.zip"
    sb3.PPO("MlpPolicy", "Pendulum-v1", n_steps=64, seed=0).save(path)
    with pytest.raises(UserInputError, match="trained on a Box observation"):
        ExternalPolicy.parse(f"sb3:{path}").check()


POLICY_MODULE = '''
import numpy as np

RESETS = []


class Zero:
    """A policy object: counts its episode starts, holds still."""

    def reset(self):
        RESETS.append(1)

    def act(self, obs):
        return np.zeros(14)


def make_policy():
    return Zero()


def hold_still(obs):
    return np.zeros(14)
'''


@pytest.fixture
def policy_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An importable module of policies, under a name no other test uses."""
    name = f"dexmg_test_policies_{tmp_path.name.replace('-', '_')}"
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / f"{name}.py").write_text(textwrap.dedent(POLICY_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    yield name
    sys.modules.pop(name, None)


def test_module_factory_runs_the_standard_protocol(policy_module, tmp_path):
    """``module:factory``: the same results JSON; the evaluator resets it once per episode."""
    spec = f"{policy_module}:make_policy"
    res = _eval(spec, tmp_path / "eval.json")
    _assert_protocol_results(res, spec, "make_policy")
    assert len(sys.modules[policy_module].RESETS) == 2


def test_module_function_is_wrapped_into_a_policy(policy_module, tmp_path):
    """``module:function`` taking the observation is wrapped as a policy."""
    spec = f"{policy_module}:hold_still"
    _assert_protocol_results(_eval(spec, tmp_path / "eval.json"), spec, "hold_still")


def test_a_spec_pickles_and_rebuilds(policy_module):
    """The factory the workers get is the spec string alone: it pickles and rebuilds."""
    factory = ExternalPolicy.parse(f"{policy_module}:make_policy")
    clone = pickle.loads(pickle.dumps(factory))
    assert clone == factory and str(clone) == f"{policy_module}:make_policy"
    assert clone() is not clone()  # one policy per worker slot


def test_robomimic_without_robomimic_names_the_extra(tmp_path, monkeypatch, capsys):
    """Without robomimic installed, one input-error line says which extra to install."""
    for name in ("robomimic", "robomimic.utils", "robomimic.utils.file_utils"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it raises ImportError
    ckpt = tmp_path / "model_epoch_1.pth"
    ckpt.write_bytes(b"\x00")
    with pytest.raises(SystemExit) as exc:
        main(["eval", "--policy", f"robomimic:{ckpt}", "--task", TASK])
    assert exc.value.code == 2
    assert "robomimic==0.3.0" in capsys.readouterr().err


def _train_robomimic_bc(tmp_path: Path) -> Path:
    """BC for one epoch of 5 steps on two demos in our robomimic export (no robomimic rollouts)."""
    import dataclasses

    import torch
    from robomimic.config import config_factory
    from robomimic.scripts.train import train

    from dexmg_bench.datasets.robomimic import export_robomimic
    from dexmg_bench.datasets.source import read_source_file, shipped_source_file
    from dexmg_bench.envs import make_task_env

    src = read_source_file(shipped_source_file(TASK))
    src = dataclasses.replace(src, demos=src.demos[:2])
    export_robomimic(src, tmp_path / "rm.hdf5", env=make_task_env(TASK, "D0"))
    config = config_factory("bc")
    with config.values_unlocked():
        config.train.data = str(tmp_path / "rm.hdf5")
        config.train.output_dir = str(tmp_path / "rm_out")
        config.train.num_epochs, config.train.batch_size, config.train.cuda = 1, 16, False
        config.experiment.name, config.experiment.epoch_every_n_steps = "bc", 5
        config.experiment.validate = config.experiment.rollout.enabled = False
        config.experiment.logging.log_tb = False
        config.experiment.save.enabled, config.experiment.save.every_n_epochs = True, 1
        config.observation.modalities.obs.low_dim = ["left_eef_pos", "right_eef_pos", "needle_pos"]
        config.algo.actor_layer_dims = (32, 32)
    train(config, device=torch.device("cpu"))
    (ckpt,) = (tmp_path / "rm_out").rglob("model_epoch_1.pth")
    return ckpt


def test_robomimic_checkpoint_runs_the_standard_protocol(tmp_path):
    """A robomimic BC checkpoint trained on our export: the same results JSON."""
    pytest.importorskip("robomimic.utils.file_utils", reason="needs robomimic 0.3.0")
    ckpt = _train_robomimic_bc(tmp_path)
    spec = f"robomimic:{ckpt}"
    _assert_protocol_results(_eval(spec, tmp_path / "eval.json"), spec, "model_epoch_1")


def test_robomimic_foreign_file_is_an_input_error(tmp_path):
    """A file torch cannot load as a checkpoint is named in one line."""
    pytest.importorskip("robomimic.utils.file_utils", reason="needs robomimic 0.3.0")
    path = tmp_path / "model.pth"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(UserInputError, match="cannot be read as a robomimic checkpoint"):
        ExternalPolicy.parse(f"robomimic:{path}").check()
