"""Pictures of a campaign's outcome: the phase diagram, the stability CDF and the parity of
predicted against relaxed formation energies."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.transforms import Bbox
from pymatgen.analysis.phase_diagram import PDPlotter, PhaseDiagram

from discoverflow.core.crystal.plot_layout import (
    disc_box,
    free_corner,
    marker_radius,
    overlap,
    place_labels,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt

COLOURS = "viridis"


def save(figure, path: Path) -> Path:
    """Save a matplotlib figure as a 150 dpi image and close it.

    Parameters
    ----------
    figure
        The figure.
    path
        Where to write it (its folder is created).

    Returns
    -------
    Path
        ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(figure)
    return path


@dataclass
class HullPoint:
    """An entry on a drawn phase diagram.

    Parameters
    ----------
    x, y
        Its position on the plot.
    formula
        Reduced formula.
    e_above_hull
        Energy above the hull (eV/atom)."""

    x: float
    y: float
    formula: str
    e_above_hull: float


def hull_geometry(
    phase_diagram: PhaseDiagram, threshold: float
) -> tuple[list[np.ndarray], list[HullPoint], list[HullPoint]]:
    """pymatgen's plot coordinates of a binary or ternary hull: its lines, the stable phases
    and the entries within ``threshold`` (eV/atom) above it, one point per formula (the
    lowest)."""
    lines, stable, unstable = PDPlotter(
        phase_diagram, backend="matplotlib", show_unstable=threshold
    ).pd_plot_data
    on_hull = [
        HullPoint(*xy, entry.composition.reduced_formula, 0.0) for xy, entry in stable.items()
    ]
    above: dict[str, HullPoint] = {}
    for entry, xy in unstable.items():
        point = HullPoint(
            *xy, entry.composition.reduced_formula, phase_diagram.get_e_above_hull(entry)
        )
        if point.formula not in above or point.e_above_hull < above[point.formula].e_above_hull:
            above[point.formula] = point
    return list(lines), on_hull, sorted(above.values(), key=lambda p: -p.e_above_hull)


def plot_phase_diagram(
    phase_diagram: PhaseDiagram,
    folder: Path,
    threshold: float,
    title: str,
    stem: str = "phase_diagram",
    scripts: Path | None = None,
) -> list[Path]:
    """The hull as a PNG and an interactive HTML drawn from the same coordinates: its lines,
    the stable phases labelled, the entries within ``threshold`` (eV/atom) coloured by their
    distance to the hull (a colour bar; the HTML also tells it on hover). The HTML loads
    plotly.js from a file (written once in ``scripts``, else beside it): small, and it opens
    offline. Quaternaries use pymatgen's own plots."""
    folder.mkdir(parents=True, exist_ok=True)
    html, png = folder / f"{stem}.html", folder / f"{stem}.png"
    elements = [str(el) for el in phase_diagram.elements]
    if len(elements) > 3:
        plotter = PDPlotter(phase_diagram, backend="plotly", show_unstable=threshold)
        plotter.get_plot(label_unstable=False).update_layout(title=title).write_html(
            html, include_plotlyjs=plotly_script(html, scripts)
        )
        axes = PDPlotter(phase_diagram, backend="matplotlib", show_unstable=threshold).get_plot(
            label_unstable=False
        )
        axes.set_title(title)
        return [html, save(axes.figure, png)]
    lines, stable, above = hull_geometry(phase_diagram, threshold)
    write_hull_html(lines, stable, above, threshold, title, html, len(elements) == 2, scripts)
    figure = hull_figure(lines, stable, above, threshold, title, elements)
    return [html, save(figure, png)]


STABLE_SIZE, ABOVE_SIZE = 60, 30  # marker areas (points^2)


