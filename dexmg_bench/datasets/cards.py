"""Dataset cards: one markdown page per Minari dataset, generated from its metadata only.

Cards are committed under ``datasets/cards/<id>.md`` and rebuilt by ``dexmg datasets card`` (or
``build``); nothing in them depends on the clock or the machine, so a rebuild with the same data
gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from dexmg_bench.datasets.minari_io import PAPER_CITATION, dataset_content_sha256

CARDS_DIR = Path("datasets/cards")


def card_markdown(ds: Any) -> str:
    """The card of a loaded ``MinariDataset`` (written by ``minari_io``)."""
    meta = ds.storage.metadata
    dx = meta["dexmg"]
    lengths = np.array(
        [int(m["total_steps"]) for m in ds.storage.get_episode_metadata(range(ds.total_episodes))]
    )
    stats = dx.get("generation_stats", {})
    rows = [
        ("Task", f"{dx['task']}, variant {dx['variant']}"),
        ("Environment", f"`{ds.spec.env_spec.id}` (`dataset.recover_environment()`)"),
        ("Embodiment", dx.get("embodiment", "")),
        ("Origin", dx["origin"]),
        ("Episodes", str(ds.total_episodes)),
        (
            "Steps",
            f"{ds.total_steps} (per episode: mean {lengths.mean():.1f}, "
            f"min {lengths.min()}, max {lengths.max()})",
        ),
        ("Generator", f"`{dx['generator']}`"),
    ]
    if "success_rate" in stats:
        rows.append(
            (
                "Generator success rate",
                f"{stats['success_rate']:.1%} ({stats['successes']} of {stats['attempts']} "
                "attempts)",
            )
        )
    if dx.get("source_dataset"):
        rows.append(("Source dataset", f"`{dx['source_dataset']}`"))
    if "cameras" in dx:
        rows.append(("Cameras", f"{', '.join(dx['cameras'])} at {dx['image_size']} px"))
    rows += [
        ("Code version", f"dexmg-bench {dx['code_version']}, Minari {meta['minari_version']}"),
    ]
    if commits := dx.get("generator_config", {}).get("code_commits"):
        rows.append(("Generated at commit", ", ".join(f"`{c}`" for c in commits)))
    if cpus := dx.get("generator_config", {}).get("cpus"):
        rows.append(("Generated on", ", ".join(cpus)))
    rows += [
        ("Size", f"{float(meta.get('dataset_size', 0.0)):.1f} MB"),
        (
            "Content sha256",
            f"`{dataset_content_sha256(ds.id)}` (quote it in a leaderboard submission)",
        ),
    ]
    lines = [f"# {ds.id}", "", meta.get("description", ""), "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", "## Observations", "", "Dict observation, one per stored state (`T + 1`).", ""]
    lines += ["| key | shape | dtype |", "|---|---|---|"]
    for key, space in ds.observation_space.spaces.items():
        lines.append(f"| `{key}` | {tuple(space.shape)} | {space.dtype} |")
    if any(k.endswith("_image") for k in ds.observation_space.spaces):
        lines += ["", "Images are stored JPEG-compressed by Minari's HDF5 backend (lossy)."]
    lines += ["", "## Actions", "", f"`{ds.action_space}`, per arm:", ""]
    lines += ["| arm | part | columns |", "|---|---|---|"]
    for arm, parts in dx.get("action_layout", {}).items():
        for part, (lo, hi) in parts.items():
            lines.append(f"| {arm} | {part} | {lo}:{hi} |")
    lines += ["", "## Infos", ""]
    lines += [f"* `{k}`: {v}" for k, v in dx.get("infos", {}).items()]
    lines += [
        "",
        "Rewards are the env's (task success after the step); `terminations` are all False (DexMG",
        "envs do not terminate by default); `truncations` is True at each episode's last step.",
        "",
        "## How it was made",
        "",
        f"Generator `{dx['generator']}`, config:",
        "",
        "```json",
        json.dumps(dx.get("generator_config", {}), indent=2, sort_keys=True),
        "```",
        "",
        "Generation stats:",
        "",
        "```json",
        json.dumps(stats, indent=2, sort_keys=True),
        "```",
        "",
        f"Episode reset seeds: {_seeds(dx.get('seeds', []))}.",
    ]
    if dx.get("rendered_from"):
        lines += ["", f"Cameras rendered from the stored states of `{dx['rendered_from']}`."]
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "import minari",
        "",
        f"# or first: minari download {ds.id}",
        f'dataset = minari.load_dataset("{ds.id}")',
        "env = dataset.recover_environment()",
        "episode = dataset[0]",
        "env.reset(seed=0)",
        'env.unwrapped.set_state(episode.infos["state"][0])',
        "```",
        "",
        "## Citation",
        "",
        PAPER_CITATION,
        "",
    ]
    return "\n".join(lines)


def _seeds(seeds: list[int]) -> str:
    shown = ", ".join(str(s) for s in seeds[:10])
    return shown + (f", ... ({len(seeds)} in all)" if len(seeds) > 10 else "")


def write_card(ds_id: str, out_dir: Path = CARDS_DIR) -> Path:
    """Write ``<out_dir>/<id>.md`` for a local dataset; returns the path."""
    from dexmg_bench.datasets.loader import load

    path = out_dir / f"{ds_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(card_markdown(load(ds_id)))
    return path
