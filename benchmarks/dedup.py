"""Near-duplicate removal: discoverflow vs StructureMatcher.group_structures on all pairs.

python benchmarks/dedup.py [N]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from common import candidates, report, timer
from pymatgen.analysis.structure_matcher import StructureMatcher

from discoverflow.core.crystal.dedup import group_like_structure_matcher

warnings.filterwarnings("ignore")


def main(n: int = 2000) -> None:
    pool = candidates(["Co", "Fe", "Mn", "Si", "Ni"])
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
    structures = [pool[i].structure for i in chosen]
    n = len(structures)

    times: dict[str, float] = {}
    with timer(times, "baseline"):
        theirs = StructureMatcher().group_structures(structures)
    with timer(times, "ours"):
        ours = group_like_structure_matcher(structures)

    index = {id(s): i for i, s in enumerate(structures)}
    their_sets = {frozenset(index[id(s)] for s in group) for group in theirs}
    our_sets = {frozenset(group) for group in ours}
    identical = their_sets == our_sets
    report(
        f"Dedup of {n} candidates into {len(our_sets)} groups",
        n,
        "structures",
        times["ours"],
        times["baseline"],
        f"groups identical: {identical}",
    )
    if not identical:
        sys.exit(1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
