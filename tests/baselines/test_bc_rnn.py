"""BC-RNN / BC-RNN-GMM: they can learn, they round-trip, and a run resumes exactly."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="baselines need the `baselines` extra (torch)")

from dexmg_bench.baselines.bc_rnn.config import BCRNNConfig  # noqa: E402
from dexmg_bench.baselines.bc_rnn.model import BCRNN  # noqa: E402
from dexmg_bench.baselines.checkpoint import load_checkpoint, run_checkpoints  # noqa: E402
from dexmg_bench.baselines.policy import TrainedPolicy  # noqa: E402
from dexmg_bench.baselines.train import TrainConfig, train, train_seeds  # noqa: E402

SMALL = BCRNNConfig(hidden_dim=32, num_layers=1, seq_len=5, batch_size=8, learning_rate=3e-3)


@pytest.mark.parametrize("gmm", [False, True], ids=["mse", "gmm"])
def test_overfits_one_batch(gmm):
    """Loss on one fixed batch falls far below its starting value in 300 steps."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    obs = torch.randn(8, 5, 12, generator=gen)
    actions = torch.tanh(torch.randn(8, 5, 4, generator=gen))
    model = BCRNN(dataclasses.replace(SMALL, gmm=gmm), obs_dim=12, action_dim=4)
    optim = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = float(model.loss(obs, actions).detach())
    for _ in range(300):
        loss = model.loss(obs, actions)
        optim.zero_grad()
        loss.backward()
        optim.step()
    final = float(model.loss(obs, actions).detach())
    if gmm:  # NLL can go negative: require a large absolute drop
        assert final < first - 5.0, (first, final)
    else:
        assert final < 0.05 * first, (first, final)


def test_config_rejects_bad_values():
    """Bad hyperparameters are named."""
    with pytest.raises(ValueError, match="hidden_dim"):
        BCRNNConfig(hidden_dim=0)
    with pytest.raises(ValueError, match="policy"):
        TrainConfig(dataset="dexmg/x-v0", policy="bc-transformer")


def _assert_same_checkpoint(a, b, *, epochs: int) -> None:
    """Two checkpoints of ``epochs`` epochs hold the same losses and every array bit for bit."""
    meta_a, arr_a = load_checkpoint(a)
    meta_b, arr_b = load_checkpoint(b)
    assert meta_a["losses"] == meta_b["losses"] and len(meta_b["losses"]) == epochs
    assert arr_a.keys() == arr_b.keys()
    for k in arr_a:
        np.testing.assert_array_equal(arr_a[k], arr_b[k], err_msg=k)


def test_train_save_load_and_resume(threading_source, tmp_path):
    """Checkpoints reload to the same actions; a run stopped at epoch 2 resumes bit for bit."""
    cfg = TrainConfig(
        dataset=threading_source, epochs=4, steps_per_epoch=3, ckpt_every=2, bc_rnn=SMALL
    )
    straight = train(cfg, tmp_path / "a", progress=False)
    half = train(dataclasses.replace(cfg, epochs=2), tmp_path / "b", progress=False)
    assert half.name == "ckpt_epoch00002.npz"
    # Another model on the same folder is refused.
    with pytest.raises(ValueError, match=r"another config \(model differ\)"):
        train(dataclasses.replace(cfg, epochs=2, bc_rnn=dataclasses.replace(SMALL, hidden_dim=9)),
              tmp_path / "b", progress=False)  # fmt: skip
    # Resume: rename the config file's epochs so the folder looks like a stopped 4-epoch run.
    spec = tmp_path / "b" / "seed0" / "train.json"
    spec.write_text(spec.read_text().replace('"epochs": 2', '"epochs": 4'))
    resumed = train(cfg, tmp_path / "b", progress=False)
    _assert_same_checkpoint(straight, resumed, epochs=4)
    assert (tmp_path / "a" / "seed0" / "loss.png").stat().st_size > 0

    pa, pb = TrainedPolicy(straight), TrainedPolicy(resumed)
    from dexmg_bench.datasets.loader import load

    ep = next(load(threading_source).iterate_episodes())
    for t in range(12):
        obs = {k: v[t] for k, v in ep.observations.items()}
        a, b = pa.act(obs), pb.act(obs)
        np.testing.assert_array_equal(a, b)
        assert a.shape == (14,) and np.all(np.abs(a) <= 1.0)


