"""Cell optimisation with CP2K (Quickstep GPW) after MOFA: PBE-D3, DZVP-MOLOPT-SR-GTH, GTH-PBE.

ASE's CP2K calculator keeps one ``cp2k -s`` shell alive for the whole optimisation (the
wavefunction is extrapolated from step to step) and ASE's FrechetCellFilter + L-BFGS move atoms
and cell, as MOFA drives CP2K from ASE's L-BFGS (MOFA relaxes positions only; here the cell too).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from ase import Atoms
from ase.calculators.cp2k import CP2K
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS, FIRE, LBFGS
from ase.units import Rydberg
from pydantic import Field
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from discoverflow.errors import DiscoverflowError
from discoverflow.settings import PositiveInt, StageSettings

DATA_DIR_CANDIDATES = ("/usr/share/cp2k", "/usr/share/cp2k/data", "/usr/local/share/cp2k/data")
D3_PARAMETERS = "dftd3.dat"
OPTIMIZERS = {"LBFGS": LBFGS, "BFGS": BFGS, "FIRE": FIRE}
SCF_ITERATION = re.compile(r"^\s+\d+\s+\S.*?\s+\d\.\d+E[+-]\d+\s+(\d+\.\d+)\s+\d+\.\d+\s+-?\d")
SCF_DONE = re.compile(r"\*\*\* SCF run (converged in\s+\d+ steps|NOT converged) \*\*\*")
RUNTIME_SETTINGS = frozenset({"command", "omp_threads", "mpi_ranks", "mpi_launcher", "data_dir"})
"""How CP2K is started, not what it computes: left out of the results' fingerprint."""


class CP2KUnavailable(DiscoverflowError):
    """CP2K or its data files cannot be found."""


class CP2KSettings(StageSettings):
    """CP2K cell optimisation; the defaults are MOFA's (cp2k-pbe-template.inp, 8 L-BFGS steps)."""

    functional: str = Field("PBE", description="Exchange-correlation functional (CP2K name)")
    dispersion: Literal["DFTD3", "DFTD3(BJ)"] | None = Field(
        "DFTD3", description="Grimme D3 pair potential (MOFA: DFTD3, zero damping); None: off"
    )
    basis_set: str = Field("DZVP-MOLOPT-SR-GTH", description="Basis set of every element")
    fallback_basis_set: str = Field(
        "DZVP-MOLOPT-GTH", description="Basis set of elements that lack ``basis_set``"
    )
    basis_set_file: str = Field("BASIS_MOLOPT", description="Basis file in the data dir")
    pseudo_potential: str = Field("GTH-PBE", description="Pseudopotential family")
    potential_file: str = Field("GTH_POTENTIALS", description="Potential file in the data dir")
    cutoff: float = Field(600.0, gt=0, description="Plane-wave cutoff of the finest grid (Ry)")
    rel_cutoff: float = Field(50.0, gt=0, description="Relative cutoff of the grid mapping (Ry)")
    max_scf: PositiveInt = Field(128, description="SCF iterations per energy evaluation")
    eps_scf: float = Field(1e-5, gt=0, description="SCF convergence (Ha; CP2K's default)")
    fmax: float = Field(0.01, gt=0, description="Force (and cell force) criterion (eV/A)")
    steps: PositiveInt = Field(8, description="Maximum optimiser steps (MOFA: a limited 8)")
    optimizer: Literal["LBFGS", "BFGS", "FIRE"] = Field("LBFGS", description="ASE optimiser")
    relax_cell: bool = Field(True, description="Relax the cell (FrechetCellFilter) as well")
    command: str = Field("cp2k.psmp -s", description="CP2K in shell mode")
    omp_threads: PositiveInt = Field(1, description="OMP_NUM_THREADS of each MPI rank")
    mpi_ranks: PositiveInt = Field(1, description="MPI ranks; above 1 the launcher runs CP2K")
    mpi_launcher: str = Field("mpiexec -n {ranks}", description="MPI launcher for mpi_ranks > 1")
    data_dir: str | None = Field(
        None, description="CP2K data dir (default: $CP2K_DATA_DIR, then /usr/share/cp2k)"
    )

    @property
    def engine_name(self) -> str:
        return f"cp2k-{self.functional}" + (f"-{self.dispersion}" if self.dispersion else "")

    def fingerprint_settings(self) -> dict:
        """What makes two optimisations interchangeable: all but how CP2K is started."""
        return {"engine": "cp2k", **self.model_dump(exclude=RUNTIME_SETTINGS)}


@dataclass
class CP2KOutcome:
    """A finished CP2K optimisation."""

    structure: Structure
    energy: float  # eV, D3 included
    initial_energy: float  # eV, of the input structure
    n_steps: int
    converged: bool
    max_force: float  # eV/A, largest residual force, cell forces included when the cell relaxes
    scf_steps: int  # SCF iterations over all energy evaluations
    scf_converged: bool  # every SCF converged
    seconds_per_scf_step: float  # CP2K's own wall time per SCF iteration
    wall_seconds: float

    @property
    def energy_per_atom(self) -> float:
        return self.energy / len(self.structure)


