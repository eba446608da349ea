"""What every MOF goes through once it has a cell, generated or read: structure checks and
pores, MD stability, cell optimisation of the most stable and their CO2 uptake."""

from __future__ import annotations

from pathlib import Path

from jobflow import Maker, OutputReference

from discoverflow.makers.mof.adsorption import AdsorptionMaker
from discoverflow.makers.mof.characterisation import MOFCharacterisationMaker
from discoverflow.makers.mof.stability import MOFStabilityMaker, select_stable
from discoverflow.schemas.relax import RelaxBatchDocument


def evaluation_jobs(
    candidates: OutputReference,
    characterise_maker: MOFCharacterisationMaker | None,
    stability_maker: MOFStabilityMaker,
    optimise_maker: Maker | None,
    adsorption_maker: AdsorptionMaker | None,
    limit: int,
) -> tuple[list, dict]:
    """The jobs that check, simulate, optimise and adsorb the MOFs of ``candidates`` (a
    document with their ``structures``), and their outputs by stage (None where a Maker is
    None). Those failing a check skip the MD; the ``limit`` most stable are optimised."""
    jobs, checks = [], None
    if characterise_maker is not None:
        characterise = characterise_maker.make(candidates)
        jobs.append(characterise)
        candidates = checks = characterise.output
    stability = stability_maker.make(candidates)
    jobs.append(stability)
    outputs = {
        "characterisation": checks,
        "stability": stability.output,
        "relaxed": None,
        "adsorption": None,
    }
    if optimise_maker is not None:
        chosen = select_stable(candidates, stability.output, limit)
        optimise = optimise_maker.make(chosen.output)
        jobs += [chosen, optimise]
        outputs["relaxed"] = optimise.output
        if adsorption_maker is not None:
            adsorb = adsorption_maker.make(optimise.output)
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
