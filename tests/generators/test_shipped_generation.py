"""Regressions of the shipped specs and the scheduler on tasks where generation once kept nothing.

Transport D2 kept 0/50 while the handover's segments stopped at the handover signal (the right
hand's back-off was cut, its open fingers stayed around the handle and the left arm dragged the
hammer through them); Tray Lift kept 0/20 while a coordination arm held still until its partner
started (the right hand stayed over the tray and the left forearm hit it while placing its cube).
"""

from __future__ import annotations

import numpy as np
import pytest

from dexmg_bench.datasets.source import read_source_file, shipped_source_file
from dexmg_bench.generators.job import GenerateConfig, build_generator
from dexmg_bench.generators.segment import build_library
from dexmg_bench.generators.spec import load_spec, spec_path


def test_transport_handover_segments_keep_the_back_off(rng) -> None:
    """The right arm's last (handover) segment ends >= 10 cm from where its hand opened."""
    src = read_source_file(shipped_source_file("Transport"))
    spec = load_spec(spec_path("Transport"))
    library = build_library(src.demos, spec, rng)
    handover = spec.index("right", "handover")
    for k, (demo, seg) in enumerate(zip(src.demos, library["right"][handover], strict=True)):
        opened = np.flatnonzero(np.asarray(demo.signals["right"]["handover"], bool))[0]
        release = demo.target_pose[opened, 0, :3, 3]
        moved = np.linalg.norm(seg.targets[-1, :3, 3] - release)
        assert moved > 0.10, f"demo {k}: right hand ends {moved:.3f} m from its release"


@pytest.mark.slow
@pytest.mark.parametrize(("task", "variant"), [("Transport", "D2"), ("TrayLift", "D0")])
def test_generation_attempt_succeeds(task: str, variant: str) -> None:
    """Attempt 0 of seed 0 succeeds (Transport D2: the handover back-off; Tray Lift: scheduling)."""
    gen = build_generator(GenerateConfig(task=task, variant=variant))
    attempt = gen.attempt(0, 0)
    assert attempt.success, f"{task} {variant}: failed at {attempt.failure}"
