"""Relaxing many structures at once, every step evaluating all structures in flight in one
batched model call. Trajectories are those of relaxing each structure alone with the same ASE
optimiser (the cell under ``FrechetCellFilter``).

FIRE, the default, runs as array operations over the whole batch (``FireBatch``): ASE's FIRE
and Frechet cell filter, with no per-structure optimiser, filter or ``Atoms``. BFGS and LBFGS
keep one ASE optimiser per structure (``AseBatch``); their 3x3 matrix work runs with one BLAS
thread: multi-threaded OpenBLAS on 3x3 matrices measured 20x slower on a loaded two-core machine.
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
from ase.stress import full_3x3_to_voigt_6_stress, voigt_6_to_full_3x3_stress
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor
from scipy.linalg import expm
from threadpoolctl import ThreadpoolController

from discoverflow.core.relax import RelaxOutcome

Evaluation = tuple[Sequence[float], Sequence[np.ndarray], Sequence[np.ndarray] | None]
BatchEvaluator = Callable[[Sequence[Structure]], Evaluation]
"""Structures -> (total energies in eV, forces (n_i, 3) in eV/A, stresses in eV/A^3 with ASE's
sign, 3x3 or Voigt, or None when the cell stays fixed), raising if any structure fails."""
Result = tuple[float, np.ndarray, np.ndarray | None] | Exception

OPTIMIZERS = ("FIRE", "BFGS", "LBFGS")


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager:
    """NumPy's and SciPy's BLAS on one thread (PyTorch's own threads are left alone)."""
    return _blas().limit(limits=1, user_api="blas")


def checked(result: Result, n_atoms: int, n_steps: int, relax_cell: bool) -> Result:
    """The model's (energy, forces (n, 3), 3x3 stress or None), or why it cannot be used."""
    if isinstance(result, Exception):
        return result
    energy, forces, stress = result
    values = [energy, forces] if stress is None else [energy, forces, stress]
    if not all(np.all(np.isfinite(value)) for value in values):
        return RuntimeError(f"relaxation diverged (non-finite energy or forces at step {n_steps})")
    forces = np.asarray(forces, dtype=float).reshape(n_atoms, 3)
    if relax_cell:
        stress = np.asarray(stress, dtype=float)
        stress = voigt_6_to_full_3x3_stress(stress) if stress.shape == (6,) else stress
    return float(energy), forces, stress if relax_cell else None


def frechet_gradient(log_deformation: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The Frechet derivative of expm at each ``A = log_deformation^T`` along ``direction``
    (both (b, 3, 3)), from the exponential of the block matrix [[A, E], [0, A]]: with ``E``
    the cell gradient this is ASE's nine ``expm_frechet`` projections in one call."""
    a = np.swapaxes(log_deformation, 1, 2)
    block = np.zeros((len(a), 6, 6))
    block[:, :3, :3] = block[:, 3:, 3:] = a
    block[:, :3, 3:] = direction
    return expm(block)[:, :3, 3:]


class FireBatch:
    """Structures in flight under ASE's FIRE (default parameters), each alone in ASE's sense:
    per-structure time step, mixing and velocity, with the cell's degrees of freedom those of
    ``FrechetCellFilter`` (``n`` times the log of the deformation gradient ``F``; positions in
    the undeformed cell). Atoms of all structures are rows of one array."""

    dt0, maxstep, dtmax, n_min, finc, fdec, astart, fa = 0.1, 0.2, 1.0, 5, 1.1, 0.5, 0.1, 0.99

    def __init__(self, relax_cell: bool) -> None:
        self.relax_cell = relax_cell
        self.keys: list[str] = []
        self.species: list[list] = []
        self.sizes = np.zeros(0, dtype=int)
        self.cell0 = np.zeros((0, 3, 3))
        self.log_f = np.zeros((0, 3, 3))
        self.positions = np.zeros((0, 3))  # undeformed-cell positions when the cell relaxes
        self.v_atoms = np.zeros((0, 3))
        self.v_cell = np.zeros((0, 3, 3))
        self.dt = np.zeros(0)
        self.a = np.zeros(0)
        self.n_up = np.zeros(0, dtype=int)
        self.n_steps = np.zeros(0, dtype=int)
        self.energies = np.zeros(0)
        self.g_atoms = np.zeros((0, 3))
        self.g_cell = np.zeros((0, 3, 3))
        self._update()

    def __len__(self) -> int:
        return len(self.keys)

    def _update(self) -> None:
        self.owner = np.repeat(np.arange(len(self.sizes)), self.sizes)
        self.deformation = expm(self.log_f) if len(self.log_f) else self.log_f.copy()

    def add(self, key: str, structure: Structure) -> None:
        if not structure.is_ordered:
            raise ValueError("a disordered structure cannot be relaxed; order it first")
        if len(structure) == 0:
            raise ValueError("the structure has no sites")
        self.keys.append(key)
        self.species.append(list(structure.species))
        self.sizes = np.append(self.sizes, len(structure))
        self.cell0 = np.concatenate([self.cell0, structure.lattice.matrix[None]])
        self.log_f = np.concatenate([self.log_f, np.zeros((1, 3, 3))])
        self.positions = np.concatenate([self.positions, structure.cart_coords])
        self.v_atoms = np.concatenate([self.v_atoms, np.zeros((len(structure), 3))])
        self.v_cell = np.concatenate([self.v_cell, np.zeros((1, 3, 3))])
        self.dt = np.append(self.dt, self.dt0)
        self.a = np.append(self.a, self.astart)
        self.n_up = np.append(self.n_up, 0)
        self.n_steps = np.append(self.n_steps, 0)
        self.energies = np.append(self.energies, np.nan)
        self.g_atoms = np.concatenate([self.g_atoms, np.zeros((len(structure), 3))])
        self.g_cell = np.concatenate([self.g_cell, np.zeros((1, 3, 3))])
        self._update()

    def keep(self, kept: np.ndarray) -> None:
        """Only the structures where ``kept`` is True stay in the batch."""
        rows = kept[self.owner]
        self.keys = [key for key, k in zip(self.keys, kept, strict=True) if k]
        self.species = [s for s, k in zip(self.species, kept, strict=True) if k]
        for name in ("sizes", "cell0", "log_f", "v_cell", "dt", "a", "n_up", "n_steps"):
            setattr(self, name, getattr(self, name)[kept])
        for name in ("energies", "g_cell"):
            setattr(self, name, getattr(self, name)[kept])
        for name in ("positions", "v_atoms", "g_atoms"):
            setattr(self, name, getattr(self, name)[rows])
        self._update()

    def cells(self) -> np.ndarray:
        return np.einsum("bij,bkj->bik", self.cell0, self.deformation)

    def cart_coords(self) -> np.ndarray:
        if not self.relax_cell:
            return self.positions
        return np.einsum("kj,kij->ki", self.positions, self.deformation[self.owner])

    def structures(self) -> list[Structure]:
        """Every structure in flight at its current geometry."""
        coords = np.split(self.cart_coords(), np.cumsum(self.sizes)[:-1])
        return [
            Structure(Lattice(cell), species, xyz, coords_are_cartesian=True)
            for cell, species, xyz in zip(self.cells(), self.species, coords, strict=True)
        ]

    def receive(self, results: Sequence[Result]) -> list[float | Exception]:
        """Take the model's results for the current geometries; each structure's residual
        max force (over atoms and, when the cell relaxes, the three cell rows) or exception."""
        checked_results = [
            checked(result, n, steps, self.relax_cell)
            for result, n, steps in zip(results, self.sizes, self.n_steps, strict=True)
        ]
        ok = [r for r in checked_results if not isinstance(r, Exception)]
        fine = np.array([not isinstance(r, Exception) for r in checked_results], dtype=bool)
        forces = np.zeros_like(self.positions)
        stresses = np.zeros((len(self), 3, 3))
        if ok:
            forces[fine[self.owner]] = np.concatenate([r[1] for r in ok])
            self.energies[fine] = [r[0] for r in ok]
            if self.relax_cell:
                stresses[fine] = np.stack([r[2] for r in ok])
        self.g_atoms, self.g_cell = self.filter_forces(forces, stresses)
        norms = np.linalg.norm(self.g_atoms, axis=1)
        residual = np.zeros(len(self))
        np.maximum.at(residual, self.owner, norms)
        if self.relax_cell:
            residual = np.maximum(residual, np.linalg.norm(self.g_cell, axis=2).max(axis=1))
        return [
            r if isinstance(r, Exception) else float(m)
            for r, m in zip(checked_results, residual, strict=True)
        ]

    def filter_forces(
        self, forces: np.ndarray, stresses: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``FrechetCellFilter.get_forces`` of every structure: forces on the undeformed
        positions and on the cell's degrees of freedom."""
        if not self.relax_cell:
            return forces, np.zeros((len(self), 3, 3))
        f = self.deformation
        volumes = np.abs(np.linalg.det(self.cells()))
        virial = -volumes[:, None, None] * stresses
        cell_gradient = virial @ np.linalg.inv(np.swapaxes(f, 1, 2))
        g_cell = frechet_gradient(self.log_f, cell_gradient) / self.sizes[:, None, None]
        return np.einsum("kj,kji->ki", forces, f[self.owner]), g_cell

    def _sum(self, atoms: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """Per structure: the sum of a per-atom-row quantity and a per-cell-row one."""
        return np.bincount(self.owner, atoms.sum(axis=1), minlength=len(self)) + cell.sum(
            axis=(1, 2)
        )

    def step(self) -> None:
        """One FIRE step of every structure, as ``ase.optimize.FIRE.step`` takes it."""
        g_atoms, g_cell = self.g_atoms, self.g_cell
        v_atoms, v_cell = self.v_atoms, self.v_cell
        started = self.n_steps > 0
        vf = self._sum(g_atoms * v_atoms, g_cell * v_cell)
        g2 = self._sum(g_atoms**2, g_cell**2)
        v2 = self._sum(v_atoms**2, v_cell**2)
        up = started & (vf > 0)
        down = started & ~up
        mix = np.where(up, self.a * np.sqrt(v2) / np.sqrt(np.where(g2 > 0, g2, 1.0)), 0.0)
        keep = np.where(up, 1.0 - self.a, np.where(down, 0.0, 1.0))
        v_atoms = keep[self.owner, None] * v_atoms + mix[self.owner, None] * g_atoms
        v_cell = keep[:, None, None] * v_cell + mix[:, None, None] * g_cell
        faster = up & (self.n_up > self.n_min)
        self.dt = np.where(faster, np.minimum(self.dt * self.finc, self.dtmax), self.dt)
        self.a = np.where(faster, self.a * self.fa, self.a)
        self.n_up = np.where(up, self.n_up + 1, self.n_up)
        self.a = np.where(down, self.astart, self.a)
        self.dt = np.where(down, self.dt * self.fdec, self.dt)
        self.n_up = np.where(down, 0, self.n_up)
        self.v_atoms = v_atoms + self.dt[self.owner, None] * g_atoms
        self.v_cell = v_cell + self.dt[:, None, None] * g_cell
        dr_atoms = self.dt[self.owner, None] * self.v_atoms
        dr_cell = self.dt[:, None, None] * self.v_cell
        norm = np.sqrt(self._sum(dr_atoms**2, dr_cell**2))
        scale = np.where(norm > self.maxstep, self.maxstep / np.where(norm > 0, norm, 1.0), 1.0)
        self.positions = self.positions + scale[self.owner, None] * dr_atoms
        if self.relax_cell:
            self.log_f = self.log_f + scale[:, None, None] * dr_cell / self.sizes[:, None, None]
        self.n_steps = self.n_steps + 1
        self._update()

    def outcome(self, index: int, converged: bool, max_force: float) -> RelaxOutcome:
        start = int(np.sum(self.sizes[:index]))
        coords = self.cart_coords()[start : start + self.sizes[index]]
        if not np.all(np.isfinite(coords)) or not np.all(np.isfinite(self.log_f[index])):
            raise RuntimeError("relaxation diverged (non-finite energy or positions)")
        final = Structure(
            Lattice(self.cells()[index]), self.species[index], coords, coords_are_cartesian=True
        )
        steps = int(self.n_steps[index])
        return RelaxOutcome(final, float(self.energies[index]), steps, converged, max_force)


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
