"""MOF discovery Makers: linkers, assembly, checks and pores, stability, CP2K cell
optimisation, adsorption, and the rounds of MOFA; the evaluation of existing MOFs."""

from discoverflow.makers.mof.adsorption import AdsorptionMaker
from discoverflow.makers.mof.assembly import MOFAssemblyMaker
from discoverflow.makers.mof.characterisation import MOFCharacterisationMaker
from discoverflow.makers.mof.discovery import MOFDiscoveryMaker
from discoverflow.makers.mof.existing import ExistingMOFsMaker
from discoverflow.makers.mof.linkers import LinkerGenerationMaker
from discoverflow.makers.mof.optimisation import CP2KCellMaker
from discoverflow.makers.mof.stability import MOFStabilityMaker, select_stable

__all__ = [
    "AdsorptionMaker",
    "CP2KCellMaker",
    "ExistingMOFsMaker",
    "LinkerGenerationMaker",
    "MOFAssemblyMaker",
    "MOFCharacterisationMaker",
    "MOFDiscoveryMaker",
    "MOFStabilityMaker",
    "select_stable",
]
