"""Formation energies, the convex hull and vectorised energies above it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition, Element

HULL_TOLERANCE = 1e-9


def composition_matrix(
    compositions: Sequence[Composition], elements: Sequence[Element]
) -> np.ndarray:
    """Atomic fractions, one row per composition, one column per element."""
    return np.array([[c.get_atomic_fraction(el) for el in elements] for c in compositions])


def formation_energy_per_atom(
    compositions: Sequence[Composition],
    energies_per_atom: Sequence[float],
    elemental_energies: Mapping[str, float],
) -> np.ndarray:
    """E_f = E/atom - sum_i x_i E_i/atom, with E_i the elemental reference energies."""
    missing = {str(el) for c in compositions for el in c.elements} - set(elemental_energies)
    if missing:
        raise ValueError(f"no elemental reference energy for {', '.join(sorted(missing))}")
    elements = sorted(elemental_energies)
    fractions = composition_matrix(compositions, [Element(e) for e in elements])
    references = np.array([elemental_energies[e] for e in elements])
    return np.asarray(energies_per_atom, dtype=float) - fractions @ references


def hull_planes(phase_diagram: PhaseDiagram) -> np.ndarray:
    """Each lower-hull facet as a plane: energy/atom = x[1:] . a + b; rows are (a..., b)."""
    data = phase_diagram.qhull_data
    dim = phase_diagram.dim
    if dim == 1:
        return np.array([[data[phase_diagram.facets[0][0], -1]]])
    planes = []
    for facet in phase_diagram.facets:
        points = data[list(facet)]
        system = np.column_stack([points[:, :-1], np.ones(len(points))])
        planes.append(np.linalg.solve(system, points[:, -1]))
    return np.array(planes)


def hull_energy_per_atom(
    phase_diagram: PhaseDiagram, compositions: Sequence[Composition], chunk: int = 4096
) -> np.ndarray:
    """Energy per atom of the hull at each composition: the maximum over facet planes."""
    elements = phase_diagram.elements
    outside = [c for c in compositions if not set(c.elements) <= set(elements)]
    if outside:
        raise ValueError(f"{outside[0].reduced_formula} is outside the phase diagram's elements")
    fractions = composition_matrix(compositions, elements)
    planes = hull_planes(phase_diagram)
    if phase_diagram.dim == 1:
        return np.full(len(compositions), planes[0, 0])
    result = np.empty(len(compositions))
    for start in range(0, len(compositions), chunk):
        x = fractions[start : start + chunk, 1:]
        values = x @ planes[:, :-1].T + planes[:, -1]
        result[start : start + chunk] = values.max(axis=1)
    return result


def e_above_hull(
    phase_diagram: PhaseDiagram,
    compositions: Sequence[Composition],
    energies_per_atom: Sequence[float],
) -> np.ndarray:
    """Energy above the hull (eV/atom) for many entries at once; round-off at zero is zeroed."""
    values = np.asarray(energies_per_atom, dtype=float) - hull_energy_per_atom(
        phase_diagram, compositions
    )
    values[np.abs(values) < HULL_TOLERANCE] = 0.0
    return values


def build_phase_diagram(entries: Sequence[PDEntry]) -> PhaseDiagram:
    return PhaseDiagram(list(entries))


def plot_phase_diagram(
    phase_diagram: PhaseDiagram, folder: Path, stem: str = "phase_diagram"
) -> list[Path]:
    """The hull as a PNG (matplotlib) and an interactive HTML (plotly); ternaries and up."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pymatgen.analysis.phase_diagram import PDPlotter

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    html = folder / f"{stem}.html"
    PDPlotter(phase_diagram, backend="plotly", show_unstable=0.1).get_plot().write_html(html)
    written.append(html)
    png = folder / f"{stem}.png"
    axes = PDPlotter(phase_diagram, backend="matplotlib", show_unstable=0.1).get_plot()
    figure = axes.figure if hasattr(axes, "figure") else plt.gcf()
    figure.savefig(png, dpi=150, bbox_inches="tight")
    plt.close(figure)
    written.append(png)
    return written


def plot_stability_cdf(
    e_hull: Sequence[float], threshold: float, path: Path, title: str = "Stability of candidates"
) -> Path:
    """Cumulative distribution of energies above the hull, with the promising threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = np.sort(np.asarray(e_hull, dtype=float))
    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.step(values, np.arange(1, len(values) + 1) / max(len(values), 1), where="post")
    axis.axvline(threshold, color="tab:red", linestyle="--", label=f"threshold {threshold} eV/atom")
    axis.set_xlabel("E above hull (eV/atom)")
    axis.set_ylabel("fraction of candidates")
    axis.set_title(title)
    axis.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(figure)
    return path