def hull_figure(
    lines: list[np.ndarray],
    stable: list[HullPoint],
    above: list[HullPoint],
    threshold: float,
    title: str,
    elements: list[str],
):
    """The binary or ternary hull: labels of the stable phases where they overlap nothing
    and stay inside the axes, and an entry just above a stable phase (a polymorph) drawn
    beside its marker rather than under it."""
    figure, axis = plt.subplots(figsize=(6, 5))
    for x, y in lines:
        axis.plot(x, y, color="black", linewidth=1.5, zorder=1)
    if above:
        shading = ScalarMappable(Normalize(0, threshold), cmap=COLOURS)
        figure.colorbar(shading, ax=axis, label="E above hull (eV/atom)", shrink=0.8)
    xs = [p.x for p in [*stable, *above]]
    ys = [p.y for p in [*stable, *above]]
    if len(elements) == 2:
        axis.set_xlabel(f"x in {elements[0]}$_{{1-x}}${elements[1]}$_x$")
        axis.set_ylabel("formation energy (eV/atom)")
        low, high = min(ys), max(max(ys), 0.0)
        pad = 0.15 * (high - low or 1.0)
        axis.set_xlim(-0.08, 1.08)
        axis.set_ylim(low - pad, high + pad)
    else:
        axis.set_axis_off()
        axis.set_aspect("equal")
        axis.set_xlim(min(xs) - 0.12, max(xs) + 0.12)
        axis.set_ylim(min(ys) - 0.1, max(ys) + 0.1)
    axis.set_title(title)
    axis.apply_aspect()  # the axes' final box: label positions are measured in it
    r_stable, r_above = marker_radius(STABLE_SIZE), marker_radius(ABOVE_SIZE)
    stable_boxes = [disc_box(axis, p.x, p.y, r_stable) for p in stable]
    shown = [beside_stable(axis, p, stable_boxes, r_stable + r_above + 1) for p in above]
    axis.scatter([p.x for p in stable], [p.y for p in stable], s=STABLE_SIZE, color="tab:green",
                 edgecolor="black", zorder=3, label="on the hull")  # fmt: skip
    if above:
        axis.scatter([x for x, _ in shown], [y for _, y in shown], s=ABOVE_SIZE, zorder=2,
                     c=[p.e_above_hull for p in above], cmap=COLOURS, vmin=0, vmax=threshold,
                     edgecolor="grey")  # fmt: skip
    markers = stable_boxes + [disc_box(axis, x, y, r_above) for x, y in shown]
    place_labels(axis, [(p.x, p.y, p.formula, r_stable) for p in stable], markers)
    return figure


def beside_stable(
    axis, point: HullPoint, stable: list[Bbox], shift_pt: float
) -> tuple[float, float]:
    """Where to draw an entry above the hull: at its place, or ``shift_pt`` points beside
    (right, else left) when a stable phase's marker would hide it."""
    mine = disc_box(axis, point.x, point.y, 0.5)
    if not any(overlap(mine.expanded(1, 1), box.expanded(1.6, 1.6)) for box in stable):
        return point.x, point.y
    frame = axis.get_window_extent()
    cx, cy = axis.transData.transform((point.x, point.y))
    shift = shift_pt * axis.figure.dpi / 72
    side = shift if cx + 2 * shift < frame.x1 else -shift
    x, y = axis.transData.inverted().transform((cx + side, cy))
    return float(x), float(y)


def plotly_script(html: Path, scripts: Path | None) -> str:
    """How an HTML plot loads plotly.js: from the one copy in ``scripts`` (written there
    first: 4.8 MB that every results folder of a store shares), else from a copy beside it."""
    if scripts is None:
        return "directory"
    import plotly
    from plotly.offline import get_plotlyjs

    script = scripts / f"plotly-{plotly.__version__}.min.js"
    if not script.is_file():
        scripts.mkdir(parents=True, exist_ok=True)
        partial = script.with_suffix(".partial")
        partial.write_text(get_plotlyjs(), encoding="utf-8")
        partial.replace(script)
    return Path(os.path.relpath(script, html.parent)).as_posix()


