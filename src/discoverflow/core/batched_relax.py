"""Relaxing many structures at once, every step evaluating all structures in flight in one
batched model call. Trajectories are those of relaxing each structure alone with the same ASE
optimiser (the cell under ``FrechetCellFilter``).

FIRE, the default, runs as array operations over the whole batch (``batched_fire``). BFGS
and LBFGS keep one ASE optimiser per structure (``AseBatch``); their 3x3 matrix work runs with
one BLAS thread: multi-threaded OpenBLAS on 3x3 matrices measured 20x slower on a loaded
two-core machine.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache

import ase.optimize
import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.filters import FrechetCellFilter
from ase.stress import full_3x3_to_voigt_6_stress
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor
from threadpoolctl import ThreadpoolController

from discoverflow.core.batched_fire import FireBatch, Result, checked
from discoverflow.core.relax import RelaxOutcome

Evaluation = tuple[Sequence[float], Sequence[np.ndarray], Sequence[np.ndarray] | None]
BatchEvaluator = Callable[[Sequence[Structure]], Evaluation]
"""Structures -> (total energies in eV, forces (n_i, 3) in eV/A, stresses in eV/A^3 with ASE's
sign, 3x3 or Voigt, or None when the cell stays fixed), raising if any structure fails."""

OPTIMIZERS = ("FIRE", "BFGS", "LBFGS")


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager:
    """NumPy's and SciPy's BLAS on one thread (PyTorch's own threads are left alone)."""
    return _blas().limit(limits=1, user_api="blas")


class FrechetCellFilterOnce(FrechetCellFilter):
    """ASE's ``FrechetCellFilter`` whose forces are worked out once per model evaluation: the
    convergence check and the optimiser's step both ask for them."""

    _forces: np.ndarray | None = None
    _calc: object = None

    def get_forces(self, **kwargs) -> np.ndarray:
        calc = self.atoms.calc
        if self._forces is None or calc is not self._calc or calc.check_state(self.atoms):
            self._forces, self._calc = super().get_forces(**kwargs), calc
        return self._forces.copy()


@dataclass
class Relaxation:
    """One structure in flight under its own ASE optimiser: its atoms, what the optimiser
    moves, and steps taken."""

    atoms: Atoms
    target: Atoms | FrechetCellFilter
    optimizer: ase.optimize.optimize.Optimizer
    n_steps: int = 0

    @classmethod
    def start(cls, structure: Structure, relax_cell: bool, optimizer: str) -> Relaxation:
        atoms = AseAtomsAdaptor.get_atoms(structure)
        target = FrechetCellFilterOnce(atoms) if relax_cell else atoms
        return cls(atoms, target, getattr(ase.optimize, optimizer)(target, logfile=None))

    def receive(self, result: Result) -> float | Exception:
        """Attach the model's results for the current geometry; the residual max force."""
        result = checked(result, len(self.atoms), self.n_steps, self.target is not self.atoms)
        if isinstance(result, Exception):
            return result
        energy, forces, stress = result
        results = {"energy": energy, "free_energy": energy, "forces": forces}
        if stress is not None:
            results["stress"] = full_3x3_to_voigt_6_stress(stress)
        self.atoms.calc = SinglePointCalculator(self.atoms, **results)
        residual = self.target.get_forces()
        return float(np.linalg.norm(residual, axis=1).max())

    def step(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.optimizer.step()
        self.n_steps += 1


class AseBatch:
    """Structures in flight, each under its own ASE optimiser (BFGS, LBFGS)."""

    def __init__(self, relax_cell: bool, optimizer: str) -> None:
        self.relax_cell, self.optimizer = relax_cell, optimizer
        self.keys: list[str] = []
        self.relaxations: list[Relaxation] = []

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def n_steps(self) -> list[int]:
        return [relaxation.n_steps for relaxation in self.relaxations]

    def add(self, key: str, structure: Structure) -> None:
        self.relaxations.append(Relaxation.start(structure, self.relax_cell, self.optimizer))
        self.keys.append(key)

    def keep(self, kept: np.ndarray) -> None:
        self.keys = [key for key, k in zip(self.keys, kept, strict=True) if k]
        self.relaxations = [r for r, k in zip(self.relaxations, kept, strict=True) if k]

    def structures(self) -> list[Structure]:
        return [AseAtomsAdaptor.get_structure(r.atoms) for r in self.relaxations]

    def receive(self, results: Sequence[Result]) -> list[float | Exception]:
        with one_blas_thread():
            return [r.receive(result) for r, result in zip(self.relaxations, results, strict=True)]

    def step(self) -> None:
        with one_blas_thread():
            for relaxation in self.relaxations:
                relaxation.step()

    def outcome(self, index: int, converged: bool, max_force: float) -> RelaxOutcome:
        relaxation = self.relaxations[index]
        final = AseAtomsAdaptor.get_structure(relaxation.atoms)
        if not np.all(np.isfinite(final.cart_coords)):
            raise RuntimeError("relaxation diverged (non-finite energy or positions)")
        energy = float(relaxation.atoms.get_potential_energy())
        return RelaxOutcome(final, energy, relaxation.n_steps, converged, max_force)


def evaluate_each(evaluate: BatchEvaluator, structures: list[Structure]) -> list[Result]:
    """(energy, forces, stress) per structure, or the exception of each structure that fails:
    when the batched call raises, the structures are evaluated one at a time to find it.

    Parameters
    ----------
    evaluate
        The batched model call: structures -> (energies, forces, stresses or None).
    structures
        The structures.

    Returns
    -------
    list
        One ``(energy, forces, stress)`` or exception per structure.
    """
    try:
        energies, forces, stresses = evaluate(structures)
        if not len(energies) == len(forces) == len(structures):
            raise ValueError(f"the model returned {len(energies)} energies for {len(structures)}")
        stresses = [None] * len(structures) if stresses is None else stresses
        return list(zip(energies, forces, stresses, strict=True))
    except Exception as error:
        if len(structures) == 1:
            return [error]
        return [evaluate_each(evaluate, [structure])[0] for structure in structures]


def relax_batch(
    structures: Mapping[str, Structure],
    evaluate: BatchEvaluator,
    fmax: float = 0.05,
    steps: int = 500,
    relax_cell: bool = True,
    optimizer: str = "FIRE",
    max_batch: int = 32,
) -> Iterator[tuple[str, RelaxOutcome | Exception]]:
    """Relax every structure, at most ``max_batch`` in flight; yield ``(key, outcome)`` as each
    ends (converged, out of steps) or ``(key, exception)`` as each fails, while the rest go on.

    A finished structure leaves the batch at once and the next one in line takes its place.
    Convergence is ASE's: the largest row norm of the optimised forces (the cell's included)
    below ``fmax``, within ``steps`` optimiser steps.

    Parameters
    ----------
    structures
        Key -> structure.
    evaluate
        The batched model call: structures -> (energies, forces, stresses or None).
    fmax, steps, relax_cell
        The force criterion (eV/A), the most optimiser steps, and whether the cell relaxes.
    optimizer
        FIRE (array arithmetic over the batch), BFGS or LBFGS (one ASE optimiser each).
    max_batch
        Structures in flight.

    Yields
    ------
    tuple
        ``(key, RelaxOutcome or exception)`` as each relaxation ends.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose from {OPTIMIZERS}")
    if max_batch < 1:
        raise ValueError(f"max_batch must be at least 1, not {max_batch}")
    waiting = iter(structures.items())
    batch = FireBatch(relax_cell) if optimizer == "FIRE" else AseBatch(relax_cell, optimizer)
    while True:
        while len(batch) < max_batch and (item := next(waiting, None)) is not None:
            try:
                batch.add(*item)
            except Exception as error:
                yield item[0], error
        if not len(batch):
            return
        residuals = batch.receive(evaluate_each(evaluate, batch.structures()))
        kept = np.ones(len(batch), dtype=bool)
        ended: list[tuple[str, RelaxOutcome | Exception]] = []
        for index, (key, residual, n_steps) in enumerate(
            zip(batch.keys, residuals, batch.n_steps, strict=True)
        ):
            if isinstance(residual, Exception):
                ended.append((key, residual))
            elif residual < fmax or n_steps >= steps:
                try:
                    ended.append((key, batch.outcome(index, residual < fmax, residual)))
                except Exception as error:
                    ended.append((key, error))
            else:
                continue
            kept[index] = False
        batch.keep(kept)
        batch.step()
        yield from ended
