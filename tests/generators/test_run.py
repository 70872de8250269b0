"""The job around the attempts: stop requests, parent death, kill -9 and a full disk, then resume.

Each fault is followed by a rerun of the same command, which must end with exactly ``n`` episodes
that replay to success, in the job's HDF5 file and in its Minari dataset. Kill points are exact
(``DEXMG_TEST_KILL_AT``, see ``dexmg_bench.crash_point``); a full disk is an injected
``OSError(ENOSPC)``. Demo-Noise with small noise keeps nearly every ~1 s attempt, so the real job
runner stays fast enough here.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import minari
import pytest

from dexmg_bench.cli import main
from dexmg_bench.crash_point import ENV_VAR
from dexmg_bench.datasets import loader, minari_io
from dexmg_bench.datasets.record import replay_demo
from dexmg_bench.datasets.source import read_source_file
from dexmg_bench.envs import make_task_env
from dexmg_bench.generators import run

DATASET = "dexmg/threading-demo-noise-n2-v0"  # the id `dexmg generate` gives the jobs below
LINUX_PROC = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


def _args(out: Path, n: int = 2, workers: int = 1, generator: str = "demo-noise") -> list[str]:
    noise = ["--action-noise", "0.01"] if generator == "demo-noise" else []
    return ["generate", "--task", "Threading", "--n", str(n), "--out", str(out),
            "--workers", str(workers), "--generator", generator, *noise]  # fmt: skip


def _cmd(out: Path, **kwargs: int | str) -> list[str]:
    return [sys.executable, "-m", "dexmg_bench.cli", *_args(out, **kwargs)]  # type: ignore[arg-type]


def _env(**extra: str) -> dict[str, str]:
    # MINARI_DATASETS_PATH is the test's own (conftest), inherited by the subprocess.
    return {**os.environ, "MUJOCO_GL": "osmesa", **extra}


def _wait_for_a_logged_attempt(out: Path, proc: subprocess.Popen) -> None:
    log = out / "attempts.jsonl"
    deadline = time.monotonic() + 600
    while not (log.exists() and log.read_text().strip()):
        assert proc.poll() is None, f"the job ended first (status {proc.returncode})"
        assert time.monotonic() < deadline, "no attempt finished in 600 s"
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (the pool's workers and resource tracker)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _running(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while _running(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _running(pids)


def _log_rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "attempts.jsonl").read_text().splitlines()]


def _assert_log_and_files_agree(out: Path) -> None:
    """Every logged success has its whole episode file, and nothing half-written is left."""
    for row in _log_rows(out):
        if row["success"]:
            assert read_source_file(out / "episodes" / f"attempt_{row['index']}.hdf5").demos


def _assert_not_listed(ds_id: str) -> None:
    assert ds_id not in minari.list_local_datasets()
    with pytest.raises(FileNotFoundError):
        loader.load(ds_id)


def _assert_exactly_n_valid(out: Path, n: int, ds_id: str = DATASET) -> None:
    """The job's file and its Minari dataset hold exactly ``n`` episodes, each replays."""
    stats = json.loads((out / "stats.json").read_text())
    assert stats["complete"] and stats["kept"] == n
    assert len(read_source_file(out / stats["output"]).demos) == n
    assert not [p for p in out.rglob("*") if p.suffix in (".part", ".tmp")]
    root = Path(os.environ["MINARI_DATASETS_PATH"])
    assert not list((root / minari_io.STAGING).glob("*")), "a staging folder was left"
    assert ds_id in minari.list_local_datasets()
    ds = loader.load(ds_id, verify=True)
    assert ds.total_episodes == n
    seeds = ds.storage.metadata["dexmg"]["seeds"]
    env = make_task_env("Threading")
    for episode, seed in zip(ds.iterate_episodes(), seeds, strict=True):
        demo = types.SimpleNamespace(
            seed=seed, states=episode.infos["state"], actions=episode.actions
        )
        assert replay_demo(env, demo)  # type: ignore[arg-type]  (the fields it reads)


