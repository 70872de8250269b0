"""The board page: recomputed numbers, rejected rows, and a real headless-Chromium check.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``), so no
driver package or browser download is needed: Debian's ``chromium`` is enough.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dexmg_bench.leaderboard.grade import summarize, write_results
from dexmg_bench.leaderboard.manifest import write_manifest
from dexmg_bench.leaderboard.site import build_site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
N = 20
# Best-checkpoint rates chosen so that sorting the text ("5.0" > "35.0" > "100.0") and sorting
# the numbers disagree.
RATES = {"alpha": (1.0, 1.0, 1.0), "beta": (0.05, 0.05, 0.05), "gamma": (0.35, 0.3, 0.4)}


def _fake_result(folder: Path, sid: str, rates: tuple[float, ...]) -> dict[str, Any]:
    """A results JSON as the grader writes it, with chosen per-seed success counts."""
    episodes = {}
    for seed, rate in enumerate(rates):
        k = round(rate * N)
        episodes[f"{seed}/final"] = [
            {"seed": 1000 * seed + i, "success": i < k, "steps": 10} for i in range(N)
        ]
    task = {"env_id": "DexMG/Threading-D0-v0", "episodes": episodes, **summarize(episodes, N)}
    task["claims"] = {"claimed_mean": 0.5, "consistent": True}
    return {
        "submission_id": sid, "folder": folder.name, "status": "verified", "failure": None,
        "sandbox": "bubblewrap", "seeds": "hidden", "protocol": {"episodes": N, "max_steps": 0},
        "tasks": {"Threading-D0": task}, "flags": [], "track": "lowdim",
        "dataset": {"id": "dexmg/threading-source-v0", "source_demos": 10, "generated_demos": 1000},
        "code": {"url": "https://example.org/x", "commit": "abcdef1"}, "versions": {"numpy": "1"},
    }  # fmt: skip


@pytest.fixture
def board(make_submission, tmp_path) -> tuple[Path, Path, Path]:
    """Three graded submissions and their results; returns (results, submissions, site)."""
    results = tmp_path / "results"
    for method, rates in RATES.items():
        folder = make_submission(method=method)
        sid = write_manifest(folder)
        run = {"graded_at": "2026-11-26T00:00:00+00:00", "ms_per_action": {"mean": 1.5}}
        write_results(_fake_result(folder, sid, rates), run, results)
    return results, tmp_path / "submissions", tmp_path / "site"


def test_rows_are_recomputed_and_changed_submissions_rejected(board):
    """Edited numbers and changed folders are rejected rows."""
    results, submissions, site = board
    path, rejected = build_site(results, submissions, site)
    assert rejected == {}
    page = path.read_text()
    assert "test__alpha" in page and "<script src" not in page and "<link" not in page
    np.savez(submissions / "test__beta" / "checkpoints" / "seed0" / "final.npz", seed=np.array(5))
    res = next(p for p in results.glob("*.json") if "gamma" in p.read_text())
    data = json.loads(res.read_text())
    data["tasks"]["Threading-D0"]["success_mean"] = 0.99  # a hand-edited number
    res.write_text(json.dumps(data))
    _, rejected = build_site(results, submissions, site)
    reasons = sorted(rejected.values())
    assert len(reasons) == 2
    assert reasons[0].startswith("aggregates do not match the episodes")
    assert reasons[1].startswith("submission changed after grading")


class _Chromium:
    """Minimal DevTools client over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out)."""

    def __init__(self, user_dir: Path):
        cmd_r, self.cmd_w = os.pipe()
        self.out_r, out_w = os.pipe()

        def fds() -> None:
            os.dup2(cmd_r, 3)
            os.dup2(out_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-pipe", f"--user-data-dir={user_dir}", "--window-size=1400,900",
             "--disable-background-networking", "--disable-component-update", "about:blank"],
            preexec_fn=fds, close_fds=False,  # noqa: PLW1509 (no threads started before) stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(cmd_r)
        os.close(out_w)
        self.buf, self.next_id, self.events = b"", 0, []
        self.session: str | None = None

    def _recv(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buf:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self.out_r], [], [], wait)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.out_r, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, timeout: float = 60, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._recv(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for e in self.events:
            if e.get("method") == method:
                return e
        while True:
            e = self._recv(deadline)
            self.events.append(e)
            if e.get("method") == method:
                return e

    def js(self, expr: str) -> Any:
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        os.close(self.cmd_w)
        os.close(self.out_r)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium unavailable (apt-get install chromium)")
def test_board_in_headless_chromium(board, tmp_path):
    """Acceptance 4: no console errors or requests, numeric sort, exact cells, screenshot."""
    results, submissions, site = board
    path, _ = build_site(results, submissions, site)
    url = path.resolve().as_uri()
    browser = _Chromium(tmp_path / "chrome-profile")
    try:
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        browser.session = browser.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable")
        browser.call("Page.navigate", url=url)
        browser.wait_event("Page.loadEventFired")
        cells = browser.js(
            "[...document.querySelectorAll('td.cell')].map(td => "
            "[td.parentNode.dataset.id, td.dataset.task, td.textContent, td.title])"
        )
        assert len(cells) == 3
        for sid, task, text, title in cells:
            data = json.loads((results / f"{sid}.json").read_text())
            s = summarize(data["tasks"][task]["episodes"], data["protocol"]["episodes"])
            assert text == f"{100 * s['success_mean']:.1f} ± {100 * s['success_std']:.1f}"
            seeds = ", ".join(f"{100 * r['best_rate']:.1f}" for r in s["per_seed"])
            assert title.startswith(f"per seed: {seeds}")
        order = []
        for _ in range(2):  # first click sorts descending, the second ascending
            browser.js("document.querySelector('th:nth-child(2)').click()")
            order.append(browser.js(
                "[...document.querySelectorAll('td.cell')].map(td => parseFloat(td.dataset.value))"
            ))  # fmt: skip
        assert order[0] == sorted(order[0], reverse=True) and order[0][0] == 1.0
        assert order[1] == sorted(order[1])
        sid = cells[0][0]
        browser.js(f"location.hash = '#{sid}'")
        time.sleep(0.3)
        assert browser.js("getComputedStyle(document.getElementById('detail')).display") == "block"
        assert sid in browser.js("document.getElementById('detail').textContent")
        assert browser.js("document.getElementById('csv').href").startswith("data:text/csv")
        png = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
        shot = Path(os.environ.get("DEXMG_SCREENSHOT_DIR", tmp_path)) / "board.png"
        shot.write_bytes(png)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
        errors = [
            e for e in browser.events
            if e.get("method") in ("Runtime.exceptionThrown",)
            or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
            or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
        ]  # fmt: skip
        assert errors == []
        requests = {
            e["params"]["request"]["url"]
            for e in browser.events
            if e.get("method") == "Network.requestWillBeSent"
        }
        assert requests <= {url}, f"network requests besides the page: {requests - {url}}"
    finally:
        browser.close()
