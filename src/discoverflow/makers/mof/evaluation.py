"""What every MOF goes through once it has a cell, generated or read: structure checks and
pores, MD stability, cell optimisation of the most stable and their CO2 uptake."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jobflow import Maker, OutputReference

from discoverflow.core.mof.selection import OptimisationSettings
from discoverflow.makers.mof.adsorption import AdsorptionMaker
from discoverflow.makers.mof.characterisation import MOFCharacterisationMaker
from discoverflow.makers.mof.stability import MOFStabilityMaker, select_stable
from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.schemas.relax import RelaxBatchDocument


def default_optimiser() -> MLRelaxMaker:
    return MLRelaxMaker(name="mof cell optimisation", settings=OptimisationSettings())


@dataclass
class MOFStagesMaker(Maker):
    """The Makers of the stages after assembly (None skips one), how many of the most stable
    MOFs are optimised and adsorbed, and where optimised cells go as CIFs.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    characterise_maker
        Structure checks and pores before the MD (None: skip).
    stability_maker
        The MD stability.
    optimise_maker
        Cell optimisation of the most stable (None: skip).
    adsorption_maker
        CO2 adsorption of the optimised (None: skip).
    per_round
        How many of the most stable MOFs are optimised and adsorbed.
    output_dir
        Where CIFs are written (None: nowhere).
    """

    name: str = "mof stages"
    characterise_maker: MOFCharacterisationMaker | None = field(
        default_factory=MOFCharacterisationMaker
    )
    stability_maker: MOFStabilityMaker = field(default_factory=MOFStabilityMaker)
    optimise_maker: Maker | None = field(default_factory=default_optimiser)
    adsorption_maker: AdsorptionMaker | None = field(default_factory=AdsorptionMaker)
    per_round: int = OptimisationSettings().per_round
    output_dir: str | None = None

    def evaluation_jobs(self, candidates: OutputReference) -> tuple[list, dict]:
        """The jobs that check, simulate, optimise and adsorb the MOFs of ``candidates`` (a
        document with their ``structures``), and their outputs by stage (None for a skipped
        stage). Those failing a check skip the MD; the ``per_round`` most stable are
        optimised."""
        jobs, checks = [], None
        if self.characterise_maker is not None:
            characterise = self.characterise_maker.make(candidates)
            jobs.append(characterise)
            candidates = checks = characterise.output
        stability = self.stability_maker.make(candidates)
        jobs.append(stability)
        outputs = {
            "characterisation": checks,
            "stability": stability.output,
            "relaxed": None,
            "adsorption": None,
        }
        if self.optimise_maker is not None:
            chosen = select_stable(candidates, stability.output, self.per_round)
            optimise = self.optimise_maker.make(chosen.output)
            jobs += [chosen, optimise]
            outputs["relaxed"] = optimise.output
            if self.adsorption_maker is not None:
                adsorb = self.adsorption_maker.make(optimise.output)
                jobs.append(adsorb)
                outputs["adsorption"] = adsorb.output
        return jobs, outputs


def save_cells(relaxed: RelaxBatchDocument | None, output_dir: str | None) -> None:
    """The optimised cells as CIFs in ``output_dir/mofs`` (nothing without either)."""
    if not relaxed or not output_dir:
        return
    folder = Path(output_dir) / "mofs"
    folder.mkdir(parents=True, exist_ok=True)
    for mof_id, structure in relaxed.structures.items():
        structure.to(filename=str(folder / f"{mof_id}.cif"))
