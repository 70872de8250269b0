"""Grading: hidden seeds, identical regrades, the claims test, failures that stay contained."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from dexmg_bench.leaderboard.grade import GradeConfig, grade, regrade, write_results
from dexmg_bench.leaderboard.manifest import write_manifest
from dexmg_bench.leaderboard.sandbox import bubblewrap
from dexmg_bench.leaderboard.seeds import dev_seeds, hidden_seeds

REPO = Path(__file__).resolve().parents[2]
CARDS = REPO / "datasets" / "cards"
KEY = b"round-key-for-tests"
FAST = GradeConfig(episodes=2, max_steps=8, cards=CARDS)
SANDBOXED = bubblewrap() is not None


def _episodes(res: dict, task: str = "Threading-D0") -> dict:
    return res["tasks"][task]["episodes"]


def test_hidden_seeds_depend_on_key_submission_and_seed():
    """Seeds change with every input, so none can be guessed or reused across entries."""
    a = hidden_seeds(KEY, "abc", "Threading-D0", 0, 5)
    assert a == hidden_seeds(KEY, "abc", "Threading-D0", 0, 5)
    assert a != hidden_seeds(b"other", "abc", "Threading-D0", 0, 5)
    assert a != hidden_seeds(KEY, "abd", "Threading-D0", 0, 5)
    assert a != hidden_seeds(KEY, "abc", "Threading-D0", 1, 5)
    assert all(0 <= s < 2**32 for s in a)


def test_grade_twice_is_identical_and_regrade_reproduces(make_submission, tmp_path):
    """Acceptance 3: one key gives identical results JSON, and regrade reproduces it."""
    folder = make_submission()
    sid = write_manifest(folder)
    res1, run = grade(folder, key=KEY, config=FAST)
    res2, _ = grade(folder, key=KEY, config=FAST)
    assert res1["failure"] is None, res1["failure"]
    assert res1["status"] == ("verified" if SANDBOXED else "unsandboxed")
    assert res1["submission_id"] == sid
    assert json.dumps(res1, sort_keys=True) == json.dumps(res2, sort_keys=True)
    eps = _episodes(res1)
    assert sorted(eps) == ["0/final", "1/final", "2/final"]
    assert [e["seed"] for e in eps["1/final"]] == hidden_seeds(KEY, sid, "Threading-D0", 1, 2)
    assert [e["seed"] for e in eps["1/final"]] != dev_seeds(1, 2)
    assert all(e["steps"] == 8 for v in eps.values() for e in v)
    assert run["actions"] == 3 * 2 * 8 and run["ms_per_action"]["mean"] > 0
    out = write_results(res1, run, tmp_path / "results")
    same, _ = regrade(out, folder.parent, key=KEY, config=FAST)
    assert same
    with pytest.raises(ValueError, match="the given key hashes to"):
        regrade(out, folder.parent, key=b"wrong", config=FAST)


def test_without_key_dev_seeds_and_self_graded(make_submission):
    """Without the round key the grader uses the public dev seeds and says so."""
    folder = make_submission()
    write_manifest(folder)
    res, _ = grade(folder, key=None, config=FAST)
    assert res["status"] == "self-graded" and res["seeds"] == "dev"
    assert [e["seed"] for e in _episodes(res)["0/final"]] == dev_seeds(0, 2)


def test_random_claiming_100_percent_is_flagged(make_submission):
    """Acceptance 1: a false claim is graded at the real rate and flagged."""
    honest = make_submission(claimed=0.0)
    write_manifest(honest)
    res, _ = grade(honest, key=KEY, config=FAST)
    assert res["flags"] == [] and res["tasks"]["Threading-D0"]["success_mean"] == 0.0
    liar = make_submission(method="liar", claimed=1.0)
    write_manifest(liar)
    res, _ = grade(liar, key=KEY, config=FAST)
    claims = res["tasks"]["Threading-D0"]["claims"]
    assert res["flags"] == ["claims inconsistent"]
    assert claims["gap"] == 1.0 and not claims["consistent"]
    assert res["tasks"]["Threading-D0"]["success_mean"] == 0.0  # graded at its real rate


def test_escaping_policy_fails_and_the_grader_carries_on(make_submission):
    """A violation mid-grading fails the entry with its reason; the next entry grades."""
    bad = make_submission(
        "import gc\nclass Policy:\n"
        "    def __init__(self, **kw): pass\n    def reset(self): pass\n"
        "    def act(self, obs): return gc.get_objects()\n",
        method="sneaky",
    )
    write_manifest(bad)
    res, _ = grade(bad, key=KEY, config=FAST)
    assert res["status"] == "failed"
    assert res["failure"]["reason"].startswith("violation: gc.get_objects")
    assert res["failure"]["training_seed"] == 0 and res["failure"]["task"] == "Threading-D0"
    good = make_submission()
    write_manifest(good)
    assert grade(good, key=KEY, config=FAST)[0]["failure"] is None


def test_changed_checkpoint_and_pickle_are_refused(make_submission):
    """Acceptance 2: a checkpoint edited after the manifest, or a pickle, is refused."""
    folder = make_submission()
    write_manifest(folder)
    np.savez(folder / "checkpoints" / "seed2" / "final.npz", seed=np.array(7))
    res, _ = grade(folder, key=KEY, config=FAST)
    assert res["status"] == "failed"
    assert "checkpoints/seed2/final.npz: changed after the manifest" in res["failure"]["reason"]
    folder = make_submission(method="pickled")
    (folder / "checkpoints" / "seed0" / "final.npz").write_bytes(pickle.dumps(np.zeros(3)))
    write_manifest_error = None
    try:
        write_manifest(folder)
    except ValueError as err:
        write_manifest_error = str(err)
    assert write_manifest_error is not None and "pickle files are refused" in write_manifest_error
    res, _ = grade(folder, key=KEY, config=FAST)
    assert res["status"] == "failed" and "pickle files are refused" in res["failure"]["reason"]


@pytest.mark.slow
def test_scripted_expert_reference_grades_to_its_known_rate():
    """The oracle entry: the scripted expert succeeds on every Threading-D0 episode (~190 steps)."""
    folder = REPO / "leaderboard" / "submissions" / "dexmg__scripted-expert"
    res, _ = grade(folder, key=KEY, config=GradeConfig(episodes=2, max_steps=300, cards=CARDS))
    assert res["failure"] is None, res["failure"]
    assert res["tasks"]["Threading-D0"]["success_mean"] == 1.0
    assert res["flags"] == []


def test_reference_entries_verify():
    """Every committed entry matches its manifest and has the grader's results for that id."""
    import json

    from dexmg_bench.leaderboard.manifest import verify_manifest

    folders = sorted((REPO / "leaderboard" / "submissions").iterdir())
    assert {"dexmg__scripted-expert", "dexmg__random", "dexmg__bc-rnn-threading"} <= {
        f.name for f in folders
    }
    for folder in folders:
        assert (folder / "MANIFEST.sha256").is_file()
        sub_id = verify_manifest(Path(folder))
        results = REPO / "leaderboard" / "results" / f"{sub_id}.json"
        assert json.loads(results.read_text())["folder"] == folder.name
