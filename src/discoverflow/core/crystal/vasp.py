"""VASP settings after exa-AMD, environment checks and a max-force custodian handler."""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from custodian.custodian import ErrorHandler
from custodian.utils import backup
from pydantic import Field
from pymatgen.core import SETTINGS, Element, Structure

from discoverflow.settings import PositiveInt, StageSettings

if TYPE_CHECKING:  # a second to import: only where VASP runs
    from pymatgen.io.vasp import Vasprun

EXA_AMD_RELAX_INCAR = {
    "ENCUT": 520,
    "EDIFF": 1e-4,
    "EDIFFG": -0.01,
    "IBRION": 1,
    "ISIF": 3,
    "ISMEAR": 0,
    "SIGMA": 0.05,
    "LREAL": "Auto",
    "NSW": 100,
}
EXA_AMD_STATIC_INCAR = {"ENCUT": 520, "EDIFF": 1e-4, "ISMEAR": 0, "SIGMA": 0.05, "LORBIT": 11}


class VaspSettings(StageSettings):
    """VASP relaxations (and the final static run) over exa-AMD's INCAR defaults."""

    incar: dict[str, Any] = Field(
        default_factory=dict,
        description="INCAR keys over exa-AMD's defaults (ENCUT, EDIFFG, NSW, ...)",
    )
    static_incar: dict[str, Any] = Field(
        default_factory=dict, description="INCAR keys of the static run only"
    )
    kpoint_density: PositiveInt = Field(64, description="k-points per reciprocal atom volume")
    static: bool = Field(True, description="Recompute the energy statically after relaxing")
    double_relax: bool = Field(
        False, description="Relax twice (atomate2's DoubleRelaxMaker), the second from the first"
    )
    vasp_cmd: str | None = Field(None, description="Default: atomate2's VASP_CMD")
    max_errors: PositiveInt = Field(5, description="Custodian corrections before giving up")
    wall_time: PositiveInt | None = Field(None, description="Seconds; adds a walltime handler")
    max_force_threshold: float = Field(
        0.25, gt=0, description="Largest force accepted after relaxing (eV/A)"
    )


def needs_spin_polarisation(structure: Structure) -> bool:
    """Spin-polarise when a transition metal, lanthanide or actinide is present."""
    return any(
        Element(el.symbol).is_transition_metal
        or Element(el.symbol).is_lanthanoid
        or Element(el.symbol).is_actinoid
        for el in structure.composition.elements
    )


def vasp_environment_problems(vasp_cmd: str) -> list[str]:
    """What stops VASP from running here: the command and pymatgen's POTCAR settings.

    Parameters
    ----------
    vasp_cmd
        The command that runs VASP.

    Returns
    -------
    list of str
        One line per problem; empty when VASP can run.
    """
    problems = []
    executable = shlex.split(os.path.expandvars(vasp_cmd))
    if not executable or (
        shutil.which(executable[-1]) is None and shutil.which(executable[0]) is None
    ):
        problems.append(f"VASP command {vasp_cmd!r} not found (set ATOMATE2_VASP_CMD)")
    psp_dir = SETTINGS.get("PMG_VASP_PSP_DIR")
    if not psp_dir:
        problems.append("POTCARs not configured (set PMG_VASP_PSP_DIR in ~/.config/.pmgrc.yaml)")
    elif not Path(psp_dir).expanduser().is_dir():
        problems.append(f"PMG_VASP_PSP_DIR {psp_dir} is not a folder")
    return problems


def final_max_force(vasprun: Vasprun) -> float:
    """Largest force on a movable atom in the last ionic step (eV/A)."""
    forces = np.array(vasprun.ionic_steps[-1]["forces"])
    fixed = vasprun.final_structure.site_properties.get("selective_dynamics")
    if fixed is not None:
        forces = forces * np.array(fixed, dtype=float)
    return float(np.linalg.norm(forces, axis=1).max()) if len(forces) else 0.0


class MaxForceErrorHandler(ErrorHandler):
    """A relaxation that VASP calls converged but whose forces are still large.

    VASP stops on an energy criterion (EDIFFG > 0) or reaches EDIFFG with forces above
    what the user wants; the correction restarts from CONTCAR with a force criterion of
    ``max_force_threshold`` and a tighter EDIFF. (custodian dropped its own handler of this
    name; this one follows it.)
    """

    is_monitor = False

    def __init__(
        self, output_filename: str = "vasprun.xml", max_force_threshold: float = 0.25
    ) -> None:
        self.output_filename = output_filename
        self.max_force_threshold = max_force_threshold

    def check(self, directory: str = "./") -> bool:
        path = Path(directory) / self.output_filename
        if not path.exists() and Path(f"{path}.gz").exists():
            path = Path(f"{path}.gz")
        from pymatgen.io.vasp import Vasprun

        try:
            vasprun = Vasprun(
                str(path), parse_dos=False, parse_eigen=False, parse_potcar_file=False
            )
        except Exception:
            return False
        return bool(vasprun.converged and final_max_force(vasprun) > self.max_force_threshold)

    def correct(self, directory: str = "./") -> dict:
        from pymatgen.io.vasp import Incar

        backup(["INCAR", "KPOINTS", "POSCAR", "OUTCAR", "vasprun.xml"], directory=directory)
        incar_path = Path(directory) / "INCAR"
        incar = Incar.from_file(incar_path)
        ediff = float(incar.get("EDIFF", 1e-4))
        updates = {"EDIFFG": -abs(self.max_force_threshold), "EDIFF": ediff * 0.5}
        incar.update(updates)
        incar.write_file(incar_path)
        shutil.copy(Path(directory) / "CONTCAR", Path(directory) / "POSCAR")
        actions = [
            {"file": "CONTCAR", "action": {"_file_copy": {"dest": "POSCAR"}}},
            {"dict": "INCAR", "action": {"_set": updates}},
        ]
        return {"errors": ["MaxForce"], "actions": actions}


def relax_problem(
    n_steps: int,
    max_force: float,
    completed: bool,
    nsw: int,
    ediffg: float | None,
    settings: VaspSettings,
) -> str | None:
    """Why a finished relaxation is not converged (None when it is): ionic steps up to NSW,
    VASP's own verdict (``completed``: SCF and ionic convergence), then the largest force
    against EDIFFG (the INCAR's, else the settings'; ``max_force_threshold`` for an energy
    criterion) with a 50 % margin."""
    if n_steps >= nsw > 0:
        return f"NSW={nsw} ionic steps reached"
    if not completed:
        return "electronic SCF did not converge"
    if ediffg is None:
        ediffg = float(settings.incar.get("EDIFFG", EXA_AMD_RELAX_INCAR["EDIFFG"]))
    limit = abs(ediffg) if ediffg < 0 else settings.max_force_threshold
    if max_force > limit * 1.5:
        return f"max force {max_force:.3f} eV/A above {limit} eV/A"
    return None
