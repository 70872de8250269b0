"""Choosing the source demo a subtask's segment is taken from (pure; randomness is an argument).

``"random"`` picks uniformly; ``"nearest"`` ranks demos by how far the reference object's pose at
the segment start is from its pose now (translation in metres plus ``rot_weight`` times the
rotation angle in radians, MimicGen's ``nearest_neighbor_object``) and picks uniformly among the
``k`` closest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from dexmg_bench.generators.segment import Segment, SegmentLibrary
from dexmg_bench.generators.spec import ARMS, TaskSpec
from dexmg_bench.geometry import pose_distance

ROT_WEIGHT = 1.0


def object_pose_distances(
    src_poses: npt.ArrayLike, pose: npt.ArrayLike, rot_weight: float = ROT_WEIGHT
) -> np.ndarray:
    """Distances ``(N,)`` from ``N`` source object poses ``(N, 4, 4)`` to one pose ``(4, 4)``."""
    src = np.asarray(src_poses, dtype=np.float64)
    if src.ndim != 3 or src.shape[1:] != (4, 4):
        raise ValueError(f"src_poses must have shape (N, 4, 4), got {src.shape}")
    pos, angle = pose_distance(src, np.broadcast_to(np.asarray(pose, np.float64), src.shape))
    return np.asarray(pos, dtype=np.float64) + rot_weight * np.asarray(angle, dtype=np.float64)


def choose_index(
    distances: npt.ArrayLike | None,
    num_candidates: int,
    strategy: str,
    k: int,
    rng: np.random.Generator,
) -> int:
    """Pick one of ``num_candidates`` indices.

    Args:
        distances: Per-candidate distances ``(num_candidates,)``; needed for ``"nearest"``.
        num_candidates: How many candidates there are (>= 1).
        strategy: ``"random"`` or ``"nearest"``.
        k: With ``"nearest"``, choose uniformly among the ``k`` smallest distances (ties keep
            candidate order).
        rng: The only source of randomness.

    Returns:
        The chosen index.
    """
    if num_candidates < 1:
        raise ValueError(f"need at least one candidate, got {num_candidates}")
    if strategy == "random":
        return int(rng.integers(num_candidates))
    if strategy != "nearest":
        raise ValueError(f"strategy must be 'random' or 'nearest', got {strategy!r}")
    if distances is None:
        raise ValueError("strategy 'nearest' needs distances")
    dist = np.asarray(distances, dtype=np.float64)
    if dist.shape != (num_candidates,):
        raise ValueError(f"distances must have shape ({num_candidates},), got {dist.shape}")
    order = np.argsort(dist, kind="stable")[: max(1, min(k, num_candidates))]
    return int(order[rng.integers(len(order))])


def select_source(
    segments: Sequence[Segment],
    object_poses: Mapping[str, np.ndarray],
    strategy: str,
    k: int,
    rng: np.random.Generator,
    *,
    rot_weight: float = ROT_WEIGHT,
) -> int:
    """Pick the source demo for one subtask of one arm from its per-demo segments.

    Args:
        segments: The subtask's segment from each demo (index = demo index).
        object_poses: Current world object poses; the segments' ``object_ref`` is looked up.
        strategy: ``"random"`` or ``"nearest"``.
        k: Candidates kept for ``"nearest"``.
        rng: The only source of randomness.
        rot_weight: Metres per radian of rotation in the nearest distance.

    Returns:
        The demo index.
    """
    distances = None
    if strategy == "nearest":
        ref = segments[0].object_ref
        src = np.stack([s.object_pose for s in segments])
        distances = object_pose_distances(src, object_poses[ref], rot_weight)
    return choose_index(distances, len(segments), strategy, k, rng)


def select_shared_source(
    spec: TaskSpec,
    library: SegmentLibrary,
    object_poses: Mapping[str, np.ndarray],
    rng: np.random.Generator,
    *,
    rot_weight: float = ROT_WEIGHT,
) -> int:
    """Pick one source demo for both arms and all subtasks (``source_selection = "same"``).

    The first subtask of each arm decides: if any of them asks for ``"nearest"``, distances are
    summed over those subtasks' reference objects and ``k`` is the smallest of their
    ``nearest_k``; otherwise the pick is uniform.
    """
    firsts = [(arm, spec.subtasks[arm][0]) for arm in ARMS]
    nearest = [(arm, sub) for arm, sub in firsts if sub.selection == "nearest"]
    num = len(library[ARMS[0]][0])
    if not nearest:
        return choose_index(None, num, "random", 1, rng)
    total = np.zeros(num)
    for arm, sub in nearest:
        src = np.stack([s.object_pose for s in library[arm][0]])
        total += object_pose_distances(src, object_poses[sub.object_ref], rot_weight)
    k = min(sub.nearest_k for _, sub in nearest)
    return choose_index(total, num, "nearest", k, rng)
