"""Energy above hull for many entries: vectorised facet planes vs per-entry get_e_above_hull.

The baseline is PhaseDiagram.get_e_above_hull called on each entry of the same diagram.

python benchmarks/hull.py [N]
"""

from __future__ import annotations

import sys

import numpy as np
from common import interleaved, report
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition

from discoverflow.core.crystal.hull import e_above_hull_of_entries

REPEATS = 5


def quaternary_entries(n: int, seed: int = 0) -> list[PDEntry]:
    rng = np.random.default_rng(seed)
    elements = ["Li", "Fe", "Mn", "P"]
    entries = [PDEntry(Composition(el), -3.0 - i) for i, el in enumerate(elements)]
    while len(entries) < n:
        counts = rng.integers(0, 9, size=4)
        if counts.sum() == 0:
            continue
        comp = Composition({el: int(k) for el, k in zip(elements, counts, strict=True) if k})
        reference = sum(comp.get_atomic_fraction(el) * (-3.0 - i) for i, el in enumerate(elements))
        entries.append(PDEntry(comp, (reference + rng.normal(-0.3, 0.25)) * comp.num_atoms))
    return entries


def main(n: int = 10_000) -> None:
    entries = quaternary_entries(n)
    diagram = PhaseDiagram(entries)
    theirs_s, ours_s, theirs, ours = interleaved(
        lambda: np.array([diagram.get_e_above_hull(e) for e in entries]),
        lambda: e_above_hull_of_entries(diagram, entries),
        rounds=REPEATS,
    )
    difference = np.abs(ours - theirs).max()
    report(
        f"e_above_hull of {n} quaternary entries ({len(diagram.facets)} facets)",
        n,
        "entries",
        ours_s,
        theirs_s,
        f"max |difference| = {difference:.1e} eV/atom; identical (1e-8): {difference <= 1e-8}"
        f"  (interleaved, best of {REPEATS} each)",
    )
    if difference > 1e-8:
        sys.exit(1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
