"""A loss curve as a PNG with Pillow only (no plotting library in the core install)."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw


def save_curve(path: Path, values: list[float], *, title: str, log_y: bool = True) -> None:
    """Draw ``values`` against their index with min/max labels; log scale for losses."""
    w, h, pad = 640, 360, 48
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    draw.text((pad, 12), title, fill="black")
    draw.rectangle([pad, pad, w - pad, h - pad], outline="gray")
    finite = [v for v in values if math.isfinite(v) and (v > 0 or not log_y)]
    if len(finite) >= 2:  # noqa: PLR2004
        ys = [math.log10(v) for v in finite] if log_y else finite
        lo, hi = min(ys), max(ys)
        span = hi - lo or 1.0
        pts = [
            (
                pad + (w - 2 * pad) * i / (len(ys) - 1),
                h - pad - (h - 2 * pad) * (y - lo) / span,
            )
            for i, y in enumerate(ys)
        ]
        draw.line(pts, fill=(31, 119, 180), width=2)
        draw.text((4, pad - 6), f"{max(finite):.3g}", fill="black")
        draw.text((4, h - pad - 6), f"{min(finite):.3g}", fill="black")
        draw.text((w - pad - 60, h - pad + 8), f"epoch {len(values)}", fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
