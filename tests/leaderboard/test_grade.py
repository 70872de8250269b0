"""Grading: hidden seeds, identical regrades, the claims test, failures that stay contained."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from dexmg_bench.leaderboard import sandbox
from dexmg_bench.leaderboard.grade import (
    DATASET_UNVERIFIED,
    GradeConfig,
    check_submission,
    grade,
    regrade,
    write_results,
)
from dexmg_bench.leaderboard.manifest import card_sha256, write_manifest
from dexmg_bench.leaderboard.sandbox import SandboxUnavailable, bubblewrap
from dexmg_bench.leaderboard.seeds import dev_seeds, hidden_seeds

REPO = Path(__file__).resolve().parents[2]
CARDS = REPO / "datasets" / "cards"
KEY = b"round-key-for-tests"
SANDBOXED = bubblewrap() is not None
# Bubblewrap where it works; elsewhere these tests grade unsandboxed, as the label then says.
FAST = GradeConfig(episodes=2, max_steps=8, cards=CARDS, allow_unsandboxed=not SANDBOXED)
BOARD = GradeConfig(episodes=2, max_steps=8, cards=CARDS)  # as the board grades: bubblewrap only
NO_BWRAP = "bubblewrap unavailable (apt-get install bubblewrap)"
RAISING_POLICY = """
class Policy:
    def __init__(self, **kw): pass
    def reset(self): pass
    def act(self, obs): raise RuntimeError("boom")
"""


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


def test_progress_counts_every_episode_and_changes_nothing(make_submission, capsys):
    """Grading takes tens of minutes: a bar per task counts all its policies' episodes."""
    folder = make_submission()
    write_manifest(folder)
    quiet, _ = grade(folder, key=KEY, config=FAST)
    assert capsys.readouterr().err == ""
    shown, _ = grade(folder, key=KEY, config=FAST, progress=True)
    err = capsys.readouterr().err
    assert json.dumps(shown, sort_keys=True) == json.dumps(quiet, sort_keys=True)
    assert "grading Threading-D0" in err
    assert "6/6" in err  # 3 training seeds x 1 checkpoint x 2 episodes
    assert "seed 2 final" in err


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


@pytest.mark.skipif(not SANDBOXED, reason=NO_BWRAP)
def test_failed_and_refused_entries_graded_under_bubblewrap_say_bubblewrap(make_submission):
    """Acceptance 4: the sandbox label is what ran the policies, whatever the outcome."""
    folder = make_submission(RAISING_POLICY, method="raises")
    write_manifest(folder)
    res, _ = grade(folder, key=KEY, config=BOARD)
    assert res["status"] == "failed" and "RuntimeError" in res["failure"]["reason"]
    assert res["sandbox"] == "bubblewrap"
    (folder / "policy" / "policy.py").write_text("# changed after the manifest\n")
    res, _ = grade(folder, key=KEY, config=BOARD)
    assert res["failure"]["reason"].startswith("refused:") and res["sandbox"] == "bubblewrap"


def test_board_grading_without_bubblewrap_is_refused_unless_allowed(
    make_submission, monkeypatch, tmp_path, capsys
):
    """No bubblewrap: grading refuses to start; allowed explicitly, it is labelled unsandboxed."""
    from dexmg_bench.cli import main

    folder = make_submission()
    write_manifest(folder)
    monkeypatch.setattr(sandbox, "bubblewrap", lambda: None)
    with pytest.raises(SandboxUnavailable, match="--allow-unsandboxed"):
        grade(folder, key=KEY, config=BOARD)
    res, _ = grade(folder, key=KEY, config=replace(BOARD, allow_unsandboxed=True))
    assert res["failure"] is None, res["failure"]
    assert res["status"] == "unsandboxed" and res["sandbox"] == "unsandboxed"
    keyfile = tmp_path / "key"
    keyfile.write_bytes(KEY)
    monkeypatch.chdir(REPO)  # the dataset cards are found relative to the repository
    args = ["leaderboard", "grade", str(folder), "--key-file", str(keyfile)]
    args += ["--episodes", "1", "--max-steps", "2", "--results", str(tmp_path / "results")]
    with pytest.raises(SystemExit, match="not graded: bubblewrap"):
        main(args)
    assert not (tmp_path / "results").exists()
    main([*args, "--allow-unsandboxed"])
    out = capsys.readouterr().out
    assert out.startswith("unsandboxed: ") and "sandbox: unsandboxed" in out


def test_zero_demo_entry_quoting_a_made_up_hash_is_refused(make_submission, tmp_path):
    """Acceptance 4: declaring 0 demos does not excuse a wrong `dataset.sha256`.

    A card that lists no hash cannot check it: the entry is graded and flagged.
    """
    folder = make_submission()
    path = folder / "submission.yaml"
    data = yaml.safe_load(path.read_text())
    data["dataset"].update(sha256="1" * 64, source_demos=0, generated_demos=0)
    path.write_text(yaml.safe_dump(data))
    write_manifest(folder)
    res, _ = grade(folder, key=KEY, config=FAST)
    assert res["status"] == "failed" and res["tasks"] == {}
    assert "`dataset.sha256` must be" in res["failure"]["reason"]
    cards = tmp_path / "cards"
    (cards / "dexmg").mkdir(parents=True)
    card = (CARDS / "dexmg" / "threading-source-v0.md").read_text()
    no_hash = "\n".join(line for line in card.splitlines() if "sha256" not in line.lower())
    (cards / "dexmg" / "threading-source-v0.md").write_text(no_hash)
    res, _ = grade(folder, key=KEY, config=replace(FAST, cards=cards))
    assert res["failure"] is None, res["failure"]
    assert res["flags"] == ["dataset unverified"]


@pytest.mark.slow
def test_scripted_expert_reference_grades_to_its_known_rate(tmp_path):
    """The oracle entry: the scripted expert succeeds on every Threading-D0 episode (~190 steps).

    Graded from a copy that quotes the card's dataset hash: the committed entry quotes another
    (it uses no demos), which the grader refuses.
    """
    import shutil

    folder = tmp_path / "dexmg__scripted-expert"
    shutil.copytree(REPO / "leaderboard" / "submissions" / folder.name, folder)
    path = folder / "submission.yaml"
    data = yaml.safe_load(path.read_text())
    data["dataset"]["sha256"] = card_sha256(data["dataset"]["id"], CARDS)
    path.write_text(yaml.safe_dump(data))
    write_manifest(folder)
    config = GradeConfig(episodes=2, max_steps=300, cards=CARDS, allow_unsandboxed=not SANDBOXED)
    res, _ = grade(folder, key=KEY, config=config)
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
        _, warnings = check_submission(folder, CARDS)  # the quoted dataset hash is the card's
        assert not [w for w in warnings if w.startswith(DATASET_UNVERIFIED)], folder.name
        sub_id = verify_manifest(Path(folder))
        results = REPO / "leaderboard" / "results" / f"{sub_id}.json"
        assert json.loads(results.read_text())["folder"] == folder.name
