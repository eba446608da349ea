"""Pictures of a campaign's outcome: the phase diagram, the stability CDF and the parity of
predicted against relaxed formation energies."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from pymatgen.analysis.phase_diagram import PDPlotter, PhaseDiagram

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(figure)
    return path


def plot_phase_diagram(
    phase_diagram: PhaseDiagram,
    folder: Path,
    threshold: float,
    title: str,
    stem: str = "phase_diagram",
) -> list[Path]:
    """The hull as a PNG (matplotlib) and an interactive HTML (plotly), both showing the
    entries within ``threshold`` (eV/atom) of the hull, only stable phases labelled (the
    HTML gives each entry's distance to the hull on hover). The HTML loads plotly.js from a
    file beside it (written once per folder), so it stays small and opens offline."""
    folder.mkdir(parents=True, exist_ok=True)
    html = folder / f"{stem}.html"
    figure = PDPlotter(phase_diagram, backend="plotly", show_unstable=threshold).get_plot(
        label_unstable=False
    )
    figure.update_layout(title=title)
    figure.write_html(html, include_plotlyjs="directory")
    plotter = PDPlotter(phase_diagram, backend="matplotlib", show_unstable=threshold)
    elements = [str(el) for el in phase_diagram.elements]
    axes = plotter.get_plot(label_unstable=False)
    axes.set_title(title)
    if len(elements) == 2:
        axes.set_xlabel(f"x in {elements[0]}$_{{1-x}}${elements[1]}$_x$")
        axes.set_ylabel("formation energy (eV/atom)")
    return [html, save(axes.figure, folder / f"{stem}.png")]


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
    stats = parity_statistics(predicted, relaxed)
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.scatter(relaxed, predicted, s=18, alpha=0.8)
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
    axis.text(
        0.04,
        0.96,
        f"MAE {stats['mae']:.3f} eV/atom\nbias {stats['bias']:+.3f} eV/atom\n"
        f"R$^2$ {stats['r2']:.2f}\nn = {len(relaxed)}",
        transform=axis.transAxes,
        va="top",
    )
    return save(figure, path)
