"""A well's hydrograph as an inline SVG, drawn on the server from the snapshot's monthly
means: no chart library to download on a phone, nothing computed from the readings."""

from __future__ import annotations

from typing import Any

__all__ = ["chart"]

WIDTH, HEIGHT, PAD = 640, 220, 36


def chart(points: list[list[Any]], inverted: bool = False) -> dict[str, Any] | None:
    """The polyline and axis labels of ``points`` ([["YYYY-MM", value], …]); depth to water is
    drawn ``inverted`` (deeper lower), so that up means more water. None without two points."""
    if len(points) < 2:
        return None
    values = [float(v) for _m, v in points]
    lo, hi = min(values), max(values)
    span = hi - lo or 1.0
    n = len(points) - 1
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def y(v: float) -> float:
        frac = (v - lo) / span
        return PAD + (frac if inverted else 1 - frac) * inner_h

    coords = [(PAD + i * inner_w / n, y(v)) for i, v in enumerate(values)]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "points": " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords),
        "first": points[0][0],
        "last": points[-1][0],
        "top": f"{(lo if inverted else hi):.2f}",
        "bottom": f"{(hi if inverted else lo):.2f}",
        "pad": PAD,
        "right": WIDTH - PAD,
        "base": HEIGHT - PAD + 16,
        "last_x": coords[-1][0],
        "last_y": coords[-1][1],
    }
