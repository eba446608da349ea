"""The ``vasp`` relax engine: atomate2's VASP RelaxMaker (and StaticMaker) with exa-AMD's
INCAR defaults, one structure per job, read back by ``TaskRelaxMaker``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atomate2 import SETTINGS
from atomate2.vasp.flows.core import DoubleRelaxMaker
from atomate2.vasp.jobs.base import BaseVaspMaker
from atomate2.vasp.jobs.core import RelaxMaker, StaticMaker
from atomate2.vasp.run import DEFAULT_HANDLERS
from atomate2.vasp.sets.core import RelaxSetGenerator, StaticSetGenerator
from jobflow import Flow, Job, Maker
from pymatgen.core import Structure

from discoverflow.core.crystal.vasp import (
    EXA_AMD_RELAX_INCAR,
    EXA_AMD_STATIC_INCAR,
    MaxForceErrorHandler,
    VaspSettings,
    needs_spin_polarisation,
    relax_problem,
    vasp_environment_problems,
)
from discoverflow.errors import DiscoverflowError
from discoverflow.makers.base import StageMaker
from discoverflow.makers.task_relax import TaskRelaxMaker, field_of, max_force_of, n_steps_of
from discoverflow.routing import RunsOn

ENGINE = "vasp"
RELAX_ONLY_INCAR = ("NSW", "IBRION", "ISIF", "EDIFFG")


def vasp_run_kwargs(settings: VaspSettings) -> dict[str, Any]:
    """Custodian's options for atomate2's ``run_vasp``: atomate2's handlers, the max-force
    check and (with ``wall_time``) its walltime handler."""
    handlers = [
        *DEFAULT_HANDLERS,
        MaxForceErrorHandler(max_force_threshold=settings.max_force_threshold),
    ]
    kwargs = {"handlers": handlers, "max_errors": settings.max_errors}
    if settings.wall_time:
        kwargs["wall_time"] = settings.wall_time
    if settings.vasp_cmd:
        kwargs["vasp_cmd"] = settings.vasp_cmd
    return kwargs


def vasp_relax_makers(settings: VaspSettings) -> tuple[Maker, Maker | None]:
    """atomate2's RelaxMaker (or DoubleRelaxMaker) and StaticMaker over exa-AMD's INCAR,
    the settings' overrides and k-point density; an unconverged run is returned, not raised."""
    kpoints = {"reciprocal_density": settings.kpoint_density}
    common = {
        "run_vasp_kwargs": vasp_run_kwargs(settings),
        "stop_children_kwargs": {"handle_unsuccessful": False},
    }
    relax: Maker = RelaxMaker(
        input_set_generator=RelaxSetGenerator(
            user_incar_settings={**EXA_AMD_RELAX_INCAR, **settings.incar},
            user_kpoints_settings=kpoints,
        ),
        **common,
    )
    if settings.double_relax:
        relax = DoubleRelaxMaker.from_relax_maker(relax)
    if not settings.static:
        return relax, None
    overrides = {k: v for k, v in settings.incar.items() if k not in RELAX_ONLY_INCAR}
    static = StaticMaker(
        input_set_generator=StaticSetGenerator(
            user_incar_settings={**EXA_AMD_STATIC_INCAR, **overrides, **settings.static_incar},
            user_kpoints_settings=kpoints,
        ),
        **common,
    )
    return relax, static


def spin_polarised(maker: Maker, structure: Structure) -> Maker:
    """``maker`` (and the VASP Makers inside it) with ISPIN 2 for a d- or f-block element in
    ``structure``, else 1."""
    ispin = 2 if needs_spin_polarisation(structure) else 1
    update = {"_set": {"input_set_generator->user_incar_settings->ISPIN": ispin}}
    return maker.update_kwargs(update, class_filter=BaseVaspMaker, dict_mod=True)


@dataclass
class VaspRelaxMaker(TaskRelaxMaker, StageMaker):
    """Relax structures with VASP through atomate2's RelaxMaker (ISIF 3) and optionally
    recompute the energy with its StaticMaker, one structure per job.

    INCAR defaults follow exa-AMD (ENCUT 520, EDIFF 1e-4, EDIFFG -0.01, IBRION 1, ISIF 3,
    ISMEAR 0, SIGMA 0.05, LREAL Auto, NSW 100) on top of atomate2's base set (MAGMOMs,
    GGA+U where MP applies it); ISPIN is 2 only when a d- or f-block element is present.
    Every key can be overridden through ``incar``. Custodian runs VASP with atomate2's
    handlers plus a max-force check and, with ``wall_time``, a walltime handler; a
    relaxation that is unconverged or fails is recorded with the reason and the campaign
    goes on. ``maker`` and ``static_maker`` are the atomate2 Makers built from ``settings``.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    runs_on
        Where the VASP jobs run (cpu).
    batch_size
        Structures per ``make`` call in a relax slot.
    settings
        A ``VaspSettings`` (or a dict of it): the stage's settings.
    check_environment
        Check the VASP command and pseudopotentials before building the jobs.
    """

    maker: Maker = field(init=False)
    name: str = "vasp relax"
    static_maker: Maker | None = field(init=False)
    runs_on: RunsOn | None = RunsOn.CPU
    settings: VaspSettings = field(default_factory=VaspSettings)
    check_environment: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        self.maker, self.static_maker = vasp_relax_makers(self.settings)

    @property
    def engine(self) -> str:
        return ENGINE

    @property
    def record_settings(self) -> dict[str, Any]:
        return {"engine": ENGINE, **self.settings.model_dump()}

    def command(self) -> str:
        return self.settings.vasp_cmd or SETTINGS.VASP_CMD

    def makers_for(self, structure: Structure) -> tuple[Maker, Maker | None]:
        static = self.static_maker and spin_polarised(self.static_maker, structure)
        return spin_polarised(self.maker, structure), static

    def relax_problem(self, task: Any) -> str | None:
        steps = field_of(task, "calcs_reversed")
        completed = field_of(steps[0], "has_vasp_completed") if steps else None
        ediffg = field_of(task, "input", "incar", "EDIFFG")
        return relax_problem(
            n_steps_of(task),
            max_force_of(task) or 0.0,
            str(completed) == "successful",
            int(field_of(task, "input", "parameters", "NSW") or 0),
            float(ediffg) if ediffg is not None else None,
            self.settings,
        )

    def make(self, structures: dict[str, Structure]) -> Job | Flow:
        """The stage's jobs.

        Parameters
        ----------
        structures
            The structures, by id.

        Returns
        -------
        Job | Flow
            One relaxation (and static) job per structure; its output the ``RelaxBatchDocument``.
        """
        if self.check_environment and (problems := vasp_environment_problems(self.command())):
            raise DiscoverflowError("; ".join(problems))
        return super().make(structures)