@LINUX_PROC
def test_sigterm_stops_a_parallel_job_cleanly(tmp_path):
    """SIGTERM: the workers end, one line says how to resume, exit 143, the log intact."""
    out = tmp_path / "job"
    with open(tmp_path / "err.txt", "w") as err:
        proc = subprocess.Popen(_cmd(out, n=200, workers=2), env=_env(), stdout=subprocess.DEVNULL,
                                stderr=err)  # fmt: skip
        _wait_for_a_logged_attempt(out, proc)
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 128 + signal.SIGTERM
    text = (tmp_path / "err.txt").read_text()
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if "interrupted" in line]
    assert lines == [
        f"interrupted: finished attempts are kept in {out}; rerun the same command to resume"
    ], text
    assert not _wait_gone(workers, 20), "workers outlived the stopped job"
    assert _log_rows(out) and not (out / "stats.json").exists()
    _assert_log_and_files_agree(out)


@LINUX_PROC
def test_ctrl_c_while_workers_start_prints_no_traceback(tmp_path):
    """Ctrl-C reaches the process group, workers still importing included: exit 130, quietly."""
    out = tmp_path / "job"
    with open(tmp_path / "err.txt", "w") as err:
        proc = subprocess.Popen(_cmd(out, n=200, workers=2), env=_env(), stdout=subprocess.DEVNULL,
                                stderr=err, start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 300
        while len(_children(proc.pid)) < 3:  # two workers and the resource tracker
            assert proc.poll() is None and time.monotonic() < deadline, "no workers started"
            time.sleep(0.02)
        workers = _children(proc.pid)
        time.sleep(0.5)  # the workers are importing (~1 s or more): Python handles SIGINT then
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=120) == 128 + signal.SIGINT
    text = (tmp_path / "err.txt").read_text()
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    assert "rerun the same command to resume" in text
    assert not _wait_gone(workers, 20), "workers outlived the stopped job"


@LINUX_PROC
def test_workers_exit_quietly_when_the_job_is_killed(tmp_path):
    """The job killed (-9): its workers end within seconds, printing no traceback."""
    out = tmp_path / "job"
    with open(tmp_path / "err.txt", "w") as err:
        proc = subprocess.Popen(_cmd(out, n=200, workers=2), env=_env(), stdout=subprocess.DEVNULL,
                                stderr=err)  # fmt: skip
        _wait_for_a_logged_attempt(out, proc)  # the workers are in the middle of attempts
        children = _children(proc.pid)  # the workers and the resource tracker
        assert len(children) >= 2, children
        proc.kill()
        proc.wait()
        assert not _wait_gone(children, 20), "orphaned workers still run 20 s after the kill"
    text = (tmp_path / "err.txt").read_text()
    assert "Traceback" not in text and "BrokenPipeError" not in text, text


@pytest.mark.parametrize(
    ("generator", "n"),
    [("demo-noise", 4), pytest.param("dexmgen", 2, marks=pytest.mark.slow)],
)
def test_kill_and_resume_gives_exactly_n_valid_episodes(tmp_path, generator, n):
    """Kill -9 mid-run, rerun with the same --out: exactly n episodes, all replay to success."""
    out = tmp_path / "job"
    cmd = _cmd(out, n=n, generator=generator)
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline and not list((out / "episodes").glob("attempt_*.hdf5")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "stats.json").exists(), "the job finished before it could be killed"
    kept_before = len(list((out / "episodes").glob("attempt_*.hdf5")))
    assert 1 <= kept_before < n
    subprocess.run(cmd, env=_env(), check=True, capture_output=True)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["complete"] and stats["kept"] == n and stats["generator"] == generator
    result = read_source_file(out / stats["output"])
    assert len(result.demos) == n and result.origin == "generated"
    sim = make_task_env("Threading")
    assert all(replay_demo(sim, d) for d in result.demos)


