"""Bad input to every ``dexmg`` subcommand: one message naming the input, exit status 2.

Each case is a command line with a wrong option, name or file and a piece of text the message
must contain (``{name}`` is a file made by the ``files`` fixture). Every case must fail before any
simulation, training or writing starts: the working folder stays empty.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from dexmg_bench.cli import main
from dexmg_bench.errors import UserInputError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Wrong files of every kind: truncated, empty, binary, a folder, foreign formats."""
    from dexmg_bench.datasets.source import shipped_source_file
    from dexmg_bench.generators.spec import spec_path

    root = tmp_path_factory.mktemp("bad")
    source = shipped_source_file("Threading").read_bytes()
    (root / "trunc.hdf5").write_bytes(source[: len(source) // 2])
    with h5py.File(root / "other.hdf5", "w") as f:  # valid HDF5, not source demos
        f["x"] = [1, 2, 3]
    for name in ("empty.hdf5", "empty_spec.toml", "empty_inputs.npz", "empty_key.txt"):
        (root / name).write_bytes(b"")
    (root / "binary.toml").write_bytes(bytes(range(128, 256)) * 8)
    (root / "garbage.npz").write_bytes(bytes(range(256)) * 8)
    (root / "folder").mkdir()
    (root / "syntax.toml").write_text('task = "Threading"\n[[right]\nname = "grasp"\n')
    threading = spec_path("Threading").read_text()
    (root / "banana.toml").write_text(threading.replace('"stand"', '"banana"', 1))
    (root / "coffee.toml").write_text(spec_path("Coffee").read_text())
    (root / "bad_run" / "seed0").mkdir(parents=True)
    (root / "bad_run" / "seed0" / "ckpt_epoch1.npz").write_bytes(b"not a zip")
    (root / "bad_sub").mkdir()
    (root / "bad_sub" / "submission.yaml").write_text("track: [")
    (root / "bigym").mkdir()
    (root / "bigym" / "demo.safetensors").write_bytes(b"\x00" * 16)
    (root / "key").write_text("round key")
    (root / "other_job").mkdir()  # the folder of another generation job
    (root / "other_job" / "job.json").write_text('{"task": "Coffee", "n": 3}')
    (root / "broken_job").mkdir()
    (root / "broken_job" / "job.json").write_text('{"task": ')
    paths = {p.stem if p.is_file() else p.name: str(p) for p in root.iterdir()}
    paths["missing"] = str(root / "missing.hdf5")
    paths["campaign"] = str(REPO / "baselines" / "configs" / "table1.toml")
    return paths


def case(argv: str, expected: str, id: str) -> pytest.param:  # noqa: A002 (pytest's name)
    """One command line (split on spaces) and the text its message must contain."""
    return pytest.param(argv.split(), expected, id=id)


GENERATE = [
    case("generate --task Threadng", "Did you mean ['Threading']", "task-typo"),
    case("generate --n -5", "--n must be >= 1. Got -5", "n-negative"),
    case("generate --n 0", "--n must be >= 1", "n-zero"),
    case("generate --n nan", "--n", "n-nan"),
    case("generate --n many", "--n", "n-text"),
    case("generate --n 1.5", "--n", "n-float"),
    case("generate --variant D9", "'D9'", "variant"),
    case("generate --source {trunc}", "{trunc}", "source-truncated"),
    case("generate --source {missing}", "{missing}", "source-missing"),
    case("generate --source {empty}", "{empty}", "source-empty"),
    case("generate --source {folder}", "{folder}", "source-folder"),
    case("generate --source {other}", "{other}", "source-not-source-demos"),
    case("generate --source {banana}", "{banana}", "source-is-toml"),
    case("generate --spec {syntax}", "{syntax}", "spec-syntax"),
    case("generate --spec {banana}", "'banana'", "spec-unknown-object"),
    case("generate --spec {coffee}", "{coffee}", "spec-wrong-task"),
    case("generate --spec {binary}", "{binary}", "spec-binary"),
    case("generate --spec {empty_spec}", "{empty_spec}", "spec-empty"),
    case("generate --spec {folder}", "{folder}", "spec-folder"),
    case("generate --spec {trunc}", "{trunc}", "spec-is-hdf5"),
    case("generate --time-warp inf", "--time-warp", "time-warp-inf"),
    case("generate --time-warp nan", "--time-warp", "time-warp-nan"),
    case("generate --generator demo-noise --action-noise nan", "--action-noise", "noise-nan"),
    case("generate --generator demo-noise --action-noise inf", "--action-noise", "noise-inf"),
    case("generate --workers 0", "--workers", "workers-zero"),
    case("generate --max-attempts -1", "--max-attempts", "max-attempts-negative"),
    case("generate --generator foo", "--generator", "generator-unknown"),
    case("generate --address ray://x", "--address", "address-without-ray"),
    case("generate --out {empty}", "{empty}", "out-is-a-file"),
    case("generate --seed -1", "--seed", "seed-negative"),
    case("generate --out {other_job}", "holds a different job", "out-of-another-job"),
    case("generate --out {broken_job}", "job.json", "out-with-a-broken-job-file"),
    case("generate --task", "--task", "task-without-value"),
]
DEMO = [
    case("demo --task Threadng", "Did you mean ['Threading']", "task-typo"),
    case("demo --n 0", "--n", "n-zero"),
    case("demo --variant D9", "'D9'", "variant"),
    case("demo --size 0", "--size", "size-zero"),
    case("demo --seed -1", "--seed", "seed-negative"),
]
SOURCE = [
    case("rollout --task Threadng", "Did you mean ['Threading']", "rollout-task-typo"),
    case("rollout --variant D9", "'D9'", "rollout-variant"),
    case("rollout --size 0", "--size", "rollout-size-zero"),
    case("rollout --seed -1", "--seed", "rollout-seed-negative"),
    case("source --task Threadng", "Did you mean ['Threading']", "source-task-typo"),
    case("source --n 0", "--n", "source-n-zero"),
    case("source --variant D9", "'D9'", "source-variant"),
    case("source --out {folder}", "{folder}", "source-out-folder"),
    case("replay --file {trunc}", "{trunc}", "replay-truncated"),
    case("replay --file {missing}", "{missing}", "replay-missing"),
    case("replay --file {empty}", "{empty}", "replay-empty"),
    case("replay --file {folder}", "{folder}", "replay-folder"),
    case("replay --file {other}", "{other}", "replay-not-source-demos"),
    case("replay --file {binary}", "{binary}", "replay-binary"),
    case("replay {trunc}", "--file", "replay-without-file-option"),
    case("expert-rate --task Threadin", "Did you mean ['Threading']", "expert-rate-task-typo"),
    case("expert-rate --n 0", "--n", "expert-rate-n-zero"),
    case("expert-rate --variant D9", "'D9'", "expert-rate-variant"),
]
DATASETS = [
    case("datasets build --tasks Threadng", "Did you mean ['Threading']", "build-task-typo"),
    case("datasets build --flagship -1", "flagship", "build-flagship-negative"),
    case("datasets build --workers 0", "workers", "build-workers-zero"),
    case("datasets build --tasks Threading --generated {missing}", "{missing}", "build-generated"),
    case("datasets write {missing}", "{missing}", "write-missing"),
    case("datasets write {trunc}", "{trunc}", "write-truncated"),
    case("datasets write {empty}", "{empty}", "write-empty"),
    case("datasets write {folder}", "{folder}", "write-folder-not-a-job"),
    case("datasets card dexmg/nope-v0", "dexmg/nope-v0", "card-unknown"),
    case("datasets hash dexmg/nope-v0", "dexmg/nope-v0", "hash-unknown"),
    case("datasets render dexmg/nope-v0", "dexmg/nope-v0", "render-unknown"),
    case("datasets render dexmg/nope-v0 --size 4", "size", "render-size"),
    case("datasets render dexmg/nope-v0 --workers 0", "workers", "render-workers"),
    case("datasets publish dexmg/nope-v0 --remote nope", "nope", "publish-remote"),
    case("datasets download dexmg/nope --remote nope", "nope", "download-remote"),
    case("datasets export-robomimic {missing} --out x.hdf5", "{missing}", "export-rm-missing"),
    case("datasets export-robomimic {trunc} --out x.hdf5", "{trunc}", "export-rm-truncated"),
    case("datasets export-robomimic {other} --out x.hdf5", "{other}", "export-rm-foreign"),
    case("datasets import-robomimic {missing} --out x.hdf5", "{missing}", "import-rm-missing"),
    case("datasets import-robomimic {empty} --out x.hdf5", "{empty}", "import-rm-empty"),
    case("datasets import-robomimic {other} --out x.hdf5", "{other}", "import-rm-foreign"),
    case("datasets import-robomimic {folder} --out x.hdf5", "{folder}", "import-rm-folder"),
    case("datasets export-source dexmg/nope-v0 --out x.hdf5", "dexmg/nope-v0", "export-source"),
]
TRAIN = [
    case("train --dataset dexmg/nope-v0 --out o", "dexmg/nope-v0", "train-dataset-unknown"),
    case("train --dataset nope --out o", "nope", "train-dataset-malformed"),
    case("train --dataset dexmg/nope-v0 --out o --epochs 0", "--epochs", "train-epochs-zero"),
    case(
        "train --dataset x --out o --bc-rnn.learning-rate nan",
        "--bc-rnn.learning-rate",
        "train-lr-nan",
    ),
    case("train --dataset x --out o --seeds x", "--seeds", "train-seeds-text"),
    case("train --dataset x --out o --seeds -1", "--seeds", "train-seeds-negative"),
    case("train --dataset dexmg/nope-v0 --out {empty}", "{empty}", "train-out-is-a-file"),
    case("eval --run {missing}", "{missing}", "eval-run-missing"),
    case("eval --run {folder}", "{folder}", "eval-run-without-checkpoints"),
    case("eval --run {bad_run}", "ckpt_epoch1.npz", "eval-checkpoint-corrupt"),
    case("eval", "--run", "eval-run-required"),
    case("eval --policy expert", "--task", "eval-task-required"),
    case("eval --policy expert --task Threadng", "Did you mean ['Threading']", "eval-task-typo"),
    case("eval --policy random --task Threading --variant D9", "'D9'", "eval-variant"),
    case("eval --policy random --task Threading --episodes 0", "--episodes", "eval-episodes"),
    case("eval --policy random --task Threading --workers 0", "--workers", "eval-workers"),
    case("eval --policy random --task BiGym-FlipCup --variant D1", "'D1'", "eval-variant-of-task"),
    case(
        "eval --policy random --task Threading --start-from dexmg/nope-v0",
        "dexmg/nope-v0",
        "eval-start-from",
    ),
    case("eval --policy expret --task Threading", "unknown --policy 'expret'", "eval-policy"),
    case("eval --policy sb3:x.zip", "--task", "eval-external-task-required"),
    case("eval --policy sb4:x.zip --task Threading", "unknown policy kind 'sb4'", "eval-prefix"),
    case("eval --policy sb3:{missing} --task Threading", "{missing}", "eval-sb3-missing"),
    case("eval --policy sb3:{folder} --task Threading", "{folder}", "eval-sb3-folder"),
    case("eval --policy sb3:{garbage} --task Threading", "{garbage}", "eval-sb3-not-a-zip"),
    case("eval --policy sb3:{empty} --task Threading", "{empty}", "eval-sb3-empty"),
    case("eval --policy robomimic:{missing} --task Threading", "{missing}", "eval-rm-missing"),
    case(
        "eval --policy nosuchpkg.policies:make --task Threading",
        "cannot import 'nosuchpkg.policies'",
        "eval-module-not-importable",
    ),
    case(
        "eval --policy dexmg_bench.errors:make_policy --task Threading",
        "has no attribute 'make_policy'",
        "eval-callable-missing",
    ),
    case(
        "eval --policy dexmg_bench.errors:__all__ --task Threading",
        "give a factory",
        "eval-not-callable",
    ),
]
REFERENCE = [
    case("reference run {missing}", "{missing}", "run-missing"),
    case("reference report {syntax}", "{syntax}", "report-syntax"),
    case("reference report {binary}", "{binary}", "report-binary"),
    case("reference report {folder}", "{folder}", "report-folder"),
    case("reference report {empty_spec}", "{empty_spec}", "report-empty"),
    case("reference report {coffee}", "{coffee}", "report-not-a-campaign"),
    case("reference run {campaign} --data foo", "foo", "run-unknown-data"),
    case("reference run {campaign} --tasks Foo", "Foo", "run-unknown-task"),
    case("reference package {campaign} --task Foo", "Foo", "package-unknown-task"),
    case(
        "reference package {campaign} --task Transport --results {folder}",
        "no results yet",
        "package-cell-not-run",
    ),
]
LEADERBOARD = [
    case("leaderboard submit {missing}", "{missing}", "submit-missing"),
    case("leaderboard submit {empty}", "{empty}", "submit-file"),
    case("leaderboard submit {bad_sub}", "not valid YAML", "submit-bad-yaml"),
    case("leaderboard submit {bad_sub} --max-ms-per-action nan", "--max-ms", "submit-latency"),
    case("leaderboard submit {bad_sub} --max-ms-per-action inf", "--max-ms", "submit-latency-inf"),
    case("leaderboard submit {bad_sub} --smoke-steps -1", "--smoke-steps", "submit-steps"),
    case("leaderboard grade {missing}", "{missing}", "grade-missing"),
    case("leaderboard grade {bad_sub} --key-file {missing}", "{missing}", "grade-key-missing"),
    case("leaderboard grade {bad_sub} --key-file {empty_key}", "{empty_key}", "grade-key-empty"),
    case("leaderboard grade {bad_sub} --key-file {folder}", "{folder}", "grade-key-folder"),
    case("leaderboard grade {bad_sub} --episodes 0", "--episodes", "grade-episodes"),
    case("leaderboard grade {bad_sub} --workers 0", "--workers", "grade-workers"),
    case("leaderboard grade {bad_sub} --episodes many", "--episodes", "grade-episodes-text"),
    case("leaderboard regrade nope --key-file {key} --results {folder}", "nope", "regrade-id"),
    case("leaderboard regrade nope --key-file {missing}", "{missing}", "regrade-key-missing"),
    case("leaderboard build-site --results {missing}", "{missing}", "build-site-results"),
]
TELEOP = [
    case("teleop --device joystick", "unknown device 'joystick'", "device-unknown"),
    case("teleop --device replay", "--inputs", "replay-without-inputs"),
    case("teleop --device replay --inputs {missing}", "{missing}", "inputs-missing"),
    case("teleop --device replay --inputs {garbage}", "{garbage}", "inputs-garbage"),
    case("teleop --device replay --inputs {empty_inputs}", "{empty_inputs}", "inputs-empty"),
    case("teleop --device replay --inputs {folder}", "{folder}", "inputs-folder"),
    case("teleop --task Threadng --device replay --inputs {garbage}", "Threadng", "task-typo"),
    case("teleop --variant D9 --device replay --inputs {garbage}", "'D9'", "variant"),
    case("teleop --device replay --inputs {garbage} --seed -1", "--seed", "seed-negative"),
]
BIGYM = [
    case("bigym inspect {missing}", "{missing}", "inspect-missing"),
    case("bigym inspect {bigym}", "demo.safetensors", "inspect-bad-file"),
    case("bigym import-demos {missing} --task BiGym-FlipCup", "{missing}", "import-missing"),
    case("bigym import-demos {bigym} --task BiGym-Nope", "BiGym-Nope", "import-task"),
    case("bigym inspect {bigym} --frequency -1", "--frequency", "inspect-frequency"),
    case(
        "bigym import-demos {bigym} --task BiGym-FlipCup --max-demos -1",
        "--max-demos",
        "import-max-demos",
    ),
]
OTHER = [
    case("envs --json-output maybe", "maybe", "envs-extra-value"),
    case("nosuch", "nosuch", "unknown-subcommand"),
    case("generate --no-such-option 1", "--no-such-option", "unknown-option"),
]
CORPUS = [
    pytest.param(*p.values, id=f"{group}-{p.id}")
    for group, cases in {
        "generate": GENERATE,
        "demo": DEMO,
        "source": SOURCE,
        "datasets": DATASETS,
        "train": TRAIN,
        "reference": REFERENCE,
        "leaderboard": LEADERBOARD,
        "teleop": TELEOP,
        "bigym": BIGYM,
        "other": OTHER,
    }.items()
    for p in cases
]


def _plain(text: str) -> str:
    """The text of tyro's boxed messages: frame characters gone, lines joined."""
    text = re.sub(r"[│╭╮╰╯─]", " ", text)
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder (default outputs land here); Minari's store is elsewhere."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path.parent / f"{tmp_path.name}-minari"))
    monkeypatch.delenv("DEXMG_DEBUG", raising=False)
    return tmp_path


@pytest.mark.parametrize(("argv", "expected"), CORPUS)
def test_bad_input_exits_2_with_one_message_naming_it(argv, expected, files, workdir, capsys):
    """Status 2, no traceback, the message names the input; nothing is written."""
    with pytest.raises(SystemExit) as exc:
        main([a.format(**files) for a in argv])
    out = capsys.readouterr()
    assert exc.value.code == 2, out.out + out.err
    assert "Traceback" not in out.out + out.err
    assert expected.format(**files) in _plain(out.err), out.err
    assert not any(workdir.iterdir()), list(workdir.iterdir())


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["generate", "--task", "Threadng"], "Did you mean ['Threading']"),
        (["generate", "--spec", "{binary}"], "{binary}"),
        (["replay", "--file", "{trunc}"], "{trunc}"),
        (["generate", "--n", "nan"], "--n"),
    ],
    ids=["unknown-task", "binary-spec", "truncated-source", "tyro-type-error"],
)
def test_a_real_terminal_sees_no_traceback(argv, expected, files, tmp_path):
    """Run as the console script runs: only the message reaches the terminal."""
    proc = subprocess.run(
        [sys.executable, "-m", "dexmg_bench.cli", *(a.format(**files) for a in argv)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert expected.format(**files) in _plain(proc.stderr)


def test_input_errors_print_one_dexmg_error_line(capsys):
    """The boundary's own format: ``dexmg: error: <message>`` on stderr, nothing on stdout."""
    with pytest.raises(SystemExit, match="unknown task 'Threadng'"):
        main(["generate", "--task", "Threadng"])
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith("dexmg: error: unknown task 'Threadng'")
    assert len(out.err.splitlines()) == 1


def test_a_bug_keeps_its_traceback(monkeypatch):
    """An exception outside the input-error family (here a ValueError) is not swallowed."""
    from dexmg_bench.cli import envs_cmd

    def broken(json_output: bool = False) -> None:
        raise ValueError("a bug, not an input error")

    monkeypatch.setattr(envs_cmd, "envs", broken)
    with pytest.raises(ValueError, match="a bug"):
        main(["envs"])


def test_a_bug_shows_its_traceback_in_a_terminal(tmp_path):
    """The console script prints a bug's traceback (exit status 1)."""
    code = (
        "from dexmg_bench.cli import envs_cmd, main\n"
        "def broken(json_output: bool = False):\n"
        "    raise RuntimeError('a bug')\n"
        "envs_cmd.envs = broken\n"
        "main(['envs'])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "RuntimeError: a bug" in proc.stderr


def test_debug_shows_the_traceback_of_an_input_error(monkeypatch, tmp_path):
    """``--debug`` anywhere on the line, or ``DEXMG_DEBUG=1``, re-raises the input error."""
    monkeypatch.delenv("DEXMG_DEBUG", raising=False)
    with pytest.raises(UserInputError, match="Did you mean"):
        main(["generate", "--debug", "--task", "Threadng"])
    monkeypatch.setenv("DEXMG_DEBUG", "1")
    with pytest.raises(UserInputError, match="Did you mean"):
        main(["generate", "--task", "Threadng"])
    proc = subprocess.run(
        [sys.executable, "-m", "dexmg_bench.cli", "--debug", "generate", "--task", "Threadng"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "UserInputError: unknown task" in proc.stderr
