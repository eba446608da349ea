"""Partial charges and CO2 uptake with RASPA2: charge equilibration, then GCMC.

The framework takes Lennard-Jones parameters from RASPA's GenericMOFs force field (UFF and
DREIDING values per element) and charges from RASPA's periodic, Ewald-summed charge
equilibration; CO2 is TraPPE's rigid three-site model (MOFA used Garcia-Sanchez CO2, which
RASPA2's wheel does not ship).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import Field
from pymatgen.core import Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from discoverflow.core.mof.supercell import Repeats, perpendicular_widths, repeats_for
from discoverflow.settings import PositiveInt, StageSettings

PSEUDO_ATOM = re.compile(
    r"Name (\S+)\s[^\n]*\n\s+Charge=\s*(-?[\d.]+)[^\n]*\n[^\n]*Framework-atom:\s*(yes|no)"
)


class AdsorptionFailed(RuntimeError):
    """RASPA could not simulate this framework."""


class AdsorptionSettings(StageSettings):
    """CO2 uptake by GCMC after charge equilibration (RASPA2)."""

    temperature: float = Field(300.0, gt=0, description="Temperature (K)")
    pressure: float = Field(1.0e4, gt=0, description="CO2 pressure (Pa); MOFA: 0.1 bar")
    cycles: PositiveInt = Field(10000, description="GCMC production cycles")
    init_cycles: int = Field(1000, ge=0, description="GCMC initialisation cycles")
    cutoff: float = Field(12.0, gt=0, description="Van der Waals cutoff (A)")
    forcefield: str = Field("GenericMOFs", description="RASPA framework force field")
    molecule: str = Field("CO2", description="RASPA adsorbate definition")
    helium_cycles: int = Field(
        0, ge=0, description="Widom cycles for the helium void fraction (excess loading); 0: off"
    )


@dataclass
class AdsorptionResult:
    """The CO2 GCMC of one framework.

    Parameters
    ----------
    uptake_mol_per_kg
        Absolute CO2 uptake (mol/kg of framework).
    uptake_error
        RASPA's block-average error of it (mol/kg).
    excess_mol_per_kg
        Excess uptake (mol/kg), with helium cycles.
    helium_void_fraction
        Helium void fraction, with helium cycles.
    charges
        Element -> its charge from charge equilibration (e).
    unit_cells
        Repeats of the cell the GCMC simulated.
    framework_atoms
        Atoms of the simulation box.
    cycles
        Production cycles run.
    mean_molecules
        Mean number of adsorbed molecules in the box."""

    uptake_mol_per_kg: float
    uptake_error: float
    """RASPA's block-average error of the absolute uptake (mol/kg)."""
    excess_mol_per_kg: float | None
    helium_void_fraction: float | None
    charges: dict[str, float] = field(default_factory=dict)
    unit_cells: Repeats = (1, 1, 1)
    framework_atoms: int = 0
    cycles: int = 0
    mean_molecules: float = 0.0
    """Mean number of adsorbed molecules in the simulation box (all its unit cells)."""

    @property
    def converged(self) -> bool:
        """A molecule was adsorbed and the error is no larger than the uptake."""
        return self.mean_molecules > 0 and self.uptake_error <= self.uptake_mol_per_kg

    def verdict(self) -> str | None:
        """Why the uptake is not to be trusted (None when it converged)."""
        if self.converged:
            return None
        return (
            f"not converged after {self.cycles} cycles: {self.uptake_mol_per_kg:.4g} +/- "
            f"{self.uptake_error:.2g} mol/kg, {self.mean_molecules:.3g} molecules adsorbed on "
            "average; run more cycles"
        )


def _raspa():
    try:
        import RASPA2
    except ImportError as error:
        raise ImportError("CO2 uptake needs RASPA2: pip install 'discoverflow[mof]'") from error
    return RASPA2


def run_raspa(script: str, cif: str) -> str:
    """RASPA's output for a script and a CIF, from a separate Python process.

    RASPA2's own runner forks this process, which can deadlock beside multithreaded
    libraries (JAX, which pormake imports, or torch); a separate interpreter also contains
    RASPA's memory leaks and crashes.
    """
    _raspa()
    with tempfile.TemporaryDirectory() as folder:
        script_path, cif_path = Path(folder) / "simulation.input", Path(folder) / "framework.cif"
        script_path.write_text(script)
        cif_path.write_text(cif)
        command = [
            sys.executable,
            "-m",
            "discoverflow.core.mof.raspa_worker",
            str(script_path),
            str(cif_path),
        ]
        result = subprocess.run(command, capture_output=True, text=True, cwd=folder)
    if result.returncode != 0 or not result.stdout:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise AdsorptionFailed(f"RASPA stopped (exit code {result.returncode}): {detail}")
    return result.stdout


