"""Probability of stability from an ensemble: the hull rebuilt per sample of the members'
energies, taken consistently for candidates and references.

A sample is either one member's energies for every entry at once (member k's candidates on
member k's hull, so errors the members share cancel as they do in a real formation energy),
or, with ``gaussian_draws``, every entry drawn from a normal distribution with the
ensemble's mean and standard deviation for that entry (independent errors per entry, which
smooths the handful of values a few members give).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pymatgen.analysis.phase_diagram import PDEntry
from pymatgen.core import Composition

from discoverflow.core.crystal.hull import build_phase_diagram, e_above_hull


@dataclass
class EnsembleEntry:
    """One structure's energy per atom (eV/atom) from each member of an ensemble."""

    key: str
    composition: Composition
    energies_per_atom: Sequence[float]


@dataclass
class StabilityEstimate:
    """A candidate's energy above the hull over the samples, and how often it is promising."""

    key: str
    e_above_hull_mean: float
    e_above_hull_std: float
    probability_stable: float
    n_samples: int


def energy_samples(
    entries: Sequence[EnsembleEntry], gaussian_draws: int = 0, seed: int = 0
) -> np.ndarray:
    """Energies per atom, one row per sample (the members, then the Gaussian draws), one
    column per entry."""
    members = {len(entry.energies_per_atom) for entry in entries}
    if len(members) != 1:
        raise ValueError(f"entries have different numbers of members: {sorted(members)}")
    by_member = np.array([entry.energies_per_atom for entry in entries], dtype=float).T
    if not np.all(np.isfinite(by_member)):
        raise ValueError("member energies must be finite")
    if gaussian_draws <= 0:
        return by_member
    rng = np.random.default_rng(seed)
    mean, std = by_member.mean(axis=0), by_member.std(axis=0)
    draws = mean + std * rng.standard_normal((gaussian_draws, len(entries)))
    return np.vstack([by_member, draws])


def stability_probability(
    candidates: Sequence[EnsembleEntry],
    references: Sequence[EnsembleEntry],
    threshold: float = 0.1,
    gaussian_draws: int = 0,
    seed: int = 0,
) -> list[StabilityEstimate]:
    """Per candidate, the mean and standard deviation of its energy above the hull (eV/atom)
    over the samples and the fraction of samples within ``threshold`` of the hull.

    ``references`` are the other hull entries: the elemental references (required for each
    element of the candidates) and any known phases. Each sample's hull is built with
    pymatgen's PhaseDiagram from the references and the candidates together.

    Parameters
    ----------
    candidates
        The candidates' energies from each ensemble member.
    references
        The elemental references' and known phases' energies from each member.
    threshold
        Promising within this of the hull (eV/atom).
    gaussian_draws
        Samples drawn from each entry's mean and spread, beside the members' own.
    seed
        The draws' seed.

    Returns
    -------
    list of StabilityEstimate
        One estimate per candidate.
    """
    if not candidates:
        return []
    elements = {str(el) for entry in candidates for el in entry.composition.elements}
    have = {
        str(entry.composition.elements[0]) for entry in references if entry.composition.is_element
    }
    missing = elements - have
    if missing:
        raise ValueError(f"no elemental reference for {', '.join(sorted(missing))}")
    entries = [*references, *candidates]
    samples = energy_samples(entries, gaussian_draws, seed)
    compositions = [entry.composition for entry in entries]
    atoms = np.array([c.num_atoms for c in compositions])
    first = len(references)
    e_hull = np.empty((len(samples), len(candidates)))
    for row, energies in enumerate(samples):
        diagram = build_phase_diagram(
            [PDEntry(c, e * n) for c, e, n in zip(compositions, energies, atoms, strict=True)]
        )
        e_hull[row] = e_above_hull(diagram, compositions[first:], energies[first:])
    return [
        StabilityEstimate(
            key=entry.key,
            e_above_hull_mean=float(e_hull[:, i].mean()),
            e_above_hull_std=float(e_hull[:, i].std()),
            probability_stable=float((e_hull[:, i] <= threshold).mean()),
            n_samples=len(samples),
        )
        for i, entry in enumerate(candidates)
    ]
