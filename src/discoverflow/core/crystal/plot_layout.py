"""Where labels and boxes go on a matplotlib plot so that none overlaps another, covers a
marker or leaves the axes: each tries positions around its point, nearest first, and takes
the first that is free (measured by the renderer, in display units)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.text import Text
from matplotlib.transforms import Bbox

DIRECTIONS = ((1, 1), (-1, 1), (1, -1), (-1, -1), (0, 1), (0, -1), (1, 0), (-1, 0))
DISTANCES = (5, 10, 16, 24, 34)  # points from the marker's edge
HA = {1: "left", -1: "right", 0: "center"}
VA = {1: "bottom", -1: "top", 0: "center"}


def marker_radius(size: float) -> float:
    """Radius in points of a scatter marker of area ``size`` (points^2)."""
    return math.sqrt(size / math.pi)


def disc_box(axis: Axes, x: float, y: float, radius_pt: float) -> Bbox:
    """The display box of a marker of ``radius_pt`` points at data (x, y)."""
    cx, cy = axis.transData.transform((x, y))
    r = radius_pt * axis.figure.dpi / 72
    return Bbox.from_extents(cx - r, cy - r, cx + r, cy + r)


def overlap(a: Bbox, b: Bbox) -> float:
    """Area shared by two display boxes."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0.0) * max(height, 0.0)


def outside(box: Bbox, frame: Bbox) -> float:
    """Area of ``box`` outside ``frame``."""
    return box.width * box.height - overlap(box, frame)


def place_labels(
    axis: Axes,
    labels: Sequence[tuple[float, float, str, float]],
    markers: Sequence[Bbox],
    fontsize: float = 9,
) -> list[Text]:
    """Annotate each (x, y, text, marker radius in points) at the first position around its
    marker that overlaps no marker, no label placed before and stays inside the axes (else
    the position that overlaps least), with a leader line when it sits far from its point."""
    renderer = axis.figure.canvas.get_renderer()
    frame = axis.get_window_extent(renderer)
    taken: list[Bbox] = []
    placed = []
    for x, y, text, radius in labels:
        best: tuple[float, Text, Bbox] | None = None
        for distance in DISTANCES:
            for dx, dy in DIRECTIONS:
                step = (radius + distance) / math.hypot(dx, dy)
                annotation = axis.annotate(
                    text, (x, y), xytext=(dx * step, dy * step), textcoords="offset points",
                    ha=HA[dx], va=VA[dy], fontsize=fontsize, zorder=5,
                )  # fmt: skip
                box = annotation.get_window_extent(renderer)
                cost = outside(box, frame) * 10 + sum(overlap(box, b) for b in [*markers, *taken])
                if best is None or cost < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (cost, annotation, box)
                else:
                    annotation.remove()
                if cost == 0:
                    break
            if best is not None and best[0] == 0:
                break
        assert best is not None
        _, annotation, box = best
        if math.hypot(*annotation.xyann) > radius + DISTANCES[1] + 2:
            axis.annotate("", (x, y), xytext=annotation.xyann, textcoords="offset points",
                          arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.6,
                                      "shrinkA": 0, "shrinkB": radius})  # fmt: skip
        taken.append(box)
        placed.append(annotation)
    return placed


def free_corner(axis: Axes, text: str, points: Sequence[Bbox], **style) -> Text:
    """``text`` in the first corner of the axes (top left, top right, bottom right, bottom
    left) where it covers no point; beside the axes, on the right, where every corner does."""
    renderer = axis.figure.canvas.get_renderer()
    corners = (
        (0.03, 0.97, "left", "top"),
        (0.97, 0.97, "right", "top"),
        (0.97, 0.03, "right", "bottom"),
        (0.03, 0.03, "left", "bottom"),
    )
    for x, y, ha, va in corners:
        label = axis.text(x, y, text, transform=axis.transAxes, ha=ha, va=va, **style)
        box = label.get_window_extent(renderer)
        if not any(overlap(box, point) for point in points):
            return label
        label.remove()
    return axis.text(1.04, 1.0, text, transform=axis.transAxes, ha="left", va="top", **style)
