"""Overlap check of assembled MOFs: neighbour list vs MOFA's all-pairs distance matrix.

MOFA builds the full minimum-image distance matrix and a matching matrix of element-pair
thresholds for every MOF; discoverflow asks for neighbours within the largest threshold only.
Both flag the same pairs (checked here on MOF-5 with and without an inserted clash).

python benchmarks/mof_overlap.py [SUPERCELL]
"""

from __future__ import annotations

import sys

import numpy as np
from common import best_of, report

from discoverflow.core.mof.assembly import assemble_mof
from discoverflow.core.mof.linkers import process_linker
from discoverflow.core.mof.overlap import find_overlaps, minimum_distance


def all_pairs_overlaps(structure) -> set[tuple[int, int]]:
    """MOFA's way: distance matrix against a per-pair threshold matrix."""
    symbols = [site.specie.symbol for site in structure]
    distances = structure.distance_matrix
    thresholds = np.array([[minimum_distance(a, b) for b in symbols] for a in symbols])
    np.fill_diagonal(distances, np.inf)
    i, j = np.nonzero(np.triu(distances < thresholds, 1))
    return {(int(a), int(b)) for a, b in zip(i, j, strict=True)}


def main(supercell: int = 1) -> None:
    mof5 = assemble_mof([process_linker("OC(=O)c1ccc(cc1)C(=O)O")]).structure
    clean = mof5 * supercell if supercell > 1 else mof5
    clashing = clean.copy()
    clashing.append("C", clashing[0].coords + np.array([0.4, 0.0, 0.0]), coords_are_cartesian=True)
    for structure in (clean, clashing):
        ours = {(o.site_i, o.site_j) for o in find_overlaps(structure)}
        assert ours == all_pairs_overlaps(structure), "the two methods disagree"
    assert not find_overlaps(clean) and find_overlaps(clashing)

    n = len(clean)
    baseline = best_of(3, lambda: all_pairs_overlaps(clean))
    fast = best_of(3, lambda: find_overlaps(clean))
    report(f"MOF-5 ({n} atoms): overlap check", 1, "frameworks", fast, baseline, "same pairs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
