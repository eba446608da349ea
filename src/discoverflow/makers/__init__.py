"""jobflow Makers: thin wrappers that call discoverflow.core and return schemas documents."""

from discoverflow.makers.coordinate import CoordinateMaker
from discoverflow.makers.crystal.dedup import DedupMaker
from discoverflow.makers.crystal.discovery import CrystalDiscoveryMaker, FinishedStages
from discoverflow.makers.crystal.generators import (
    RandomStructureMaker,
    UserStructuresMaker,
    ValidityFilterMaker,
)
from discoverflow.makers.crystal.hull import HullMaker
from discoverflow.makers.crystal.properties import PropertyScreenMaker
from discoverflow.makers.crystal.prototypes import PrototypesMaker
from discoverflow.makers.crystal.references import ReferenceMaker
from discoverflow.makers.crystal.screen import MLScreenMaker
from discoverflow.makers.crystal.substitution import SubstitutionMaker
from discoverflow.makers.relax import MLRelaxMaker, RelaxMaker, RelaxSelectedMaker
from discoverflow.makers.task_relax import TaskRelaxMaker
from discoverflow.makers.vasp import VaspRelaxMaker
from discoverflow.makers.views import DocumentsMaker

__all__ = [
    "CoordinateMaker",
    "CrystalDiscoveryMaker",
    "DedupMaker",
    "DocumentsMaker",
    "FinishedStages",
    "HullMaker",
    "MLRelaxMaker",
    "MLScreenMaker",
    "PropertyScreenMaker",
    "PrototypesMaker",
    "RandomStructureMaker",
    "ReferenceMaker",
    "RelaxMaker",
    "RelaxSelectedMaker",
    "SubstitutionMaker",
    "TaskRelaxMaker",
    "UserStructuresMaker",
    "ValidityFilterMaker",
    "VaspRelaxMaker",
]