@pytest.mark.parametrize("point", ["episode-part:2", "output-part", "minari-episode:2"])
def test_kill_9_while_writing_then_a_rerun_gives_exactly_n_valid_episodes(tmp_path, point):
    """Killed while an episode file, the job's file or the Minari dataset is half-written.

    Nothing half-written counts (no dataset listed, no file taken for an episode); the rerun
    deletes what was left and ends with exactly n episodes that replay.
    """
    out = tmp_path / "job"
    killed = subprocess.run(
        _cmd(out), env=_env(**{ENV_VAR: point}), capture_output=True, check=False
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    _assert_not_listed(DATASET)
    _assert_log_and_files_agree(out)
    if point.startswith("episode-part"):
        assert len(list((out / "episodes").glob("*.part"))) == 1
        assert len(list((out / "episodes").glob("*.hdf5"))) == 1
        assert not (out / "stats.json").exists()
    elif point == "output-part":
        assert (out / "threading-d0.hdf5.part").exists()
        assert not (out / "threading-d0.hdf5").exists() and not (out / "stats.json").exists()
    else:  # the job was complete; its dataset was being written in the hidden staging folder
        assert json.loads((out / "stats.json").read_text())["complete"]
        root = Path(os.environ["MINARI_DATASETS_PATH"])
        assert list((root / minari_io.STAGING).glob("*"))
    rerun = subprocess.run(_cmd(out), env=_env(), capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    _assert_exactly_n_valid(out, 2)


def _disk_full(path: object = None) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)


def _fail_on_call(k: int, real: Callable, before: Callable | None = None) -> Callable:
    """``real``, except that call ``k`` runs ``before(*args)`` and then raises ENOSPC."""
    calls = []

    def fake(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == k:
            if before is not None:
                before(*args)
            raise _disk_full()
        return real(*args, **kwargs)

    fake.calls = calls  # type: ignore[attr-defined]
    return fake


@pytest.mark.parametrize("where", ["episode", "log", "minari"])
def test_a_full_disk_is_one_line_and_a_rerun_completes(tmp_path, monkeypatch, capsys, where):
    """ENOSPC while writing an episode, the log or the dataset: one line naming the file.

    The command exits 1 without a traceback, removes what it half-wrote, and a rerun (space
    freed) ends with exactly n valid episodes.
    """
    out = tmp_path / "job"
    if where == "episode":  # the file is half-written when the disk fills
        fake = _fail_on_call(2, run._write_plain, lambda path, src: path.write_bytes(b"\0" * 99))
        monkeypatch.setattr(run, "_write_plain", fake)
    elif where == "log":  # half a line reaches the log
        fake = _fail_on_call(2, run._append_row, lambda log, row: log.write(b'{"index": '))
        monkeypatch.setattr(run, "_append_row", fake)
    else:  # while Minari writes the second episode
        fake = _fail_on_call(2, minari_io.demo_arrays)
        monkeypatch.setattr(minari_io, "demo_arrays", fake)
    with pytest.raises(SystemExit) as exit_info:
        main(_args(out))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [x for x in err.splitlines() if x.startswith("dexmg: error:")]
    if where == "episode":
        part = fake.calls[1][0]
        path = part.with_name(part.name.removesuffix(".part"))
        assert not part.exists() and not path.exists()
    elif where == "log":
        path = out / "attempts.jsonl"
        assert not (out / "attempts.jsonl").read_text().endswith("\n")  # the torn line
    else:
        path = Path(os.environ["MINARI_DATASETS_PATH"]) / DATASET
        _assert_not_listed(DATASET)
        assert not list((path.parent.parent / minari_io.STAGING).glob("*"))
    assert line.startswith(f"dexmg: error: {path}: the disk is full"), line
    assert "run the same command again" in line
    assert not [p for p in out.rglob("*") if p.suffix in (".part", ".tmp")]
    main(_args(out))  # the fault was once: space is free again
    _assert_exactly_n_valid(out, 2)
    assert all(isinstance(row["index"], int) for row in _log_rows(out))