def test_a_constant_lr_run_trains_on_for_longer_as_one_longer_run(threading_source, tmp_path):
    """A constant-lr run given more epochs ends with the weights of one run of that length.

    The evaluator sees only the new schedule's checkpoints; a cosine run, or a shorter one, is
    refused.
    """
    cfg = TrainConfig(
        dataset=threading_source, epochs=4, steps_per_epoch=2, ckpt_every=2, bc_rnn=SMALL
    )
    straight = train(cfg, tmp_path / "a", progress=False)
    train(dataclasses.replace(cfg, epochs=3, ckpt_every=1), tmp_path / "b", progress=False)
    extended = train(cfg, tmp_path / "b", progress=False)
    _assert_same_checkpoint(straight, extended, epochs=4)
    seed = tmp_path / "b" / "seed0"
    assert sorted(p.name for p in seed.glob("*.npz")) == [
        f"ckpt_epoch0000{e}.npz" for e in (1, 2, 3, 4)
    ]
    assert [p.name for p in run_checkpoints(seed)] == ["ckpt_epoch00002.npz", "ckpt_epoch00004.npz"]
    with pytest.raises(ValueError, match=r"\(epochs differ\).*-> 2"):
        train(dataclasses.replace(cfg, epochs=2), tmp_path / "b", progress=False)
    cosine = dataclasses.replace(cfg, epochs=1, lr_schedule="cosine")
    train(cosine, tmp_path / "c", progress=False)
    with pytest.raises(ValueError, match="Only a constant-lr run.*cosine"):
        train(dataclasses.replace(cosine, epochs=2), tmp_path / "c", progress=False)


def test_checkpoint_is_not_a_pickle(threading_source, tmp_path):
    """A checkpoint loads with allow_pickle=False, and a damaged one names itself."""
    cfg = TrainConfig(
        dataset=threading_source, epochs=1, steps_per_epoch=1, ckpt_every=1, bc_rnn=SMALL
    )
    path = train(cfg, tmp_path, progress=False)
    with np.load(path, allow_pickle=False) as f:
        assert "meta" in f.files
    bad = tmp_path / "bad.npz"
    bad.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="bad.npz"):
        load_checkpoint(bad)


@pytest.mark.parametrize("gmm", [False, True], ids=["mse", "gmm"])
def test_sliding_rollout_acts_as_the_last_step_of_a_training_window(gmm):
    """At step t the sliding actor's action is the training forward's output at the window's end.

    Windows are the last seq_len observations (shorter at the episode start), each run from a
    zero state: the context a training window gives its last step.
    """
    config = dataclasses.replace(SMALL, gmm=gmm, num_modes=1)  # one mode: the mean is the action
    model = BCRNN(config, obs_dim=12, action_dim=4)
    obs = torch.randn(13, 12, generator=torch.Generator().manual_seed(1))
    actor = model.actor(torch.Generator().manual_seed(0))
    for t in range(13):
        got = actor.step(obs[t])
        window = obs[max(0, t - config.seq_len + 1) : t + 1][None]
        out, _ = model(window)
        want = out["mean"][0, -1, 0] if gmm else out["mean"][0, -1]
        torch.testing.assert_close(got, want)


def test_padded_rollout_sees_the_windows_the_sampler_trains_on():
    """``padded``: the actor's window at step t is the sampler's window ending at t.

    Both put the first observation in front of an episode's first steps, so the context at
    t = 0 is seq_len copies of it, in training and at rollout alike.
    """
    from dexmg_bench.baselines.data import Demos, SequenceSampler

    config = dataclasses.replace(SMALL, rollout="padded")
    assert config.pad_before == config.seq_len - 1
    model = BCRNN(config, obs_dim=12, action_dim=4)
    obs = np.random.default_rng(1).normal(size=(9, 12)).astype(np.float32)
    demos = Demos(
        obs=(obs,),
        actions=(np.zeros((9, 4), np.float32),),
        obs_keys=("x",),
        obs_mean=np.zeros(12, np.float32),
        obs_std=np.ones(12, np.float32),
        action_centre=np.zeros(4, np.float32),
        action_half_range=np.ones(4, np.float32),
        env_id="",
    )
    sampler = SequenceSampler(demos, config.window, config.pad_before)
    # Every window the sampler can draw ends at a step of the episode, none past it.
    windows = {}
    rng = np.random.default_rng(0)
    for _ in range(50):
        batch, _, _ = sampler.batch(rng, 8)
        for w in batch:
            last = int(np.flatnonzero((obs == w[-1]).all(1))[0])
            windows[last] = w
    assert sorted(windows) == list(range(9))
    actor = model.actor()
    for t in range(9):
        got = actor.step(torch.from_numpy(obs[t]))
        out, _ = model(torch.from_numpy(windows[t])[None])
        torch.testing.assert_close(got, out["mean"][0, -1])
    np.testing.assert_array_equal(windows[0], np.repeat(obs[:1], config.seq_len, axis=0))


