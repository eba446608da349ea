"""One structure relaxed under an ASE calculator (positions, and the cell under
FrechetCellFilter), reported as a RelaxOutcome."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping

import numpy as np
from pymatgen.core import Structure

from discoverflow.core.batched_relax import OPTIMIZERS, one_blas_thread, relax_batch
from discoverflow.core.relax import RelaxOutcome
from discoverflow.errors import DiscoverflowError
from discoverflow.settings import get_settings


def check_optimizer(optimizer: str) -> None:
    """Refuse an optimizer name ASE relaxations do not know.

    Parameters
    ----------
    optimizer
        The name (FIRE, BFGS, LBFGS).

    Raises
    ------
    DiscoverflowError
        For an unknown name."""
    if optimizer not in OPTIMIZERS:
        raise DiscoverflowError(f"unknown optimizer {optimizer!r}; choose from {OPTIMIZERS}")


def relax_with_calculator(
    structure: Structure,
    calculator,
    fmax: float = 0.05,
    steps: int = 500,
    relax_cell: bool = True,
    optimizer: str = "FIRE",
) -> RelaxOutcome:
    """Relax until the largest force (and cell force) is below ``fmax`` or ``steps`` run out;
    raises RuntimeError when the energy or positions stop being finite."""
    import ase.optimize
    from ase.filters import FrechetCellFilter
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = AseAtomsAdaptor.get_atoms(structure)
    atoms.calc = calculator
    target = FrechetCellFilter(atoms) if relax_cell else atoms
    dynamics = getattr(ase.optimize, optimizer)(target, logfile=None)
    with warnings.catch_warnings(), one_blas_thread():
        warnings.simplefilter("ignore")
        converged = bool(dynamics.run(fmax=fmax, steps=steps))
    energy = float(atoms.get_potential_energy())
    final = AseAtomsAdaptor.get_structure(atoms)
    if not np.isfinite(energy) or not np.all(np.isfinite(final.cart_coords)):
        raise RuntimeError("relaxation diverged (non-finite energy or positions)")
    residual = float(np.linalg.norm(target.get_forces(), axis=1).max()) if len(atoms) else 0.0
    return RelaxOutcome(final, energy, int(dynamics.nsteps), converged, residual)


class BatchRelaxing:
    """The relax settings every ML relax engine takes, and ``relax_batch`` for an engine with
    ``evaluate`` (a batched energy, force and stress call). ``max_batch`` does not change the
    results, so it is kept out of the settings that fingerprint a relaxation."""

    def set_relax_options(
        self,
        device: str | None,
        fmax: float,
        steps: int,
        relax_cell: bool,
        optimizer: str,
        max_batch: int,
    ) -> None:
        """Check and keep the relax options.

        Parameters
        ----------
        device
            Torch device; None takes ``DISCOVERFLOW_DEVICE``.
        fmax
            Force convergence criterion (eV/A).
        steps
            Maximum optimiser steps.
        relax_cell
            Relax the cell as well as the positions.
        optimizer
            FIRE, BFGS or LBFGS.
        max_batch
            Structures in flight in ``relax_batch``.
        """
        check_optimizer(optimizer)
        self.device = device or get_settings().DEVICE
        self.fmax = fmax
        self.steps = steps
        self.relax_cell = relax_cell
        self.optimizer = optimizer
        self._max_batch = max_batch

    def relax_batch(
        self, structures: Mapping[str, Structure]
    ) -> Iterator[tuple[str, RelaxOutcome | Exception]]:
        """Relax many structures together; yields each outcome, or exception, as it ends."""
        return relax_batch(
            structures,
            self.evaluate,
            fmax=self.fmax,
            steps=self.steps,
            relax_cell=self.relax_cell,
            optimizer=self.optimizer,
            max_batch=self._max_batch,
        )
