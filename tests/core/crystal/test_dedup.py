import numpy as np
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Lattice, Structure

from discoverflow.core.crystal.dedup import DedupSettings, deduplicate, group_like_structure_matcher


def perturbed_set() -> list[Structure]:
    rng = np.random.default_rng(3)
    bases = [
        Structure.from_spacegroup(
            "Pm-3m", Lattice.cubic(3.6), ["Ni", "Al"], [[0, 0, 0], [0, 0.5, 0.5]]
        ),
        Structure.from_spacegroup(
            "Fm-3m", Lattice.cubic(5.8), ["Al", "Ni"], [[0, 0, 0], [0.25, 0.25, 0.25]]
        ),
        Structure.from_spacegroup(
            "Pm-3m", Lattice.cubic(2.9), ["Ni", "Al"], [[0, 0, 0], [0.5, 0.5, 0.5]]
        ),
        Structure.from_spacegroup(
            "P6/mmm", Lattice.hexagonal(3.0, 3.3), ["Al", "Ni"], [[0, 0, 0], [1 / 3, 2 / 3, 0.5]]
        ),
    ]
    structures = []
    for base in bases:
        for copy_index in range(4):
            s = base.copy()
            s.scale_lattice(base.volume * (0.9 + 0.05 * copy_index))
            if copy_index % 2:
                s.perturb(0.05, min_distance=0.0)
            structures.append(s)
    order = rng.permutation(len(structures))
    return [structures[i] for i in order]


def as_sets(groups):
    return {frozenset(g) for g in groups}


def test_groups_equal_structure_matcher():
    structures = perturbed_set()
    ours = group_like_structure_matcher(structures, workers=1)
    index = {id(s): i for i, s in enumerate(structures)}
    theirs = [[index[id(s)] for s in g] for g in StructureMatcher().group_structures(structures)]
    assert as_sets(ours) == as_sets(theirs)
    assert len(ours) == 4


def test_parallel_blocks_give_the_same_groups():
    structures = perturbed_set()
    assert as_sets(group_like_structure_matcher(structures, workers=2)) == as_sets(
        group_like_structure_matcher(structures, workers=1)
    )


def test_tight_tolerances_split_perturbed_copies():
    structures = perturbed_set()
    loose = group_like_structure_matcher(structures, workers=1)
    tight = group_like_structure_matcher(structures, DedupSettings(stol=0.005), workers=1)
    assert len(tight) > len(loose)


def test_deduplicate_keeps_the_lowest_energy_member():
    structures = perturbed_set()
    energies = list(np.linspace(0, 1, len(structures))[::-1])
    outcome = deduplicate(structures, energies, workers=1)
    assert len(outcome.kept) == 4
    for removed, kept in outcome.duplicate_of.items():
        assert energies[kept] <= energies[removed]
        assert StructureMatcher().fit(structures[kept], structures[removed])
    assert sorted(outcome.kept + list(outcome.duplicate_of)) == list(range(len(structures)))