def test_chunk_targets_are_each_steps_next_actions():
    """With ``chunk`` = 3, output slot c of step j is fitted to action j + c of the window."""
    config = dataclasses.replace(SMALL, chunk=3)
    assert config.window == config.seq_len + 2
    model = BCRNN(config, obs_dim=12, action_dim=4)
    gen = torch.Generator().manual_seed(2)
    obs = torch.randn(2, config.window, 12, generator=gen)
    actions = torch.tanh(torch.randn(2, config.window, 4, generator=gen))
    out, _ = model(obs[:, : config.seq_len])
    pred = out["mean"].view(2, config.seq_len, 3, 4)
    want = torch.stack([actions[:, j : j + 3] for j in range(config.seq_len)], dim=1)
    torch.testing.assert_close(model.loss(obs, actions), ((pred - want) ** 2).mean())


def test_chunked_actor_asks_every_chunk_steps_and_plays_the_chunk():
    """Steps 0-2 play the chunk predicted at step 0, steps 3-5 the one predicted at step 3."""
    config = dataclasses.replace(SMALL, chunk=3)
    model = BCRNN(config, obs_dim=12, action_dim=4)
    obs = torch.randn(7, 12, generator=torch.Generator().manual_seed(3))
    actor = model.actor()
    got = torch.stack([actor.step(obs[t]) for t in range(7)])
    for start in (0, 3, 6):
        window = obs[max(0, start - config.seq_len + 1) : start + 1]
        chunk = model.act_window(window)
        assert chunk.shape == (3, 4)
        n = min(3, 7 - start)
        torch.testing.assert_close(got[start : start + n], chunk[:n])


def test_chunk_needs_the_mse_head_and_a_windowed_rollout():
    """A GMM has no chunked head and the reset scheme no window to ask from: both refused."""
    with pytest.raises(ValueError, match="chunk"):
        BCRNNConfig(chunk=4, gmm=True)
    with pytest.raises(ValueError, match="chunk"):
        BCRNNConfig(chunk=4, rollout="reset")
    with pytest.raises(ValueError, match="chunk"):
        BCRNNConfig(chunk=0)


def test_reset_rollout_zeroes_the_state_every_seq_len_steps():
    """The reset scheme (robomimic's): every seq_len steps the state restarts from zero."""
    config = dataclasses.replace(SMALL, rollout="reset")
    model = BCRNN(config, obs_dim=12, action_dim=4)
    obs = torch.randn(8, 12, generator=torch.Generator().manual_seed(1))
    actor = model.actor()
    got = torch.stack([actor.step(obs[t]) for t in range(8)])
    first, _ = model(obs[None, :5])
    second, _ = model(obs[None, 5:])
    torch.testing.assert_close(got, torch.cat([first["mean"][0], second["mean"][0]]))


def test_old_checkpoint_configs_keep_the_reset_rollout():
    """A config saved before ``rollout`` existed loads as the scheme it was evaluated with."""
    saved = SMALL.to_json()
    del saved["rollout"]
    assert BCRNNConfig.from_json(saved).rollout == "reset"
    assert BCRNNConfig.from_json(SMALL.to_json()).rollout == SMALL.rollout == "sliding"
    with pytest.raises(ValueError, match="rollout"):
        BCRNNConfig(rollout="replay")


