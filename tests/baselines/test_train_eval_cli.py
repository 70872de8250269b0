"""`dexmg train` then `dexmg eval` on a source dataset, through the command line."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch", reason="baselines need the `baselines` extra (torch)")

from dexmg_bench.cli import main  # noqa: E402


def _train(dataset, out, epochs, steps, seeds=("0",)):
    main(
        [
            "train",
            "--dataset", dataset,
            "--out", str(out),
            "--seeds", *seeds,
            "--epochs", str(epochs),
            "--steps-per-epoch", str(steps),
            "--ckpt-every", str(max(1, epochs // 2)),
            "--bc-rnn.hidden-dim", "32",
            "--bc-rnn.num-layers", "1",
            "--bc-rnn.batch-size", "16",
            "--bc-rnn.learning-rate", "1e-3",
        ]
    )  # fmt: skip


def test_train_then_eval_two_seeds(threading_source, tmp_path, capsys):
    """Two seeds x two checkpoints, 2 episodes each: a results JSON with the protocol's shape."""
    run = tmp_path / "run"
    _train(threading_source, run, epochs=2, steps=2, seeds=("0", "1"))
    assert sorted(p.name for p in (run / "seed1").glob("*.npz")) == [
        "ckpt_epoch00001.npz",
        "ckpt_epoch00002.npz",
    ]
    out = tmp_path / "eval.json"
    main(["eval", "--run", str(run), "--episodes", "2", "--workers", "1", "--max-steps", "20",
          "--out", str(out)])  # fmt: skip
    res = json.loads(out.read_text())
    assert res["task"] == "Threading" and res["policy"] == "bc-rnn"
    assert [r["training_seed"] for r in res["per_seed"]] == [0, 1]
    assert set(res["per_seed"][0]["rates"]) == {"ckpt_epoch00001", "ckpt_epoch00002"}
    assert len(res["episodes"]["1/ckpt_epoch00002"]) == 2
    assert "training seed 1" in capsys.readouterr().out
    resume = tmp_path / "eval.checkpoints.jsonl"
    assert not resume.exists()  # kept only while the evaluation runs

    # A checkpoint finished by an interrupted evaluation is read back, not rerun (planted
    # here with every episode a success, so the rerun's rate shows where it came from).
    planted = [{**e, "success": True} for e in res["episodes"]["0/ckpt_epoch00001"]]
    proto = {k: v for k, v in res["protocol"].items() if k != "workers"}
    line = {"protocol": proto, "env_id": res["env_id"], "start_from": None,
            "checkpoint": "0/ckpt_epoch00001", "seconds": 1.0, "episodes": planted}  # fmt: skip
    resume.write_text(json.dumps(line) + "\n")
    main(["eval", "--run", str(run), "--episodes", "2", "--workers", "1", "--max-steps", "20",
          "--out", str(out)])  # fmt: skip
    again = json.loads(out.read_text())
    assert again["per_seed"][0]["rates"]["ckpt_epoch00001"] == 1.0
    key = "1/ckpt_epoch00002"
    outcomes = [
        [(e["seed"], e["success"], e["steps"]) for e in r["episodes"][key]] for r in (again, res)
    ]
    assert outcomes[0] == outcomes[1]  # the other checkpoints ran again: the same episodes
    assert not resume.exists()


@pytest.mark.slow
def test_bc_rnn_trained_on_source_demos_runs_end_to_end(threading_source, tmp_path):
    """Acceptance: a low-dim BC-RNN trains on CPU and `dexmg eval` rolls it out on full episodes."""
    run = tmp_path / "run"
    _train(threading_source, run, epochs=20, steps=50)
    out = tmp_path / "eval.json"
    main(["eval", "--run", str(run), "--episodes", "4", "--workers", "2", "--out", str(out)])
    res = json.loads(out.read_text())
    losses = json.loads((run / "seed0" / "log.jsonl").read_text().splitlines()[-1])["loss"]
    first = json.loads((run / "seed0" / "log.jsonl").read_text().splitlines()[0])["loss"]
    assert losses < 0.5 * first
    assert 0.0 <= res["success_mean"] <= 1.0
    assert all(len(v) == 4 for v in res["episodes"].values())