def data_dir(settings: CP2KSettings) -> Path | None:
    """The first data dir holding the basis file: the setting, $CP2K_DATA_DIR, the usual places."""
    candidates = [os.environ.get("CP2K_DATA_DIR"), *DATA_DIR_CANDIDATES]
    words = shlex.split(settings.command)
    if words and (executable := shutil.which(words[0])):
        prefix = Path(executable).resolve().parent.parent
        candidates += [str(prefix / "share" / "cp2k" / "data"), str(prefix / "share" / "cp2k")]
    if settings.data_dir:
        candidates = [settings.data_dir]
    for candidate in filter(None, candidates):
        if (Path(candidate) / settings.basis_set_file).is_file():
            return Path(candidate)
    return None


def cp2k_problems(settings: CP2KSettings) -> list[str]:
    """What stops CP2K from running with these settings (empty when it can run)."""
    problems = []
    words = shlex.split(settings.command)
    if not words or shutil.which(words[0]) is None:
        problems.append(
            f"CP2K executable {words[0] if words else settings.command!r} not found on PATH "
            "(install it, e.g. `apt-get install cp2k`, or set the cp2k `command`)"
        )
    if settings.mpi_ranks > 1:
        launcher = shlex.split(settings.mpi_launcher)
        if not launcher or shutil.which(launcher[0]) is None:
            problems.append(f"MPI launcher {settings.mpi_launcher!r} not found on PATH")
    folder = data_dir(settings)
    if folder is None:
        where = settings.data_dir or "$CP2K_DATA_DIR, " + ", ".join(DATA_DIR_CANDIDATES)
        problems.append(
            f"CP2K data dir with {settings.basis_set_file} not found (looked in {where}); "
            "set the cp2k `data_dir` or CP2K_DATA_DIR"
        )
    else:
        needed = [settings.potential_file] + ([D3_PARAMETERS] if settings.dispersion else [])
        problems += [f"{folder / f} is missing" for f in needed if not (folder / f).is_file()]
    return problems


def _headers(path: Path) -> dict[str, list[list[str]]]:
    """Element -> name lists of each entry of a CP2K basis or potential file."""
    entries: dict[str, list[list[str]]] = {}
    for line in path.read_text().splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0].isalpha() and not re.match(r"[-+\d.]", words[1]):
            entries.setdefault(words[0], []).append(words[1:])
    return entries


def kinds(elements: list[str], settings: CP2KSettings, folder: Path) -> dict[str, tuple[str, str]]:
    """Element -> (basis set, pseudopotential) with matching valence charges."""
    basis = _headers(folder / settings.basis_set_file)
    potentials = _headers(folder / settings.potential_file)
    chosen = {}
    for element in elements:
        found = next(
            (
                (wanted, entry)
                for wanted in (settings.basis_set, settings.fallback_basis_set)
                for entry in basis.get(element, [])
                if any(n == wanted or re.fullmatch(rf"{re.escape(wanted)}-q\d+", n) for n in entry)
            ),
            None,
        )
        if found is None:
            raise CP2KUnavailable(
                f"{settings.basis_set_file} has neither {settings.basis_set} nor "
                f"{settings.fallback_basis_set} for {element}"
            )
        wanted, entry = found
        name = wanted if wanted in entry else next(n for n in entry if n.startswith(wanted))
        valence = next((n.rsplit("-q", 1)[1] for n in entry if re.search(r"-q\d+$", n)), None)
        own = [n for entry in potentials.get(element, []) for n in entry]
        by_valence = f"{settings.pseudo_potential}-q{valence}"
        if valence and by_valence in own:
            chosen[element] = (name, by_valence)
        elif settings.pseudo_potential in own:
            chosen[element] = (name, settings.pseudo_potential)
        else:
            raise CP2KUnavailable(
                f"{settings.potential_file} has no {settings.pseudo_potential} for {element}"
            )
    return chosen


def input_template(elements: list[str], settings: CP2KSettings, folder: Path) -> str:
    """CP2K input beyond what ASE writes: MOFA's SCF, grid and D3 sections, and the kinds."""
    d3 = ""
    if settings.dispersion:
        d3 = f"""
   &VDW_POTENTIAL
    DISPERSION_FUNCTIONAL PAIR_POTENTIAL
    &PAIR_POTENTIAL
     TYPE {settings.dispersion}
     PARAMETER_FILE_NAME {folder / D3_PARAMETERS}
     REFERENCE_FUNCTIONAL {settings.functional}
    &END PAIR_POTENTIAL
   &END VDW_POTENTIAL"""
    kind_sections = "".join(
        f"\n  &KIND {el}\n   BASIS_SET {basis}\n   POTENTIAL {potential}\n  &END KIND"
        for el, (basis, potential) in kinds(elements, settings, folder).items()
    )
    return f"""&FORCE_EVAL
 &DFT
  &QS
   EPS_DEFAULT 1.0E-7
   EXTRAPOLATION PS
   EXTRAPOLATION_ORDER 3
  &END QS
  &SCF
   EPS_SCF {settings.eps_scf}
   &OUTER_SCF
    MAX_SCF 5
   &END OUTER_SCF
   &MIXING
    METHOD BROYDEN_MIXING
    ALPHA 0.4
    NMIXING 16
   &END MIXING
  &END SCF
  &XC{d3}
  &END XC
  &MGRID
   NGRIDS 5
   REL_CUTOFF [Ry] {settings.rel_cutoff}
  &END MGRID
 &END DFT
 &SUBSYS{kind_sections}
 &END SUBSYS
&END FORCE_EVAL
"""