def test_seeds_trained_in_parallel_write_the_same_checkpoints(threading_source, tmp_path):
    """Two seeds in two worker processes give the same bytes as one after the other here."""
    cfg = TrainConfig(
        dataset=threading_source, epochs=2, steps_per_epoch=3, ckpt_every=1, bc_rnn=SMALL
    )
    configs = [dataclasses.replace(cfg, seed=s) for s in (0, 1)]
    serial = train_seeds(configs, tmp_path / "serial", processes=1, progress=False)
    parallel = train_seeds(configs, tmp_path / "parallel", processes=2, progress=False)
    assert [p.parent.name for p in parallel] == ["seed0", "seed1"]
    for a, b in zip(serial, parallel, strict=True):
        (meta_a, arr_a), (meta_b, arr_b) = load_checkpoint(a), load_checkpoint(b)
        assert a.name == b.name and meta_a["losses"] == meta_b["losses"]
        for k in arr_a:
            np.testing.assert_array_equal(arr_a[k], arr_b[k], err_msg=k)
    seed0, seed1 = (load_checkpoint(p)[1] for p in parallel)
    assert any(not np.array_equal(seed0[k], seed1[k]) for k in seed0 if k.startswith("model/"))
    # a worker's error reaches the caller; a pool of no processes is refused
    missing = [dataclasses.replace(c, dataset="dexmg/no-such-set-v0") for c in configs]
    with pytest.raises(FileNotFoundError, match="no-such-set"):
        train_seeds(missing, tmp_path / "missing", processes=2, progress=False)
    with pytest.raises(ValueError, match="processes"):
        train_seeds(configs, tmp_path / "none", processes=0)


def test_obs_noise_trains_deterministically_and_differs(threading_source, tmp_path):
    """Observation noise is drawn from the run's seed: same seed, same weights; it changes them."""
    cfg = TrainConfig(
        dataset=threading_source, epochs=1, steps_per_epoch=3, ckpt_every=1, bc_rnn=SMALL
    )
    noisy = dataclasses.replace(cfg, obs_noise=0.5)
    runs = {
        name: load_checkpoint(train(c, tmp_path / name, progress=False))[1]
        for name, c in [("plain", cfg), ("noisy_a", noisy), ("noisy_b", noisy)]
    }
    keys = [k for k in runs["plain"] if k.startswith("model/")]
    for k in keys:
        np.testing.assert_array_equal(runs["noisy_a"][k], runs["noisy_b"][k], err_msg=k)
    assert any(not np.array_equal(runs["plain"][k], runs["noisy_a"][k]) for k in keys)
    with pytest.raises(ValueError, match="obs_noise"):
        dataclasses.replace(cfg, obs_noise=float("nan"))
    with pytest.raises(ValueError, match="obs_noise"):
        dataclasses.replace(cfg, obs_noise=-0.1)


def test_cosine_schedule_and_old_run_configs(threading_source, tmp_path):
    """Cosine decay runs from the base rate to 0; a run folder from before an option resumes."""
    from dexmg_bench.baselines.train import learning_rate

    cfg = TrainConfig(
        dataset=threading_source, epochs=2, steps_per_epoch=2, ckpt_every=1, bc_rnn=SMALL
    )
    cos = dataclasses.replace(cfg, lr_schedule="cosine")
    base = SMALL.learning_rate
    assert [learning_rate(cfg, s) for s in (0, 3)] == [base, base]
    assert learning_rate(cos, 0) == base and learning_rate(cos, 4) == 0.0
    assert learning_rate(cos, 2) == pytest.approx(base / 2)
    with pytest.raises(ValueError, match="lr_schedule"):
        dataclasses.replace(cfg, lr_schedule="linear")

    half = train(dataclasses.replace(cfg, epochs=1), tmp_path, progress=False)
    assert half.name == "ckpt_epoch00001.npz"
    spec = tmp_path / "seed0" / "train.json"
    stored = json.loads(spec.read_text())
    del stored["obs_noise"], stored["lr_schedule"]  # as written by a run before these options
    stored["epochs"] = 2
    spec.write_text(json.dumps(stored))
    assert train(cfg, tmp_path, progress=False).name == "ckpt_epoch00002.npz"
    with pytest.raises(ValueError, match="another config"):
        train(cos, tmp_path, progress=False)


def test_a_run_stored_before_chunk_existed_resumes(threading_source, tmp_path):
    """A ``train.json`` without the newer model fields is the same config, not another one."""
    cfg = TrainConfig(
        dataset=threading_source, epochs=2, steps_per_epoch=2, ckpt_every=1, bc_rnn=SMALL
    )
    train(dataclasses.replace(cfg, epochs=1), tmp_path, progress=False)
    spec = tmp_path / "seed0" / "train.json"
    stored = json.loads(spec.read_text())
    del stored["model"]["chunk"]
    stored["epochs"] = 2
    spec.write_text(json.dumps(stored))
    assert train(cfg, tmp_path, progress=False).name == "ckpt_epoch00002.npz"


