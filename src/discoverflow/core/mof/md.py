"""NPT molecular dynamics with an ML potential, and the lattice strain it leaves."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from ase import units
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from discoverflow.core.mof.strain import lattice_strain

ATMOSPHERE_PA = 101325.0


@dataclass
class MDSettings:
    temperature: float = 300.0
    pressure_pa: float = ATMOSPHERE_PA
    steps: int = 2000
    timestep_fs: float = 0.5
    supercell: int = 1
    thermostat_fs: float = 50.0
    barostat_fs: float = 500.0
    seed: int = 0


@dataclass
class MDOutcome:
    initial: Structure
    final: Structure
    strain: float
    steps: int
    mean_temperature: float
    volume_change: float


def npt_md(structure: Structure, calculator, settings: MDSettings | None = None) -> MDOutcome:
    """Martyna-Tobias-Klein NPT (full cell fluctuations) from Maxwell-Boltzmann velocities.

    The strain compares the starting cell with the final one (both of the simulated
    supercell), as MOFA does; non-finite energies raise RuntimeError.
    """
    from ase.md.nose_hoover_chain import MTKNPT
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary

    settings = settings or MDSettings()
    start = structure * settings.supercell if settings.supercell > 1 else structure.copy()
    atoms = AseAtomsAdaptor.get_atoms(start)
    atoms.calc = calculator
    MaxwellBoltzmannDistribution(
        atoms, temperature_K=settings.temperature, rng=np.random.default_rng(settings.seed)
    )
    Stationary(atoms)
    dynamics = MTKNPT(
        atoms,
        timestep=settings.timestep_fs * units.fs,
        temperature_K=settings.temperature,
        pressure_au=settings.pressure_pa * units.Pascal,
        tdamp=settings.thermostat_fs * units.fs,
        pdamp=settings.barostat_fs * units.fs,
    )
    temperatures: list[float] = []
    dynamics.attach(lambda: temperatures.append(atoms.get_temperature()), interval=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dynamics.run(settings.steps)
    if not np.isfinite(atoms.get_potential_energy()) or not np.all(np.isfinite(atoms.cell)):
        raise RuntimeError("MD diverged (non-finite energy or cell)")
    final = AseAtomsAdaptor.get_structure(atoms)
    return MDOutcome(
        initial=start,
        final=final,
        strain=lattice_strain(start.lattice.matrix, final.lattice.matrix),
        steps=settings.steps,
        mean_temperature=float(np.mean(temperatures)) if temperatures else settings.temperature,
        volume_change=final.volume / start.volume - 1.0,
    )
