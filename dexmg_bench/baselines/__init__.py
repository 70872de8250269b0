"""Reference policies (BC-RNN, BC-RNN-GMM, Diffusion Policy); torch comes with `baselines`."""

from __future__ import annotations


def require_torch(what: str) -> None:
    """Fail early with the install line: the core install has no torch (the `baselines` extra)."""
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise ModuleNotFoundError(
            f"{what} needs torch, which comes with the `baselines` extra: "
            "pip install 'dexmg-bench[baselines]' (torch==2.13.0; the CPU wheel is enough)."
        ) from e
