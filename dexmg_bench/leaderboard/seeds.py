"""Hidden episode seeds: HMAC(round key, submission id, task, training seed, i).

Nobody without the round key can know them, and they differ per submission, so a policy cannot
be tuned to them. The key's sha256 is published when a round opens and the key when it closes;
then anyone can re-derive every seed and regrade bit for bit.
"""

from __future__ import annotations

import hashlib
import hmac

from dexmg_bench.evaluation.protocol import episode_seeds


def key_sha256(key: bytes) -> str:
    """What maintainers publish when a round opens."""
    return hashlib.sha256(key).hexdigest()


def hidden_seeds(
    key: bytes, submission_id: str, task_variant: str, training_seed: int, n: int
) -> list[int]:
    """``n`` uint32 reset seeds; every checkpoint of one training seed meets the same episodes."""
    if not key:
        raise ValueError("the round key is empty.")
    out = []
    for i in range(n):
        msg = f"dexmg-leaderboard/v1/{submission_id}/{task_variant}/{training_seed}/{i}".encode()
        out.append(int.from_bytes(hmac.new(key, msg, hashlib.sha256).digest()[:4], "big"))
    return out


def dev_seeds(training_seed: int, n: int) -> list[int]:
    """The public dev seeds (the evaluator's standard ones): used for claims and self-grading."""
    return episode_seeds(0, n, training_seed)
