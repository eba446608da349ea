"""Documents of the MOF discovery flow: linkers, MOFs, stability, adsorption, rounds."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pymatgen.core import Structure

from discoverflow.schemas.base import StageDocument


class LinkerRecord(BaseModel):
    smiles: str
    status: Literal["valid", "rejected"]
    reason: str | None = None
    anchor_type: str | None = None
    history: list[str] = Field(default_factory=list, description="Generator edits from a seed")
    heavy_atoms: int | None = None


class LinkerBatchDocument(StageDocument):
    round: int = 0
    generator: str
    generator_version: int = 0
    records: list[LinkerRecord] = Field(default_factory=list)
    linkers: list[dict[str, Any]] = Field(
        default_factory=list, description="Processed linkers with 3D anchors (ProcessedLinker)"
    )


class MOFRecord(BaseModel):
    mof_id: str
    status: Literal["assembled", "rejected"]
    reason: str | None = None
    node: str
    topology: str
    linkers: list[str] = Field(description="SMILES of the carboxylate linkers")
    pillar: str | None = None
    formula: str | None = None
    n_atoms: int | None = None
    closest_approach: float | None = Field(None, description="Shortest interatomic distance (A)")
    histories: list[list[str]] = Field(default_factory=list)


class AssemblyDocument(StageDocument):
    round: int = 0
    records: list[MOFRecord] = Field(default_factory=list)
    structures: dict[str, Structure] = Field(default_factory=dict, description="mof_id -> cell")
    cifs: dict[str, str] = Field(default_factory=dict, description="mof_id -> CIF text")


class MOFFileRecord(BaseModel):
    """One CIF of a folder of existing MOFs, read or not."""

    mof_id: str = Field(description="File stem and a hash of the file's content")
    file: str = Field(description="The CIF file's name")
    status: Literal["read", "invalid"]
    reason: str | None = Field(None, description="Why it could not be used")
    formula: str | None = None
    n_atoms: int | None = None


class MOFFolderDocument(StageDocument):
    """The MOFs of a folder of CIFs, as the structure checks and the MD take them."""

    round: int = 0
    folder: str
    records: list[MOFFileRecord] = Field(default_factory=list)
    structures: dict[str, Structure] = Field(
        default_factory=dict, description="mof_id -> cell of the files that were read"
    )


class CharacterisationRecord(BaseModel):
    """Pore descriptors (Zeo++) and structure checks (mofchecker's) of one MOF."""

    mof_id: str
    status: Literal["passed", "failed"]
    reason: str | None = Field(None, description="The failed checks that removed it")
    checks: dict[str, Any] = Field(
        default_factory=dict, description="Verdicts (CheckVerdicts: sites by index)"
    )
    pores: dict[str, float] | None = Field(
        None, description="PoreDescriptors: diameters (A), areas (m2/g, A2), fractions"
    )
    free_molecules: list[str] = Field(
        default_factory=list,
        description="Molecules bonded to nothing else: formula and kind (solvent, +n ion)",
    )
    solvent_removed: bool = Field(False, description="Free solvent removed before the checks")
    structure: Structure | None = Field(
        None, description="The cell without its solvent, where it was removed"
    )


class CharacterisationDocument(StageDocument):
    round: int = 0
    probe_radius: float = Field(description="Zeo++ probe radius (A)")
    records: list[CharacterisationRecord] = Field(default_factory=list)
    structures: dict[str, Structure] = Field(
        default_factory=dict, description="mof_id -> cell of the MOFs that passed"
    )


MOFCells = AssemblyDocument | MOFFolderDocument | CharacterisationDocument
"""Documents whose ``structures`` the MD (and the structure checks) take."""


class StabilityRecord(BaseModel):
    mof_id: str
    status: Literal["done", "failed"]
    reason: str | None = None
    strain: float | None = Field(
        None, description="Largest absolute eigenvalue of the MD lattice strain"
    )
    stable: bool = False
    volume_change: float | None = None
    mean_temperature: float | None = None
    steps: int = 0
    supercell: list[int] = Field(
        default_factory=lambda: [1, 1, 1], description="Repeats of the cell the MD simulated"
    )


class StabilityDocument(StageDocument):
    round: int = 0
    engine: str
    threshold: float
    records: list[StabilityRecord] = Field(default_factory=list)


class AdsorptionRecord(BaseModel):
    mof_id: str
    status: Literal["done", "not converged", "failed"]
    reason: str | None = Field(None, description="Why it failed, or why it did not converge")
    uptake_mol_per_kg: float | None = Field(None, description="Absolute CO2 loading (mol/kg)")
    uptake_error: float | None = Field(None, description="Block-average error (mol/kg)")
    mean_molecules: float | None = Field(
        None, description="Mean adsorbed molecules in the simulation box"
    )
    excess_mol_per_kg: float | None = None
    helium_void_fraction: float | None = None
    charges: dict[str, float] = Field(default_factory=dict)
    unit_cells: list[int] = Field(default_factory=list, description="Of the GCMC's cell")
    framework_atoms: int | None = Field(None, description="Atoms of the simulation box")
    cycles: int = 0


class AdsorptionDocument(StageDocument):
    round: int = 0
    temperature: float
    pressure: float
    records: list[AdsorptionRecord] = Field(default_factory=list)


class MOFResult(BaseModel):
    """Everything known about one MOF across the stages."""

    mof_id: str
    round: int
    linkers: list[str]
    pillar: str | None = None
    histories: list[list[str]] = Field(default_factory=list)
    formula: str | None = None
    checks_passed: bool | None = Field(None, description="Passed the structure checks")
    checks_reason: str | None = Field(None, description="Why the checks removed it")
    open_metal_sites: int | None = Field(None, description="Geometrically exposed metals")
    largest_included_sphere: float | None = Field(None, description="Zeo++ diameter (A)")
    largest_free_sphere: float | None = Field(None, description="Zeo++ diameter (A)")
    accessible_surface_area_m2_g: float | None = Field(None, description="Zeo++ (m2/g)")
    void_fraction: float | None = Field(None, description="Geometric void fraction")
    strain: float | None = None
    stable: bool = False
    energy_per_atom: float | None = None
    lattice_abc: list[float] | None = None
    space_group: str | None = Field(None, description="Of the optimised cell (symprec 0.1)")
    conventional_abc: list[float] | None = Field(None, description="Conventional cell (A)")
    uptake_mol_per_kg: float | None = None


class RoundSummary(BaseModel):
    round: int
    generator_version: int
    linkers_proposed: int
    linkers_valid: int
    mofs_assembled: int
    mofs_rejected: int
    mofs_failed_checks: int = Field(0, description="Assembled, removed by a structure check")
    mofs_validated: int
    stable: int
    stable_fraction: float | None = None
    strains: list[float] = Field(default_factory=list)
    adsorption_results: int = 0
    best_uptake: float | None = None
    best_mof: str | None = None
    retrained: bool = False
    training_set: int = 0
    training_basis: Literal["stability", "uptake"] | None = None


class MOFCampaignState(BaseModel):
    round: int = 0
    generator_state: dict[str, Any] | None = None
    results: list[MOFResult] = Field(default_factory=list)
    summaries: list[RoundSummary] = Field(default_factory=list)
    trained_on: int = 0


class MOFEvaluationDocument(StageDocument):
    """The end of an evaluation of existing MOFs: where each MOF stands."""

    folder: str
    fingerprint: str | None = Field(
        None, description="Of the folder's MOF ids and every stage's settings"
    )
    statuses: dict[str, str] = Field(default_factory=dict, description="mof_id -> last verdict")
    counts: dict[str, int] = Field(default_factory=dict, description="Verdict -> MOFs")


class MOFCampaignDocument(StageDocument):
    rounds: list[RoundSummary]
    results: list[MOFResult]
    generator_state: dict[str, Any] | None = None
    plot: str | None = None