def unit_cells(structure: Structure, cutoff: float) -> Repeats:
    """Repeats along a, b, c so that every perpendicular width exceeds twice the cutoff."""
    return repeats_for(structure, 2 * cutoff)


def simulation_cell(structure: Structure, cutoff: float) -> tuple[Structure, tuple[int, int, int]]:
    """The cell (given or conventional) that needs the fewest atoms once repeated."""
    options = [structure]
    with contextlib.suppress(Exception):
        options.append(
            SpacegroupAnalyzer(structure, symprec=0.1).get_conventional_standard_structure()
        )
    scored = [(len(s) * np.prod(unit_cells(s, cutoff)), i) for i, s in enumerate(options)]
    best = options[min(scored)[1]]
    return best, unit_cells(best, cutoff)


def framework_cif(structure: Structure, charges: dict[str, float] | None = None) -> str:
    """A P1 CIF as RASPA reads it, with ``_atom_site_charge`` when charges are given."""
    a, b, c = structure.lattice.abc
    alpha, beta, gamma = structure.lattice.angles
    lines = [
        "data_framework",
        f"_cell_length_a {a:.6f}",
        f"_cell_length_b {b:.6f}",
        f"_cell_length_c {c:.6f}",
        f"_cell_angle_alpha {alpha:.6f}",
        f"_cell_angle_beta {beta:.6f}",
        f"_cell_angle_gamma {gamma:.6f}",
        "_symmetry_space_group_name_H-M 'P 1'",
        "_symmetry_Int_Tables_number 1",
        "loop_",
        "_symmetry_equiv_pos_as_xyz",
        "'x, y, z'",
        "loop_",
        "_atom_site_label",
        "_atom_site_type_symbol",
        "_atom_site_fract_x",
        "_atom_site_fract_y",
        "_atom_site_fract_z",
        *(["_atom_site_charge"] if charges else []),
    ]
    for index, site in enumerate(structure):
        symbol = site.specie.symbol
        x, y, z = site.frac_coords % 1.0
        charge = f" {charges[symbol]:.6f}" if charges else ""
        lines.append(f"{symbol}{index + 1} {symbol} {x:.6f} {y:.6f} {z:.6f}{charge}")
    return "\n".join(lines) + "\n"


def _framework_block(
    settings: AdsorptionSettings, cells: tuple[int, int, int], cutoff: float | None = None
) -> str:
    a, b, c = cells
    return f"""Forcefield {settings.forcefield}
CutOff {cutoff or settings.cutoff}
ChargeMethod Ewald
EwaldPrecision 1e-6
Framework 0
FrameworkName streamed
RemoveAtomNumberCodeFromLabel yes
UnitCells {a} {b} {c}
"""


def charge_script(settings: AdsorptionSettings, cutoff: float) -> str:
    """Charge equilibration in one cell; Ewald sums converge whatever the real-space cutoff."""
    return f"""SimulationType MonteCarlo
NumberOfCycles 0
NumberOfInitializationCycles 0
{_framework_block(settings, (1, 1, 1), cutoff)}UseChargesFromCIFFile no
ChargeFromChargeEquilibration yes
ChargeEquilibrationPeriodic yes
ChargeEquilibrationEwald yes
SymmetrizeFrameworkCharges yes
"""


def gcmc_script(
    settings: AdsorptionSettings, cells: tuple[int, int, int], void_fraction: float | None = None
) -> str:
    """RASPA's input for the CO2 GCMC.

    Parameters
    ----------
    settings
        The adsorption settings (cycles, temperature, pressure, cutoff).
    cells
        Repeats of the cell in the simulation box.
    void_fraction
        The helium void fraction, for the excess uptake, if measured.

    Returns
    -------
    str
        The ``simulation.input`` text."""
    return f"""SimulationType MonteCarlo
NumberOfCycles {settings.cycles}
NumberOfInitializationCycles {settings.init_cycles}
PrintEvery {max(1, settings.cycles // 10)}
RestartFile no
{_framework_block(settings, cells)}UseChargesFromCIFFile yes
HeliumVoidFraction {void_fraction if void_fraction is not None else 1.0}
ExternalTemperature {settings.temperature}
ExternalPressure {settings.pressure}
Component 0 MoleculeName {settings.molecule}
            MoleculeDefinition TraPPE
            TranslationProbability 0.5
            RotationProbability 0.5
            ReinsertionProbability 0.5
            SwapProbability 1.0
            CreateNumberOfMolecules 0
"""