def test_obs_std_floor_bounds_the_scale_of_nearly_constant_features(threading_source, tmp_path):
    """Features below the floor are divided by the floor; the others keep their own std."""
    cfg = TrainConfig(
        dataset=threading_source, epochs=1, steps_per_epoch=1, ckpt_every=1, bc_rnn=SMALL
    )
    _, low = load_checkpoint(train(cfg, tmp_path / "low", progress=False))
    floored = dataclasses.replace(cfg, obs_std_floor=0.05)
    _, high = load_checkpoint(train(floored, tmp_path / "high", progress=False))
    raw = low["obs_std"]
    assert raw.min() < 0.05, "the shipped Threading demos have features below the floor"
    np.testing.assert_array_equal(high["obs_std"], np.maximum(raw, 0.05))
    with pytest.raises(ValueError, match="obs_std_floor"):
        TrainConfig(dataset="dexmg/x-v0", obs_std_floor=0.0)


def _one_epoch_policy(dataset: str, out, **options) -> TrainedPolicy:
    """The policy of a one-epoch SMALL run with ``options`` (for what it feeds and returns)."""
    cfg = TrainConfig(
        dataset=dataset, epochs=1, steps_per_epoch=1, ckpt_every=1, bc_rnn=SMALL, **options
    )
    return TrainedPolicy(train(cfg, out, progress=False))


def test_time_input_is_the_step_over_the_horizon_in_training_and_at_rollout(
    threading_source, tmp_path
):
    """Training row t ends with t / horizon; the policy's input at its step t equals that row.

    The policy counts its own steps since reset, so a second episode starts the clock again.
    """
    from dexmg_bench.baselines.data import load_demos
    from dexmg_bench.datasets.loader import load

    demos = load_demos(threading_source, time_input=True)
    plain = load_demos(threading_source)
    horizon = load(threading_source).spec.env_spec.max_episode_steps
    assert demos.time_horizon == horizon > 0 and plain.time_horizon == 0
    assert demos.obs_dim == plain.obs_dim + 1
    steps = np.arange(len(demos.obs[0]), dtype=np.float32) / horizon
    np.testing.assert_array_equal(demos.obs[0][:, -1], steps)
    np.testing.assert_array_equal(demos.obs[0][:, :-1], plain.obs[0])

    policy = _one_epoch_policy(threading_source, tmp_path, time_input=True)
    seen = []
    policy.actor.step = lambda x, image=None: seen.append(x.numpy()) or torch.zeros(14)
    ep = next(load(threading_source).iterate_episodes())
    for _ in range(2):  # a second episode starts the clock again
        policy.reset()
        for t in range(5):
            policy.act({k: v[t] for k, v in ep.observations.items()})
    rows = (demos.obs[0][:5] - policy.mean) / policy.std
    np.testing.assert_allclose(np.array(seen[:5]), rows, rtol=1e-6)
    np.testing.assert_allclose(np.array(seen[5:]), rows, rtol=1e-6)


def test_pose_target_runs_learn_targets_and_act_with_deltas(threading_source, tmp_path):
    """The network's outputs are world targets; the policy hands the env the delta toward them.

    A target is what the dataset's delta commands from its step's pose, so at that pose the
    policy's action is the delta the network's target implies (the pure conversions are tested
    in test_pose_targets.py).
    """
    from dexmg_bench.baselines.data import load_demos
    from dexmg_bench.baselines.pose_targets import to_actions
    from dexmg_bench.datasets.loader import load

    demos = load_demos(threading_source, pose_targets=True)
    plain = load_demos(threading_source)
    assert demos.pose_frame is not None and plain.pose_frame is None
    assert demos.action_dim == plain.action_dim + 6  # rot6d in place of a rotation vector per arm
    policy = _one_epoch_policy(threading_source, tmp_path, pose_targets=True)
    assert policy.pose_frame == demos.pose_frame
    target = demos.actions[0][3].astype(np.float64)
    scaled = (target - policy.action_centre) / policy.action_half_range
    policy.actor.step = lambda x, image=None: torch.from_numpy(scaled.astype(np.float32))
    ep = next(load(threading_source).iterate_episodes())
    obs = {k: v[3] for k, v in ep.observations.items()}
    action = policy.act(obs)
    assert action.shape == plain.actions[0][3].shape
    np.testing.assert_allclose(action, to_actions(demos.pose_frame, obs, target), atol=1e-6)
    np.testing.assert_allclose(action, ep.actions[3], atol=1e-4)
