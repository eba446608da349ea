"""Near-duplicate removal: discoverflow vs StructureMatcher().group_structures, side by side.

Three differently generated sets of N structures: substitution candidates over five lattice
scales (the crystal campaign's own candidates), pyxtal random crystals with scaled and
rattled copies, and scaled, strained, rattled copies of every prototype. For each: baseline
seconds, ours, the ratio, and whether the groups are identical (the script fails otherwise).

python benchmarks/dedup.py [N]
"""

from __future__ import annotations

import sys
import warnings

from common import conditions, interleaved, pyxtal_set, rattled_set, substitution_set
from pymatgen.analysis.structure_matcher import StructureMatcher

from discoverflow.core.crystal.dedup import group_like_structure_matcher

warnings.filterwarnings("ignore")

SETS = {
    "substitution candidates": substitution_set,
    "pyxtal crystals + copies": pyxtal_set,
    "rattled prototypes": rattled_set,
}


def compare(structures) -> tuple[float, float, int, bool]:
    """(baseline s, ours s, groups, identical), run interleaved, ours first."""
    ours_s, theirs_s, ours, theirs = interleaved(
        lambda: group_like_structure_matcher(structures),
        lambda: StructureMatcher().group_structures(structures),
    )
    index = {id(s): i for i, s in enumerate(structures)}
    their_sets = {frozenset(index[id(s)] for s in group) for group in theirs}
    identical = their_sets == {frozenset(group) for group in ours}
    return theirs_s, ours_s, len(their_sets), identical


def main(n: int = 2000) -> None:
    print(f"dedup ({conditions()}); set, N, groups, baseline s, ours s (interleaved, best of 2")
    print("each), ratio, identical")
    failed = False
    for name, make in SETS.items():
        structures = make(n)
        baseline, ours, groups, identical = compare(structures)
        failed |= not identical
        print(
            f"  {name:26s} N={len(structures):5d} groups={groups:5d} "
            f"baseline {baseline:7.2f} s  ours {ours:6.2f} s  {baseline / ours:5.1f}x  "
            f"identical: {'yes' if identical else 'NO'}",
            flush=True,
        )
    print(f"  at the end: {conditions()}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