def helium_script(settings: AdsorptionSettings, cells: tuple[int, int, int]) -> str:
    """RASPA's input for the helium void fraction.

    Parameters
    ----------
    settings
        The adsorption settings (``helium_cycles``).
    cells
        Repeats of the cell in the simulation box.

    Returns
    -------
    str
        The ``simulation.input`` text."""
    return f"""SimulationType MonteCarlo
NumberOfCycles {settings.helium_cycles}
PrintEvery {max(1, settings.helium_cycles // 10)}
{_framework_block(settings, cells)}UseChargesFromCIFFile no
ExternalTemperature 298.0
Component 0 MoleculeName helium
            MoleculeDefinition TraPPE
            WidomProbability 1.0
            CreateNumberOfMolecules 0
"""


def framework_charges(output: str) -> dict[str, float]:
    """Charges RASPA's charge equilibration gave each framework element (symmetrised)."""
    charges = {}
    for block in output.split("Pseudo Atom[")[1:]:
        match = PSEUDO_ATOM.search(block)
        if match and match.group(3) == "yes":
            charges[match.group(1)] = float(match.group(2))
    return charges


def equilibrate_charges(structure: Structure, settings: AdsorptionSettings | None = None):
    """RASPA's periodic, Ewald-summed charge equilibration, symmetrised per element as RASPA
    uses it; run on the given cell alone (its cost grows quickly with the atoms)."""
    settings = settings or AdsorptionSettings()
    cutoff = min(settings.cutoff, 0.499 * min(perpendicular_widths(structure)))
    output = run_raspa(charge_script(settings, cutoff), framework_cif(structure))
    charges = framework_charges(output)
    missing = {site.specie.symbol for site in structure} - set(charges)
    if missing:
        raise AdsorptionFailed(f"no equilibrated charge for {', '.join(sorted(missing))}")
    return charges


def co2_uptake(
    structure: Structure, settings: AdsorptionSettings | None = None
) -> AdsorptionResult:
    """Charge equilibration, then GCMC of CO2; loading in mol/kg of framework.

    Parameters
    ----------
    structure
        The framework.
    settings
        The adsorption settings; None takes the defaults.

    Returns
    -------
    AdsorptionResult
        The uptake, its error, the charges and the simulation's size.
    """
    settings = settings or AdsorptionSettings()
    raspa = _raspa()
    charges = equilibrate_charges(structure, settings)
    cell, cells = simulation_cell(structure, settings.cutoff)
    void_fraction = None
    if settings.helium_cycles:
        widom = raspa.parse(run_raspa(helium_script(settings, cells), framework_cif(cell)))
        void_fraction = float(widom["Average Widom Rosenbluth factor"]["Widom"][0])
    output = run_raspa(gcmc_script(settings, cells, void_fraction), framework_cif(cell, charges))
    if not output:
        raise AdsorptionFailed("RASPA returned no output")
    try:
        loading = raspa.parse(output)["Number of molecules"][settings.molecule]
        absolute = loading["Average loading absolute [mol/kg framework]"]
        molecules = loading["Average loading absolute"]
        excess = loading["Average loading excess [mol/kg framework]"]
    except (KeyError, IndexError, ValueError) as error:
        raise AdsorptionFailed(f"RASPA output has no {settings.molecule} loading") from error
    return AdsorptionResult(
        uptake_mol_per_kg=float(absolute[0]),
        uptake_error=float(absolute[2]),
        excess_mol_per_kg=float(excess[0]) if void_fraction is not None else None,
        helium_void_fraction=void_fraction,
        charges=charges,
        unit_cells=cells,
        framework_atoms=len(cell) * int(np.prod(cells)),
        cycles=settings.cycles,
        mean_molecules=float(molecules[0]),
    )
