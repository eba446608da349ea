"""jobflow Makers: thin wrappers that call discoverflow.core and return schemas documents."""

from discoverflow.makers.dedup import DedupMaker
from discoverflow.makers.discovery import CampaignProgress, CrystalDiscoveryMaker
from discoverflow.makers.hull import HullMaker
from discoverflow.makers.references import ReferenceMaker
from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.makers.screen import MLScreenMaker
from discoverflow.makers.substitution import SubstitutionMaker

__all__ = [
    "CampaignProgress",
    "CrystalDiscoveryMaker",
    "DedupMaker",
    "HullMaker",
    "MLRelaxMaker",
    "MLScreenMaker",
    "ReferenceMaker",
    "SubstitutionMaker",
]
