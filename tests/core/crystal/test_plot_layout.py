"""Plots a group meeting would accept, checked on the drawn figure: every label inside the
axes, over no other label and no marker; polymorphs beside, not under, the stable marker;
the parity statistics over no point."""

import math

import numpy as np
import pytest
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition

from discoverflow.core.crystal.plots import hull_figure, hull_geometry, parity_figure


def diagram(formation: dict[str, float]) -> PhaseDiagram:
    """Entries by formula (``#tag`` for a polymorph) at formation energies in eV/atom."""
    entries = []
    for key, energy in formation.items():
        composition = Composition(key.split("#")[0])
        entries.append(PDEntry(composition, energy * composition.num_atoms, name=key))
    return PhaseDiagram(entries)


CE_FE_IN = {  # Ce2Fe17 and CeFe5, CeIn2 and CeIn3: stable neighbours close in composition
    "Ce": 0.0, "Fe": 0.0, "In": 0.0, "Ce2Fe17": -0.06, "CeFe5": -0.085, "CeFe2": -0.12,
    "CeFe2#C15b": -0.11, "Ce3In": -0.45, "Ce2In": -0.58, "CeIn": -0.70, "CeIn2": -0.74,
    "CeIn3": -0.72, "CeIn3#hex": -0.715, "CeFeIn": -0.40, "FeIn": 0.05,
}  # fmt: skip
AL_NI = {  # Ni at the right edge; a B2 polymorph 15 meV above the stable AlNi
    "Al": 0.0, "Ni": 0.0, "AlNi": -0.62, "AlNi#L1_0": -0.605, "AlNi3": -0.45,
    "Al3Ni": -0.33, "Al3Ni2": -0.55, "AlNi2": -0.50, "Al3Ni#D0_11": -0.30,
}  # fmt: skip


def labels(axis) -> list[tuple[str, object]]:
    renderer = axis.figure.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(renderer)) for t in axis.texts if t.get_text()]


def discs(collection) -> list[tuple[float, float, float]]:
    """(x, y, radius) in display units of each marker of a scatter."""
    centres = collection.get_offset_transform().transform(collection.get_offsets())
    sizes = np.broadcast_to(collection.get_sizes(), len(centres))
    dpi = collection.figure.dpi
    return [
        (x, y, math.sqrt(s / math.pi) * dpi / 72) for (x, y), s in zip(centres, sizes, strict=True)
    ]


def covers(box, disc) -> bool:
    """Whether a box and a disc share area (nearest point of the box within the radius)."""
    x, y, r = disc
    nearest = (min(max(x, box.x0), box.x1), min(max(y, box.y0), box.y1))
    return math.dist(nearest, (x, y)) < r - 0.5


def shares_area(a, b) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5


@pytest.mark.parametrize(("formation", "elements"), [(CE_FE_IN, ["Ce", "Fe", "In"]),
                                                     (AL_NI, ["Al", "Ni"])])  # fmt: skip
def test_hull_labels_overlap_nothing_and_stay_in_the_frame(formation, elements):
    lines, stable, above = hull_geometry(diagram(formation), threshold=0.1)
    figure = hull_figure(lines, stable, above, 0.1, "hull", elements)
    axis = figure.axes[0]
    figure.canvas.draw()
    shown = labels(axis)
    assert sorted(text for text, _ in shown) == sorted(p.formula for p in stable)
    frame = axis.get_window_extent()
    for index, (text, box) in enumerate(shown):
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, f"{text} leaves the frame"
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1, f"{text} leaves the frame"
        assert not any(shares_area(box, other) for _, other in shown[index + 1 :]), text
        for collection in axis.collections:
            assert not any(covers(box, disc) for disc in discs(collection)), text
    on_hull, near = (discs(c) for c in axis.collections)
    assert len(near) == len(above)
    for x, y, r in near:  # each entry above the hull is seen, none hidden by a stable marker
        assert all(math.dist((x, y), (sx, sy)) >= r + sr - 0.5 for sx, sy, sr in on_hull)


@pytest.mark.parametrize(
    "where",
    ["diagonal", "top left taken", "every corner taken"],
)
def test_parity_statistics_cover_no_point(where):
    rng = np.random.default_rng(1)
    relaxed = list(rng.uniform(-0.8, 0.0, 40))
    predicted = [r + rng.normal(0, 0.03) for r in relaxed]
    corners = {"top left taken": [(-0.8, 0.0)], "every corner taken": [
        (-0.8, 0.0), (0.0, 0.0), (-0.8, -0.8), (0.0, -0.8)]}.get(where, [])  # fmt: skip
    for x, y in corners:  # a cluster of points in the corner
        relaxed += [x + dx for dx in (0.0, 0.04, 0.08)] * 3
        predicted += [y - dy for dy in (0.0, 0.04, 0.08) for _ in range(3)]
    figure = parity_figure(predicted, relaxed, "parity")
    axis = figure.axes[0]
    figure.canvas.draw()
    ((text, box),) = labels(axis)
    assert text.startswith("MAE")
    assert not any(covers(box, disc) for disc in discs(axis.collections[0]))
    inside = axis.get_window_extent().contains(box.x0, box.y0)
    assert inside == (where != "every corner taken")
