"""ASE's FIRE over ``FrechetCellFilter`` for a whole batch of structures as array operations:
the trajectory of each structure is the one ASE's ``FIRE(FrechetCellFilter(atoms))`` takes
(or ``FIRE(atoms)`` with the cell fixed), with no per-structure optimiser, filter or ``Atoms``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase.stress import voigt_6_to_full_3x3_stress
from pymatgen.core import Lattice, Structure
from scipy.linalg import expm

from discoverflow.core.relax import RelaxOutcome

Result = tuple[float, np.ndarray, np.ndarray | None] | Exception
"""One structure's (energy in eV, forces in eV/A, stress in eV/A^3 or None), or its failure."""


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


STATE = {  # name: (per atom, shape of a row, dtype)
    "sizes": (False, (), int),
    "cell0": (False, (3, 3), float),
    "log_f": (False, (3, 3), float),  # log of the deformation gradient
    "v_cell": (False, (3, 3), float),
    "g_cell": (False, (3, 3), float),
    "dt": (False, (), float),
    "a": (False, (), float),
    "n_up": (False, (), int),  # FIRE's steps since the last uphill one
    "n_steps": (False, (), int),
    "energies": (False, (), float),
    "positions": (True, (3,), float),  # in the undeformed cell when the cell relaxes
    "v_atoms": (True, (3,), float),
    "g_atoms": (True, (3,), float),
}


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
        for name, (_, shape, dtype) in STATE.items():
            setattr(self, name, np.zeros((0, *shape), dtype=dtype))
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
        start = {
            "sizes": len(structure),
            "cell0": structure.lattice.matrix,
            "dt": self.dt0,
            "a": self.astart,
            "energies": np.nan,
            "positions": structure.cart_coords,
        }
        for name, (per_atom, shape, dtype) in STATE.items():
            rows = (len(structure) if per_atom else 1, *shape)
            value = np.broadcast_to(np.asarray(start.get(name, 0), dtype=dtype), rows)
            setattr(self, name, np.concatenate([getattr(self, name), value]))
        self.keys.append(key)
        self.species.append(list(structure.species))
        self._update()

    def keep(self, kept: np.ndarray) -> None:
        """Only the structures where ``kept`` is True stay in the batch."""
        rows = kept[self.owner]
        self.keys = [key for key, k in zip(self.keys, kept, strict=True) if k]
        self.species = [s for s, k in zip(self.species, kept, strict=True) if k]
        for name, (per_atom, _, _) in STATE.items():
            setattr(self, name, getattr(self, name)[rows if per_atom else kept])
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