def write_hull_html(
    lines, stable, above, threshold, title, path: Path, binary: bool, scripts: Path | None = None
) -> None:
    """Write the phase diagram as an interactive plotly page.

    Parameters
    ----------
    lines
        The hull's facets as (x, y) line segments.
    stable, above
        The points on the hull and those above it.
    threshold
        Entries within this of the hull are shown (eV/atom).
    title
        The plot's title.
    path
        The HTML file to write.
    binary
        Whether the system is binary (an energy-composition plot) or not (a triangle).
    scripts
        A folder with ``plotly.min.js`` for an offline page, if any."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for x, y in lines:
        figure.add_trace(go.Scatter(x=x, y=y, mode="lines", line={"color": "black"},
                                    hoverinfo="skip", showlegend=False))  # fmt: skip
    figure.add_trace(go.Scatter(
        x=[p.x for p in stable], y=[p.y for p in stable], mode="markers+text",
        text=[p.formula for p in stable], textposition="top right", name="on the hull",
        marker={"size": 12, "color": "green", "line": {"color": "black", "width": 1}},
        hovertemplate="%{text}: on the hull<extra></extra>",
    ))  # fmt: skip
    if above:
        figure.add_trace(go.Scatter(
            x=[p.x for p in above], y=[p.y for p in above], mode="markers",
            text=[p.formula for p in above], name=f"within {threshold} eV/atom",
            customdata=[p.e_above_hull for p in above],
            hovertemplate="%{text}: %{customdata:.3f} eV/atom above the hull<extra></extra>",
            marker={"size": 8, "color": [p.e_above_hull for p in above], "cmin": 0,
                    "cmax": threshold, "colorscale": "Viridis",
                    "colorbar": {"title": "E above hull (eV/atom)"}},
        ))  # fmt: skip
    figure.update_layout(title=title, template="simple_white")
    if binary:
        figure.update_xaxes(title="composition x")
        figure.update_yaxes(title="formation energy (eV/atom)")
    else:
        figure.update_xaxes(visible=False)
        figure.update_yaxes(visible=False, scaleanchor="x")
    figure.write_html(path, include_plotlyjs=plotly_script(path, scripts))


def plot_stability_cdf(
    e_hull: Sequence[float], threshold: float, path: Path, title: str = "Stability of candidates"
) -> Path:
    """Cumulative distribution of energies above the hull, with the promising threshold."""
    values = np.sort(np.asarray(e_hull, dtype=float))
    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.step(values, np.arange(1, len(values) + 1) / max(len(values), 1), where="post")
    axis.axvline(threshold, color="tab:red", linestyle="--", label=f"threshold {threshold} eV/atom")
    axis.set_xlabel("E above hull (eV/atom)")
    axis.set_ylabel("fraction of candidates")
    axis.set_title(title)
    axis.legend()
    return save(figure, path)


def parity_statistics(predicted: Sequence[float], relaxed: Sequence[float]) -> dict[str, float]:
    """Mean absolute error, mean signed error (predicted - relaxed) and R^2, in eV/atom."""
    p, r = np.asarray(predicted, dtype=float), np.asarray(relaxed, dtype=float)
    residual = p - r
    spread = ((r - r.mean()) ** 2).sum()
    return {
        "mae": float(np.abs(residual).mean()),
        "bias": float(residual.mean()),
        "r2": float(1 - (residual**2).sum() / spread) if spread > 0 else float("nan"),
    }


def plot_parity(
    predicted: Sequence[float], relaxed: Sequence[float], path: Path, title: str
) -> Path:
    """Screening model's formation energy at the unrelaxed candidate against the relaxed one:
    the first check of whether to trust the screening."""
    return save(parity_figure(predicted, relaxed, title), path)


PARITY_SIZE = 18


def parity_figure(predicted: Sequence[float], relaxed: Sequence[float], title: str):
    """The parity plot, its statistics in a corner that covers no point."""
    stats = parity_statistics(predicted, relaxed)
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.scatter(relaxed, predicted, s=PARITY_SIZE, alpha=0.8)
    low = min(min(predicted), min(relaxed))
    high = max(max(predicted), max(relaxed))
    pad = 0.05 * (high - low or 1.0)
    line = [low - pad, high + pad]
    axis.plot(line, line, color="grey", linestyle="--", linewidth=1)
    axis.set_xlim(line)
    axis.set_ylim(line)
    axis.set_aspect("equal")
    axis.set_xlabel("relaxed formation energy (eV/atom)")
    axis.set_ylabel("predicted formation energy (eV/atom)")
    axis.set_title(title)
    axis.apply_aspect()
    radius = marker_radius(PARITY_SIZE)
    points = [disc_box(axis, x, y, radius) for x, y in zip(relaxed, predicted, strict=True)]
    text = (
        f"MAE {stats['mae']:.3f} eV/atom\nbias {stats['bias']:+.3f} eV/atom\n"
        f"R$^2$ {stats['r2']:.2f}\nn = {len(relaxed)}"
    )
    free_corner(axis, text, points)
    return figure
