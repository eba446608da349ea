"""VASP relaxations through atomate2's input sets and custodian, one structure per job."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from jobflow import Flow, Job, job
from pymatgen.core import Structure

from discoverflow.core.crystal.vasp import (
    EXA_AMD_RELAX_INCAR,
    EXA_AMD_STATIC_INCAR,
    MaxForceErrorHandler,
    VaspResult,
    VaspSettings,
    needs_spin_polarisation,
    relax_convergence,
    vasp_environment_problems,
)
from discoverflow.errors import DiscoverflowError
from discoverflow.makers.base import StageMaker
from discoverflow.makers.relax import merged_relaxations, save_relax_record
from discoverflow.schemas.relax import RelaxBatchDocument, RelaxRecordInfo

ENGINE = "vasp"


@dataclass
class VaspRelaxMaker(StageMaker):
    """Relax structures with VASP (ISIF 3) and optionally recompute the energy statically.

    INCAR defaults follow exa-AMD (ENCUT 520, EDIFF 1e-4, EDIFFG -0.01, IBRION 1, ISIF 3,
    ISMEAR 0, SIGMA 0.05, LREAL Auto, NSW 100) on top of atomate2's base set (MAGMOMs,
    GGA+U where MP applies it); ISPIN is 2 only when a d- or f-block element is present.
    Every key can be overridden through ``incar``. Custodian runs VASP with atomate2's
    handlers plus a max-force check and, with ``wall_time``, a walltime handler; a
    relaxation that still fails is recorded with the reason and the campaign goes on.
    """

    name: str = "vasp relax"
    settings: VaspSettings = field(default_factory=VaspSettings)
    check_environment: bool = True
    batch_size: int = 1

    def relax_input_set(self, structure: Structure):
        from atomate2.vasp.sets.core import RelaxSetGenerator

        incar = {**EXA_AMD_RELAX_INCAR, "ISPIN": 2 if needs_spin_polarisation(structure) else 1}
        return RelaxSetGenerator(
            user_incar_settings={**incar, **self.settings.incar},
            user_kpoints_settings={"reciprocal_density": self.settings.kpoint_density},
        )

    def static_input_set(self, structure: Structure):
        from atomate2.vasp.sets.core import StaticSetGenerator

        incar = {**EXA_AMD_STATIC_INCAR, "ISPIN": 2 if needs_spin_polarisation(structure) else 1}
        overrides = {
            k: v
            for k, v in self.settings.incar.items()
            if k not in ("NSW", "IBRION", "ISIF", "EDIFFG")
        }
        return StaticSetGenerator(
            user_incar_settings={**incar, **overrides, **self.settings.static_incar},
            user_kpoints_settings={"reciprocal_density": self.settings.kpoint_density},
        )

    def custodian_handlers(self) -> list:
        from atomate2.vasp.run import DEFAULT_HANDLERS, WalltimeHandler

        handlers = [
            *DEFAULT_HANDLERS,
            MaxForceErrorHandler(max_force_threshold=self.settings.max_force_threshold),
        ]
        if self.settings.wall_time:
            handlers.append(WalltimeHandler(wall_time=self.settings.wall_time))
        return handlers

    def command(self) -> str:
        from atomate2 import SETTINGS

        return self.settings.vasp_cmd or SETTINGS.VASP_CMD

    def make(self, structures: dict[str, Structure]) -> Job | Flow:
        if self.check_environment and (problems := vasp_environment_problems(self.command())):
            raise DiscoverflowError("; ".join(problems))
        jobs = [self.relax_structure(cid, structure) for cid, structure in structures.items()]
        for relax_job, cid in zip(jobs, structures, strict=True):
            relax_job.name = f"{self.name} {cid}"
        if len(jobs) == 1:
            return jobs[0]
        return merged_relaxations(jobs, [j.output for j in jobs], self.name)

    @job(
        data=["structures", "task_documents"],
        output_schema=RelaxBatchDocument,
        metadata={"stage": "relax-batch", "runs_on": "cpu"},
    )
    def relax_structure(self, candidate_id: str, structure: Structure) -> RelaxBatchDocument:
        """Relax (and optionally statically recompute) one structure in its own folder."""
        folder = Path.cwd() / candidate_id
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.chdir(folder):
            record, final, task = self._relax_and_record(candidate_id, structure, folder)
        settings = {"engine": ENGINE, **self.settings.model_dump()}
        save_relax_record(candidate_id, record, final, ENGINE, settings)
        return RelaxBatchDocument(
            engine=ENGINE,
            records=[record],
            structures={candidate_id: final} if final is not None else {},
            task_documents={candidate_id: task.task_doc.model_dump(mode="json")}
            if task is not None and task.task_doc is not None
            else {},
        )

    def _run(self, structure: Structure, input_set, directory: Path) -> VaspResult:
        from atomate2.vasp import run as vasp_run
        from atomate2.vasp.files import write_vasp_input_set

        directory.mkdir(parents=True, exist_ok=True)
        with contextlib.chdir(directory):
            write_vasp_input_set(structure, input_set, directory=".")
            vasp_run.run_vasp(
                vasp_cmd=self.command(),
                handlers=self.custodian_handlers(),
                max_errors=self.settings.max_errors,
                wall_time=self.settings.wall_time,
            )
        return VaspResult.from_directory(directory)

    def _relax_and_record(self, candidate_id: str, structure: Structure, folder: Path):
        formula = structure.composition.reduced_formula
        try:
            relax_doc = self._run(structure, self.relax_input_set(structure), folder / "relax")
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}".strip()[:500]
            failed = RelaxRecordInfo(
                candidate_id=candidate_id,
                formula=formula,
                status="failed",
                reason=reason,
                task_dir=str(folder),
            )
            return failed, None, None
        converged, n_steps, max_force, why = relax_convergence(folder / "relax", self.settings)
        final = relax_doc.structure
        task = relax_doc
        if converged and self.settings.static:
            try:
                task = self._run(final, self.static_input_set(final), folder / "static")
            except Exception as exc:
                why = f"static step failed: {type(exc).__name__}: {exc}"[:500]
                converged = False
        record = RelaxRecordInfo(
            candidate_id=candidate_id,
            formula=formula,
            status="relaxed" if converged else "unconverged",
            reason=None if converged else why,
            energy=task.energy,
            energy_per_atom=task.energy / len(task.structure),
            n_steps=n_steps,
            max_force=max_force,
            task_dir=str(folder),
            entry=task.entry,
        )
        return record, final, task
