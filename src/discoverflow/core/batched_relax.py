"""Relaxing many structures at once: each keeps its own ASE optimiser (FIRE by default, the cell
under ``FrechetCellFilter``), and every step evaluates all structures in flight in one batched
model call. Trajectories are those of relaxing each structure alone with the same optimiser.

The optimisers' 3x3 matrix work (the filter's matrix exponentials) runs with one BLAS thread:
multi-threaded OpenBLAS on 3x3 matrices measured 20x slower on a loaded two-core machine.
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
    """One structure in flight: its atoms, what the optimiser moves, and steps taken."""

    key: str
    atoms: Atoms
    target: Atoms | FrechetCellFilter
    optimizer: ase.optimize.optimize.Optimizer
    n_steps: int = 0

    @classmethod
    def start(cls, key: str, structure: Structure, relax_cell: bool, optimizer: str) -> Relaxation:
        atoms = AseAtomsAdaptor.get_atoms(structure)
        target = FrechetCellFilterOnce(atoms) if relax_cell else atoms
        return cls(key, atoms, target, getattr(ase.optimize, optimizer)(target, logfile=None))

    def receive(self, energy: float, forces: np.ndarray, stress: np.ndarray | None) -> float:
        """Attach the model's results for the current geometry; the residual max force."""
        values = [energy, forces] if stress is None else [energy, forces, stress]
        if not all(np.all(np.isfinite(value)) for value in values):
            raise RuntimeError(
                f"relaxation diverged (non-finite energy or forces at step {self.n_steps})"
            )
        results = {"energy": float(energy), "free_energy": float(energy)}
        results["forces"] = np.asarray(forces, dtype=float).reshape(len(self.atoms), 3)
        if stress is not None:
            stress = np.asarray(stress, dtype=float)
            results["stress"] = full_3x3_to_voigt_6_stress(stress) if stress.ndim == 2 else stress
        self.atoms.calc = SinglePointCalculator(self.atoms, **results)
        residual = self.target.get_forces()
        return float(np.linalg.norm(residual, axis=1).max()) if len(residual) else 0.0

    def step(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.optimizer.step()
        self.n_steps += 1

    def outcome(self, converged: bool, max_force: float) -> RelaxOutcome:
        final = AseAtomsAdaptor.get_structure(self.atoms)
        if not np.all(np.isfinite(final.cart_coords)):
            raise RuntimeError("relaxation diverged (non-finite energy or positions)")
        energy = float(self.atoms.get_potential_energy())
        return RelaxOutcome(final, energy, self.n_steps, converged, max_force)


def evaluate_each(evaluate: BatchEvaluator, structures: list[Structure]) -> list:
    """(energy, forces, stress) per structure, or the exception of each structure that fails:
    when the batched call raises, the structures are evaluated one at a time to find it."""
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
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose from {OPTIMIZERS}")
    if max_batch < 1:
        raise ValueError(f"max_batch must be at least 1, not {max_batch}")
    waiting = iter(structures.items())
    active: list[Relaxation] = []
    while True:
        while len(active) < max_batch and (item := next(waiting, None)) is not None:
            try:
                active.append(Relaxation.start(*item, relax_cell, optimizer))
            except Exception as error:
                yield item[0], error
        if not active:
            return
        results = evaluate_each(evaluate, [AseAtomsAdaptor.get_structure(r.atoms) for r in active])
        going, ended = [], []
        with one_blas_thread():
            for relaxation, result in zip(active, results, strict=True):
                try:
                    if isinstance(result, Exception):
                        raise result
                    max_force = relaxation.receive(*result)
                    if max_force < fmax or relaxation.n_steps >= steps:
                        outcome = relaxation.outcome(max_force < fmax, max_force)
                        ended.append((relaxation.key, outcome))
                        continue
                    relaxation.step()
                except Exception as error:
                    ended.append((relaxation.key, error))
                    continue
                going.append(relaxation)
        yield from ended
        active = going
