"""Structure generators beyond substitution: SMACT compositions and pyxtal random crystals."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from itertools import product

from pydantic import Field
from pymatgen.core import Composition, Structure

from discoverflow.core.crystal.validity import is_charge_neutral
from discoverflow.settings import PositiveInt, StageSettings


class RandomStructureSettings(StageSettings):
    """Random symmetric crystals (pyxtal) for the stoichiometries of the target elements."""

    per_composition: PositiveInt = Field(5, description="Crystals tried per composition")
    max_atoms: PositiveInt = Field(6, description="Most atoms per formula unit")
    max_sites: PositiveInt = Field(24, description="Most sites per cell")
    charge_neutral_only: bool = Field(
        True, description="Keep only the compositions SMACT finds charge-neutral"
    )
    seed: int = Field(0, description="Seed of the first composition (+1 for each next one)")


class UserStructuresSettings(StageSettings):
    """The user's structures are taken as they are: there is nothing to set."""


def stoichiometries(
    elements: Sequence[str], max_atoms: int, min_elements: int = 2
) -> list[Composition]:
    """Reduced compositions of ``elements`` with at most ``max_atoms`` atoms per formula unit."""
    found = {}
    for counts in product(range(max_atoms + 1), repeat=len(elements)):
        present = [c for c in counts if c]
        if len(present) < min_elements or sum(counts) > max_atoms or math.gcd(*present) != 1:
            continue
        composition = Composition({el: c for el, c in zip(elements, counts, strict=True) if c})
        found.setdefault(composition.reduced_formula, composition)
    return sorted(found.values(), key=lambda c: (c.num_atoms, c.reduced_formula))


def charge_neutral_compositions(
    elements: Sequence[str], max_atoms: int, min_elements: int = 2
) -> list[Composition]:
    """The stoichiometries SMACT finds charge-balanced (or metallic alloys)."""
    return [c for c in stoichiometries(elements, max_atoms, min_elements) if is_charge_neutral(c)]


def random_crystals(
    composition: Composition,
    count: int,
    max_sites: int = 24,
    seed: int = 0,
    attempts_per_structure: int = 10,
) -> list[tuple[int, Structure]]:
    """Up to ``count`` random symmetric crystals (space group, structure) from pyxtal."""
    from pyxtal import pyxtal

    rng = random.Random(seed)
    units = [z for z in range(1, 9) if composition.num_atoms * z <= max_sites] or [1]
    species = [str(el) for el in composition.elements]
    made: list[tuple[int, Structure]] = []
    for _ in range(count * attempts_per_structure):
        if len(made) >= count:
            break
        group = rng.randint(2, 230)
        z = rng.choice(units)
        crystal_seed = rng.randint(0, 2**31)
        crystal = pyxtal(random_state=crystal_seed)
        try:
            crystal.from_random(
                3,
                group,
                species,
                [int(composition[el] * z) for el in species],
                random_state=crystal_seed,
            )
        except Exception:
            continue
        if crystal.valid:
            made.append((group, crystal.to_pymatgen()))
    return made
