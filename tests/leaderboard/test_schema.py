"""submission.yaml: a valid folder parses; errors name the file, the field and the valid set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dexmg_bench.leaderboard.grade import check_submission
from dexmg_bench.leaderboard.schema import SubmissionError, checkpoints, load_submission

REPO = Path(__file__).resolve().parents[2]
CARDS = REPO / "datasets" / "cards"


def test_valid_submission_parses(make_submission):
    """A well-formed folder parses; its dataset hash matches the card's, so no warning."""
    folder = make_submission()
    sub = load_submission(folder)
    assert sub.folder_name == "test__random"
    assert sub.tasks == ("Threading-D0",)
    assert sub.training_seeds == (0, 1, 2)
    assert {s: sorted(c) for s, c in checkpoints(folder, sub, "Threading-D0").items()} == {
        0: ["final"], 1: ["final"], 2: ["final"],
    }  # fmt: skip
    _, warnings = check_submission(folder, CARDS)
    assert warnings == []


def test_dataset_hash_is_checked_against_the_card(make_submission, tmp_path):
    """A wrong hash is refused with the card's value, whatever the demo counts.

    A card that lists no hash gives a `dataset unverified` warning.
    """
    folder = make_submission()
    path = folder / "submission.yaml"
    data = yaml.safe_load(path.read_text())
    listed = data["dataset"]["sha256"]
    assert len(listed) == 64
    data["dataset"]["sha256"] = "0" * 64
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SubmissionError, match=f"`dataset.sha256` must be {listed}"):
        check_submission(folder, CARDS)
    cards = tmp_path / "cards"
    (cards / "dexmg").mkdir(parents=True)
    card = (CARDS / "dexmg" / "threading-source-v0.md").read_text()
    no_hash = "\n".join(line for line in card.splitlines() if "sha256" not in line.lower())
    (cards / "dexmg" / "threading-source-v0.md").write_text(no_hash)
    unverified = [
        "dataset unverified: the dataset card of dexmg/threading-source-v0 lists no sha256, so "
        "`dataset.sha256` was not checked"
    ]
    assert check_submission(folder, cards)[1] == unverified
    data["dataset"]["source_demos"] = 0  # no demonstrations used: the quoted hash still counts
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SubmissionError, match=f"`dataset.sha256` must be {listed}"):
        check_submission(folder, CARDS)
    assert check_submission(folder, cards)[1] == unverified


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("track", "video", "`track` must be one of ('lowdim', 'image'); got 'video'"),
        ("tasks", ["Threading"], "`tasks` must be items like 'Threading-D0'; got 'Threading'"),
        ("training_seeds", [0, 1], "`training_seeds` must be 3 distinct integers; got (0, 1)"),
        ("contact", "nobody", "`contact` must be an e-mail address; got 'nobody'"),
        ("colour", "red", "unknown fields ['colour']; valid fields:"),
    ],
    ids=["track", "tasks", "seeds", "contact", "unknown"],
)
def test_errors_name_file_field_and_valid(make_submission, field, value, message):
    """Each error starts with the file and names the field and what is valid."""
    folder = make_submission()
    path = folder / "submission.yaml"
    data = yaml.safe_load(path.read_text())
    data[field] = value
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SubmissionError) as err:
        load_submission(folder)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


def test_nested_field_error(make_submission):
    """Nested fields are named with their dotted path."""
    folder = make_submission()
    path = folder / "submission.yaml"
    data = yaml.safe_load(path.read_text())
    data["dataset"]["sha256"] = "xyz"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SubmissionError, match=r"`dataset.sha256` must be 64 hex digits; got 'xyz'"):
        load_submission(folder)


def test_an_all_digit_commit_read_as_a_number_says_to_quote_it(make_submission):
    """YAML reads ``commit: 519371473049`` as an int; the error says how to write it."""
    folder = make_submission()
    path = folder / "submission.yaml"
    data = yaml.safe_load(path.read_text())
    data["code"]["commit"] = 519371473049
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SubmissionError, match=r'quote it: commit: "519371473049"'):
        load_submission(folder)


def test_folder_name_must_match(make_submission, tmp_path):
    """The folder name must be <team>__<method>, so ids map to folders."""
    folder = make_submission()
    moved = folder.rename(tmp_path / "someone__else")
    with pytest.raises(SubmissionError, match="folder must be named 'test__random'"):
        load_submission(moved)


def test_unknown_task_and_version(make_submission):
    """Unknown tasks and other benchmark versions are refused."""
    folder = make_submission()
    path = folder / "submission.yaml"
    data = yaml.safe_load(path.read_text())
    data["tasks"] = ["Juggling-D0"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SubmissionError, match="unknown task 'Juggling'"):
        check_submission(folder, CARDS)
    data["tasks"], data["benchmark_version"] = ["Threading-D0"], "9.0.0"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SubmissionError, match="`benchmark_version` must be 0.1.0"):
        check_submission(folder, CARDS)


def test_claims_must_cover_the_checkpoints(make_submission):
    """Claims must cover exactly the submitted checkpoints."""
    folder = make_submission(ckpts=("epoch10", "epoch20"))
    claims = folder / "claims" / "Threading-D0.json"
    data = json.loads(claims.read_text())
    del data["success_rate"]["1"]["epoch20"]
    claims.write_text(json.dumps(data))
    with pytest.raises(SubmissionError, match="exactly the checkpoints"):
        check_submission(folder, CARDS)


def test_too_many_checkpoints(make_submission):
    """At most 5 checkpoints per training seed."""
    folder = make_submission(ckpts=tuple(f"c{i}" for i in range(6)))
    with pytest.raises(SubmissionError, match="needs 1 to 5 checkpoints"):
        check_submission(folder, CARDS)
