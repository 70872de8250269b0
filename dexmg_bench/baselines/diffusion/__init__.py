"""Diffusion Policy (Chi et al. 2023): a 1-D temporal U-Net denoising action chunks, DDPM/DDIM.

The package imports only the config, so the CLI can describe it without torch installed.
"""

from dexmg_bench.baselines.diffusion.config import DiffusionConfig

__all__ = ["DiffusionConfig"]
