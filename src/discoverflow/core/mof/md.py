"""NPT molecular dynamics with an ML potential, and the lattice strain it leaves."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from ase import units
from pydantic import Field
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from discoverflow.core.mof.strain import lattice_strain
from discoverflow.core.mof.supercell import Repeats, original_cell, repeated
from discoverflow.settings import PositiveInt, StageSettings

ATMOSPHERE_PA = 101325.0


class StabilitySettings(StageSettings):
    """MOFA's stability screen: NPT MD, stable below a lattice strain; with CHGNet (default)
    or with UFF4MOF in LAMMPS (MOFA's engine)."""

    engine: Literal["chgnet", "lammps"] = Field(
        "chgnet", description="chgnet (ML potential) or lammps (UFF4MOF force field)"
    )
    model: str = Field("0.3.0", description="CHGNet version of the ML potential")
    steps: PositiveInt = Field(2000, description="MD steps")
    timestep_fs: float = Field(0.5, gt=0, le=2.0, description="MD time step (fs)")
    temperature: float = Field(300.0, gt=0, description="Temperature (K)")
    pressure_pa: float = Field(ATMOSPHERE_PA, ge=0, description="Pressure (Pa)")
    supercell: PositiveInt = Field(
        1,
        description="Repeat the cell at least this many times per axis (LAMMPS repeats it "
        "further until every perpendicular width exceeds twice lammps_cutoff)",
    )
    thermostat_fs: float = Field(50.0, gt=0, description="Thermostat time constant (fs)")
    barostat_fs: float = Field(500.0, gt=0, description="Barostat time constant (fs)")
    seed: int = Field(0, description="Seed of the initial Maxwell-Boltzmann velocities")
    stable_strain: float = Field(0.1, gt=0, description="Stable below this strain (MOFA: 0.1)")
    lammps_cutoff: float = Field(12.5, gt=0, description="LAMMPS: Lennard-Jones cutoff (A)")
    lammps_minimise: PositiveInt = Field(
        1000, description="LAMMPS: minimiser iterations at fixed cell before the MD"
    )

    @property
    def engine_name(self) -> str:
        return "lammps-uff4mof" if self.engine == "lammps" else f"chgnet-{self.model}"


@dataclass
class MDOutcome:
    """An NPT MD run of a framework.

    Parameters
    ----------
    initial
        The simulated supercell before the MD.
    final
        It after the MD.
    strain
        Lattice strain of the original cell.
    steps
        MD steps run.
    mean_temperature
        Mean temperature (K).
    volume_change
        Final over initial volume, minus one.
    supercell
        Repeats of the cell simulated."""

    initial: Structure
    """The simulated supercell before the MD."""
    final: Structure
    strain: float
    """Of the original cell: the supercell's cells divided back by ``supercell``."""
    steps: int
    mean_temperature: float
    volume_change: float
    supercell: Repeats = (1, 1, 1)


def md_outcome(
    initial: Structure,
    final: Structure,
    supercell: Repeats,
    settings: StabilitySettings,
    temperatures: list[float],
) -> MDOutcome:
    """The strain of the original cell and the volume change a supercell's MD left."""
    if not np.all(np.isfinite(final.lattice.matrix)):
        raise RuntimeError("MD diverged (non-finite energy or cell)")
    before, after = (original_cell(s.lattice.matrix, supercell) for s in (initial, final))
    return MDOutcome(
        initial=initial,
        final=final,
        strain=lattice_strain(before, after),
        steps=settings.steps,
        mean_temperature=float(np.mean(temperatures)) if temperatures else settings.temperature,
        volume_change=final.volume / initial.volume - 1.0,
        supercell=supercell,
    )


def npt_md(
    structure: Structure, calculator, settings: StabilitySettings | None = None
) -> MDOutcome:
    """Martyna-Tobias-Klein NPT (full cell fluctuations) from Maxwell-Boltzmann velocities.

    The strain compares the starting cell with the final one (both of the simulated
    supercell, divided back into the original cell), as MOFA does; non-finite energies raise
    RuntimeError. CHGNet's graph takes periodic images itself: the supercell is
    ``settings.supercell`` per axis.

    Parameters
    ----------
    structure
        The framework.
    calculator
        An ASE calculator with stresses (CHGNet's).
    settings
        The stability settings; None takes the defaults.

    Returns
    -------
    MDOutcome
        The strain, volume change, temperature and supercell of the run.
    """
    from ase.md.nose_hoover_chain import MTKNPT
    from ase.md.velocitydistribution import Stationary, thermalize_momenta

    settings = settings or StabilitySettings()
    repeats = (settings.supercell,) * 3
    start = repeated(structure, repeats)
    atoms = AseAtomsAdaptor.get_atoms(start)
    atoms.calc = calculator
    thermalize_momenta(
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
    return md_outcome(start, final, repeats, settings, temperatures)
