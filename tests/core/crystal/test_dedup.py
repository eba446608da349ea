import itertools

import numpy as np
import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Lattice, Structure

from discoverflow.core.crystal.dedup import DedupSettings, deduplicate, group_like_structure_matcher
from discoverflow.core.crystal.matcher_bounds import (
    Cell,
    lattice_interval,
    may_fit,
    primitive_translations,
    reduce_like_matcher,
)
from discoverflow.core.crystal.prototypes import PROTOTYPES
from discoverflow.core.crystal.substitution import SubstitutionSettings, substitute


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
                s.perturb(0.05, min_distance=0.0, seed=copy_index)
            structures.append(s)
    order = rng.permutation(len(structures))
    return [structures[i] for i in order]


def variant(structure: Structure, rng: np.random.Generator, rattle: float) -> Structure:
    """Scaled, slightly strained, rattled by up to ``rattle`` A, sites shuffled."""
    strain = np.eye(3) + rng.normal(0, 0.01, (3, 3))
    lattice = Lattice(structure.lattice.matrix @ strain * rng.uniform(0.95, 1.05))
    step = rng.uniform(-1, 1, (len(structure), 3)) * rattle / np.array(structure.lattice.abc)
    order = rng.permutation(len(structure))
    return Structure(
        lattice, [structure.species[i] for i in order], (structure.frac_coords + step)[order]
    )


def substitution_set() -> list[Structure]:
    names = ["Cu3Au", "CuZn", "Fe3Al", "MgAgAs", "NiAs"]
    templates = {name: PROTOTYPES[name].structure() for name in names}
    settings = SubstitutionSettings(lattice_scales=[0.97, 1.0, 1.03])
    result = substitute(templates, ["Fe", "Ni", "Co"], settings)
    rng = np.random.default_rng(1)
    chosen = rng.choice(len(result.candidates), size=min(70, len(result.candidates)), replace=False)
    return [result.candidates[i].structure for i in chosen]


def rattled_set() -> list[Structure]:
    rng = np.random.default_rng(2)
    templates = [PROTOTYPES[name].structure() for name in ("CuZn", "NiAs", "Fe3Al", "AlB2")]
    return [variant(templates[i % 4], rng, rng.uniform(0.0, 0.5)) for i in range(36)]


def pyxtal_set() -> list[Structure]:
    from discoverflow.core.crystal.generators import random_crystals

    rng = np.random.default_rng(4)
    structures = []
    for formula in ("FeNi", "Fe2Co"):
        for _, crystal in random_crystals(Composition(formula), 4, max_sites=6, seed=5):
            structures.append(crystal)
            scaled = crystal.copy()
            scaled.scale_lattice(crystal.volume * 1.07)
            structures += [scaled] + [variant(crystal, rng, r) for r in (0.05, 0.3, 0.6)]
    return [structures[i] for i in rng.permutation(len(structures))]


def as_sets(groups):
    return {frozenset(g) for g in groups}


def matcher_groups(structures, matcher=None):
    index = {id(s): i for i, s in enumerate(structures)}
    groups = (matcher or StructureMatcher()).group_structures(structures)
    return as_sets([[index[id(s)] for s in g] for g in groups])


def test_groups_equal_structure_matcher():
    structures = perturbed_set()
    ours = group_like_structure_matcher(structures, workers=1)
    assert as_sets(ours) == matcher_groups(structures)
    assert len(ours) == 4
    assert all(group == sorted(group) for group in ours)


@pytest.mark.parametrize("make", [substitution_set, rattled_set])
def test_groups_equal_structure_matcher_on_generated_sets(make):
    structures = make()
    ours = as_sets(group_like_structure_matcher(structures, workers=1))
    assert ours == matcher_groups(structures)
    assert 1 < len(ours) < len(structures)


def test_groups_equal_structure_matcher_on_pyxtal_crystals():
    structures = pyxtal_set()
    ours = as_sets(group_like_structure_matcher(structures, workers=1))
    assert ours == matcher_groups(structures)
    assert len(ours) < len(structures)


def test_tolerances_reach_the_matcher():
    structures = rattled_set()
    settings = DedupSettings(ltol=0.1, stol=0.1, angle_tol=3)
    ours = as_sets(group_like_structure_matcher(structures, settings, workers=1))
    assert ours == matcher_groups(structures, settings.matcher())
    assert len(ours) > len(as_sets(group_like_structure_matcher(structures, workers=1)))


def test_certified_reductions_hold_at_every_scale():
    certified = 0
    for structure in substitution_set()[:30] + rattled_set()[:12]:
        folds = primitive_translations(structure)
        if folds is None:
            continue
        certified += 1
        reduced = reduce_like_matcher(structure)
        assert len(reduced) == len(structure) // folds
        for factor in (1.04, 1.25):
            scaled = structure.copy()
            scaled.scale_lattice(structure.volume * factor)
            again = reduce_like_matcher(scaled)
            assert len(again) == len(reduced)
            wrapped = (
                again.frac_coords - reduced.frac_coords + 0.5
            ) % 1.0 - 0.5  # 0 and 1 are one site
            np.testing.assert_allclose(wrapped, 0.0, atol=1e-8)
            np.testing.assert_allclose(
                again.lattice.matrix, reduced.lattice.matrix * factor ** (1 / 3), atol=1e-8
            )
    assert certified >= 20


def test_prefilter_and_lattice_intervals_never_split_a_match():
    settings = DedupSettings()
    matcher = settings.matcher()
    reduced = [reduce_like_matcher(s) for s in rattled_set() + perturbed_set()]
    cells = [Cell.of(r) for r in reduced]
    intervals = [lattice_interval(r.lattice, len(r), settings) for r in reduced]
    matches = refuted = 0
    for i, j in itertools.permutations(range(len(reduced)), 2):
        a, b = reduced[i], reduced[j]
        if a.composition.reduced_formula != b.composition.reduced_formula or len(a) != len(b):
            continue
        fits = matcher.fit(a, b, skip_structure_reduction=True)
        possible = may_fit(cells[i], cells[j], settings)
        refuted += not possible
        if fits:
            matches += 1
            assert possible
            (ci, _), (cj, wj) = intervals[i], intervals[j]
            assert np.all(np.abs(ci - cj) <= wj)
    assert matches > 50 and refuted > 10


def test_parallel_workers_give_the_same_groups():
    structures = substitution_set()
    assert as_sets(group_like_structure_matcher(structures, workers=2)) == as_sets(
        group_like_structure_matcher(structures, workers=1)
    )


def test_deduplicate_keeps_the_lowest_energy_member():
    structures = perturbed_set()
    energies = list(np.linspace(0, 1, len(structures))[::-1])
    outcome = deduplicate(structures, energies, DedupSettings(workers=1))
    assert len(outcome.kept) == 4
    for removed, kept in outcome.duplicate_of.items():
        assert energies[kept] <= energies[removed]
        assert StructureMatcher().fit(structures[kept], structures[removed])
    assert sorted(outcome.kept + list(outcome.duplicate_of)) == list(range(len(structures)))
