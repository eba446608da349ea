"""jobflow Makers: thin wrappers that call discoverflow.core and return schemas documents."""

from discoverflow.makers.active import ActiveLearningMaker
from discoverflow.makers.dedup import DedupMaker
from discoverflow.makers.discovery import CampaignProgress, CrystalDiscoveryMaker
from discoverflow.makers.generators import (
    RandomStructureMaker,
    UserStructuresMaker,
    ValidityFilterMaker,
)
from discoverflow.makers.hull import HullMaker
from discoverflow.makers.references import ReferenceMaker
from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.makers.screen import MLScreenMaker
from discoverflow.makers.substitution import SubstitutionMaker
from discoverflow.makers.vasp import VaspRelaxMaker

__all__ = [
    "ActiveLearningMaker",
    "CampaignProgress",
    "CrystalDiscoveryMaker",
    "DedupMaker",
    "HullMaker",
    "MLRelaxMaker",
    "MLScreenMaker",
    "RandomStructureMaker",
    "ReferenceMaker",
    "SubstitutionMaker",
    "UserStructuresMaker",
    "ValidityFilterMaker",
    "VaspRelaxMaker",
]