def shell_command(settings: CP2KSettings, folder: Path) -> str:
    """The shell line that starts CP2K with its threads, ranks and data dir."""
    launcher = settings.mpi_launcher.format(ranks=settings.mpi_ranks) + " "
    return (
        f"env OMP_NUM_THREADS={settings.omp_threads} CP2K_DATA_DIR={shlex.quote(str(folder))} "
        f"{launcher if settings.mpi_ranks > 1 else ''}{settings.command}"
    )


def calculator(atoms: Atoms, settings: CP2KSettings, directory: Path) -> CP2K:
    """ASE's CP2K calculator for these atoms, run in ``directory``."""
    problems = cp2k_problems(settings)
    if problems:
        raise CP2KUnavailable("; ".join(problems))
    folder = data_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cp2k.out").unlink(missing_ok=True)
    return CP2K(
        command=shell_command(settings, folder),
        directory=str(directory),
        label="cp2k",
        inp=input_template(sorted(set(atoms.get_chemical_symbols())), settings, folder),
        xc=settings.functional,
        cutoff=settings.cutoff * Rydberg,
        max_scf=settings.max_scf,
        basis_set=None,
        basis_set_file=settings.basis_set_file,
        pseudo_potential=None,
        potential_file=settings.potential_file,
        stress_tensor=True,
    )


def scf_statistics(output: Path) -> tuple[int, bool, float]:
    """SCF iterations, whether every SCF converged, and CP2K's mean seconds per iteration."""
    times, converged = [], True
    for line in output.read_text().splitlines():
        if match := SCF_ITERATION.match(line):
            times.append(float(match.group(1)))
        elif match := SCF_DONE.search(line):
            converged &= match.group(1).startswith("converged")
    return len(times), converged, float(np.mean(times)) if times else float("nan")


def _to_atoms(structure: Structure | Atoms) -> Atoms:
    if isinstance(structure, Structure):
        return AseAtomsAdaptor.get_atoms(structure)
    return structure.copy()


def single_point(
    structure: Structure | Atoms, settings: CP2KSettings, directory: Path | None = None
) -> float:
    """Energy (eV) of one structure.

    Parameters
    ----------
    structure
        A pymatgen structure or ASE atoms.
    settings
        The CP2K settings.
    directory
        Where CP2K runs; None: a temporary folder.

    Returns
    -------
    float
        The energy (eV).
    """
    atoms = _to_atoms(structure)
    with (
        tempfile.TemporaryDirectory(prefix="cp2k-") as scratch,
        calculator(atoms, settings, Path(directory or scratch)) as calc,
    ):
        atoms.calc = calc
        return float(atoms.get_potential_energy())


def optimise_cell(
    structure: Structure | Atoms, settings: CP2KSettings, directory: Path | None = None
) -> CP2KOutcome:
    """Optimise atoms (and the cell) with CP2K forces and stresses; ``directory`` keeps the
    CP2K files (default: a temporary folder).

    Parameters
    ----------
    structure
        A pymatgen structure or ASE atoms.
    settings
        The CP2K settings (level of theory, optimiser steps, cores).
    directory
        Where CP2K runs; None: a temporary folder.

    Returns
    -------
    CP2KOutcome
        The optimised structure, energy, steps, convergence and SCF statistics.
    """
    atoms = _to_atoms(structure)
    with tempfile.TemporaryDirectory(prefix="cp2k-") as scratch:
        folder = Path(directory or scratch)
        start = time.perf_counter()
        with calculator(atoms, settings, folder) as calc:
            atoms.calc = calc
            initial_energy = float(atoms.get_potential_energy())
            target = FrechetCellFilter(atoms) if settings.relax_cell else atoms
            optimizer = OPTIMIZERS[settings.optimizer](target, logfile=str(folder / "opt.log"))
            converged = bool(optimizer.run(fmax=settings.fmax, steps=settings.steps))
            max_force = float(np.linalg.norm(target.get_forces(), axis=1).max())
            energy = float(atoms.get_potential_energy())
        wall = time.perf_counter() - start
        scf_steps, scf_converged, per_step = scf_statistics(folder / "cp2k.out")
    atoms.calc = None
    return CP2KOutcome(
        structure=AseAtomsAdaptor.get_structure(atoms),
        energy=energy,
        initial_energy=initial_energy,
        n_steps=optimizer.nsteps,
        converged=converged,
        max_force=max_force,
        scf_steps=scf_steps,
        scf_converged=scf_converged,
        seconds_per_scf_step=per_step,
        wall_seconds=wall,
    )
