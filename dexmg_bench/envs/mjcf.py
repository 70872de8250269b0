"""Small builders of MJCF text for our own objects (strings only: no simulator import here)."""

from __future__ import annotations

import math


def fmt(*values: float) -> str:
    """Numbers as MJCF attribute text."""
    return " ".join(f"{v:.6g}" for v in values)


def box(
    name: str,
    half: tuple[float, float, float],
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0),
    *,
    rgba: str = "0.5 0.5 0.5 1",
    density: float = 500.0,
    euler: tuple[float, float, float] | None = None,
    friction: str = "1 0.005 0.0001",
) -> str:
    """A box geom; ``condim=4`` adds torsional friction so grasped objects do not spin."""
    rot = f' euler="{fmt(*euler)}"' if euler else ""
    return (
        f'<geom name="{name}" type="box" size="{fmt(*half)}" pos="{fmt(*pos)}"{rot} rgba="{rgba}"'
        f' density="{density}" friction="{friction}" condim="4" solref="0.01 1"/>'
    )


def ring(
    prefix: str,
    *,
    center: tuple[float, float, float],
    inner_radius: float,
    thickness: float,
    axis: str = "y",
    segments: int = 12,
    rgba: str = "0.8 0.2 0.2 1",
    density: float = 500.0,
) -> str:
    """A torus-like ring of boxes around ``axis`` (``x`` or ``y``), hole radius ``inner_radius``."""
    r_mid = inner_radius + thickness / 2.0
    half_len = r_mid * math.tan(math.pi / segments) * 1.05
    geoms = []
    for k in range(segments):
        a = 2.0 * math.pi * k / segments
        if axis == "y":  # ring in the x-z plane
            pos = (center[0] + r_mid * math.cos(a), center[1], center[2] + r_mid * math.sin(a))
            half = (thickness / 2.0, thickness / 2.0, half_len)
            euler = (0.0, -a, 0.0)
        elif axis == "x":  # ring in the y-z plane
            pos = (center[0], center[1] + r_mid * math.cos(a), center[2] + r_mid * math.sin(a))
            half = (thickness / 2.0, thickness / 2.0, half_len)
            euler = (a, 0.0, 0.0)
        else:
            raise ValueError(f"axis must be 'x' or 'y'. Got {axis!r}.")
        geoms.append(box(f"{prefix}{k}", half, pos, rgba=rgba, density=density, euler=euler))
    return "".join(geoms)


def free_body(name: str, geoms: str, sites: str = "", pos: str = "0 0 1") -> str:
    """A body with a free joint named ``<name>_joint``."""
    return f'<body name="{name}" pos="{pos}"><freejoint name="{name}_joint"/>{geoms}{sites}</body>'


def site(name: str, pos: tuple[float, float, float], rgba: str = "0 1 0 0.5") -> str:
    """A small visual-only marker site."""
    return f'<site name="{name}" pos="{fmt(*pos)}" size="0.003" rgba="{rgba}" group="1"/>'
