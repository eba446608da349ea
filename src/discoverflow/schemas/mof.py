"""Documents of the MOF discovery flow: linkers, MOFs, stability, adsorption, rounds."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pymatgen.core import Structure

from discoverflow.schemas.base import StageDocument


class LinkerRecord(BaseModel):
    """One proposed linker: valid after processing, or rejected with the reason."""

    smiles: str = Field(description="SMILES of the linker as proposed")
    status: Literal["valid", "rejected"] = Field(description="valid after processing, or rejected")
    reason: str | None = Field(None, description="Why it was rejected")
    anchor_type: str | None = Field(
        None, description="COO (two carboxylic acids) or CN (two nitriles, a pillar)"
    )
    history: list[str] = Field(default_factory=list, description="Generator edits from a seed")
    heavy_atoms: int | None = Field(None, description="Heavy atoms of the linker")


class LinkerBatchDocument(StageDocument):
    """The output of linker generation: one round's proposals and the processed
    linkers."""

    round: int = Field(0, description="Round number, from 0")
    generator: str = Field(description="Linker generator plugin")
    generator_version: int = Field(0, description="Times the generator has been retrained")
    records: list[LinkerRecord] = Field(default_factory=list, description="One record per proposal")
    linkers: list[dict[str, Any]] = Field(
        default_factory=list, description="Processed linkers with 3D anchors (ProcessedLinker)"
    )


class MOFRecord(BaseModel):
    """One MOF assembled from linkers on a node and net, or rejected."""

    mof_id: str = Field(description="MOF id")
    status: Literal["assembled", "rejected"] = Field(
        description="assembled, or rejected (overlapping atoms, assembly failure)"
    )
    reason: str | None = Field(None, description="Why it was rejected")
    node: str = Field(description="Metal node")
    topology: str = Field(description="RCSR net")
    linkers: list[str] = Field(description="SMILES of the carboxylate linkers")
    pillar: str | None = Field(None, description="SMILES of the nitrile pillar, if pillared")
    formula: str | None = Field(None, description="Reduced formula")
    n_atoms: int | None = Field(None, description="Atoms in the cell")
    closest_approach: float | None = Field(None, description="Shortest interatomic distance (A)")
    histories: list[list[str]] = Field(
        default_factory=list, description="Generator edits behind each linker"
    )


class AssemblyDocument(StageDocument):
    """The output of MOF assembly: one round's MOFs and their cells."""

    round: int = Field(0, description="Round number, from 0")
    records: list[MOFRecord] = Field(default_factory=list, description="One record per MOF")
    structures: dict[str, Structure] = Field(default_factory=dict, description="mof_id -> cell")
    cifs: dict[str, str] = Field(default_factory=dict, description="mof_id -> CIF text")


class MOFFileRecord(BaseModel):
    """One CIF of a folder of existing MOFs, read or not."""

    mof_id: str = Field(description="File stem and a hash of the file's content")
    file: str = Field(description="The CIF file's name")
    status: Literal["read", "invalid"] = Field(description="read, or invalid (see reason)")
    reason: str | None = Field(None, description="Why it could not be used")
    formula: str | None = Field(None, description="Reduced formula")
    n_atoms: int | None = Field(None, description="Atoms in the cell as read")


class MOFFolderDocument(StageDocument):
    """The MOFs of a folder of CIFs, as the structure checks and the MD take them."""

    round: int = Field(0, description="Always 0 (existing MOFs have one round)")
    folder: str = Field(description="The folder of CIF files")
    records: list[MOFFileRecord] = Field(
        default_factory=list, description="One record per CIF file"
    )
    structures: dict[str, Structure] = Field(
        default_factory=dict, description="mof_id -> cell of the files that were read"
    )


class CharacterisationRecord(BaseModel):
    """Pore descriptors (Zeo++) and structure checks (mofchecker's) of one MOF."""

    mof_id: str = Field(description="MOF id")
    status: Literal["passed", "failed"] = Field(description="passed, or failed (see reason)")
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
    """The output of the structure checks and pore descriptors of a round's MOFs."""

    round: int = Field(0, description="Round number, from 0")
    probe_radius: float = Field(description="Zeo++ probe radius (A)")
    records: list[CharacterisationRecord] = Field(
        default_factory=list, description="One record per MOF"
    )
    structures: dict[str, Structure] = Field(
        default_factory=dict, description="mof_id -> cell of the MOFs that passed"
    )


MOFCells = AssemblyDocument | MOFFolderDocument | CharacterisationDocument
"""Documents whose ``structures`` the MD (and the structure checks) take."""


class StabilityRecord(BaseModel):
    """The NPT MD of one MOF and the lattice strain it left."""

    mof_id: str = Field(description="MOF id")
    status: Literal["done", "failed"] = Field(description="done, or failed (see reason)")
    reason: str | None = Field(None, description="Why the MD failed")
    strain: float | None = Field(
        None, description="Largest absolute eigenvalue of the MD lattice strain"
    )
    stable: bool = Field(False, description="Strain below the stability threshold")
    volume_change: float | None = Field(
        None, description="Final over initial cell volume, minus one"
    )
    mean_temperature: float | None = Field(None, description="Mean temperature over the MD (K)")
    steps: int = Field(0, description="MD steps run")
    supercell: list[int] = Field(
        default_factory=lambda: [1, 1, 1], description="Repeats of the cell the MD simulated"
    )


class StabilityDocument(StageDocument):
    """The output of the MD stability stage for a round's MOFs."""

    round: int = Field(0, description="Round number, from 0")
    engine: str = Field(description="MD engine (chgnet or lammps)")
    threshold: float = Field(description="Stable below this strain")
    records: list[StabilityRecord] = Field(default_factory=list, description="One record per MOF")


class AdsorptionRecord(BaseModel):
    """The CO2 GCMC of one MOF."""

    mof_id: str = Field(description="MOF id")
    status: Literal["done", "not converged", "failed"] = Field(
        description="done, not converged (error above the uptake, or nothing adsorbed) or failed"
    )
    reason: str | None = Field(None, description="Why it failed, or why it did not converge")
    uptake_mol_per_kg: float | None = Field(None, description="Absolute CO2 loading (mol/kg)")
    uptake_error: float | None = Field(None, description="Block-average error (mol/kg)")
    mean_molecules: float | None = Field(
        None, description="Mean adsorbed molecules in the simulation box"
    )
    excess_mol_per_kg: float | None = Field(
        None, description="Excess CO2 loading (mol/kg), with helium cycles"
    )
    helium_void_fraction: float | None = Field(
        None, description="Helium void fraction, with helium cycles"
    )
    charges: dict[str, float] = Field(
        default_factory=dict, description="Element -> its charge from charge equilibration (e)"
    )
    unit_cells: list[int] = Field(default_factory=list, description="Of the GCMC's cell")
    framework_atoms: int | None = Field(None, description="Atoms of the simulation box")
    cycles: int = Field(0, description="GCMC production cycles")


class AdsorptionDocument(StageDocument):
    """The output of the adsorption stage for a round's MOFs."""

    round: int = Field(0, description="Round number, from 0")
    temperature: float = Field(description="GCMC temperature (K)")
    pressure: float = Field(description="CO2 pressure (Pa)")
    records: list[AdsorptionRecord] = Field(default_factory=list, description="One record per MOF")


class MOFResult(BaseModel):
    """Everything known about one MOF across the stages."""

    mof_id: str = Field(description="MOF id")
    round: int = Field(description="The round it was made in")
    linkers: list[str] = Field(description="SMILES of the carboxylate linkers")
    pillar: str | None = Field(None, description="SMILES of the nitrile pillar, if pillared")
    histories: list[list[str]] = Field(
        default_factory=list, description="Generator edits behind each linker"
    )
    formula: str | None = Field(None, description="Reduced formula")
    checks_passed: bool | None = Field(None, description="Passed the structure checks")
    checks_reason: str | None = Field(None, description="Why the checks removed it")
    open_metal_sites: int | None = Field(None, description="Geometrically exposed metals")
    largest_included_sphere: float | None = Field(None, description="Zeo++ diameter (A)")
    largest_free_sphere: float | None = Field(None, description="Zeo++ diameter (A)")
    accessible_surface_area_m2_g: float | None = Field(None, description="Zeo++ (m2/g)")
    void_fraction: float | None = Field(None, description="Geometric void fraction")
    strain: float | None = Field(
        None, description="Largest absolute eigenvalue of the MD lattice strain"
    )
    stable: bool = Field(False, description="Strain below the stability threshold")
    energy_per_atom: float | None = Field(
        None, description="Energy of the optimised cell (eV/atom)"
    )
    lattice_abc: list[float] | None = Field(
        None, description="Lattice lengths of the optimised cell (A)"
    )
    space_group: str | None = Field(None, description="Of the optimised cell (symprec 0.1)")
    conventional_abc: list[float] | None = Field(None, description="Conventional cell (A)")
    uptake_mol_per_kg: float | None = Field(None, description="CO2 uptake (mol/kg)")


class RoundSummary(BaseModel):
    """What one round of a MOF campaign found."""

    round: int = Field(description="Round number, from 0")
    generator_version: int = Field(description="Times the generator had been retrained")
    linkers_proposed: int = Field(description="Linkers proposed")
    linkers_valid: int = Field(description="Linkers valid after processing")
    mofs_assembled: int = Field(description="MOFs assembled")
    mofs_rejected: int = Field(description="MOFs rejected at assembly")
    mofs_failed_checks: int = Field(0, description="Assembled, removed by a structure check")
    mofs_validated: int = Field(description="MOFs whose MD finished")
    stable: int = Field(description="Of those, stable MOFs")
    stable_fraction: float | None = Field(
        None, description="Stable share of the MOFs whose MD finished"
    )
    strains: list[float] = Field(
        default_factory=list, description="Strain of each MOF whose MD finished"
    )
    adsorption_results: int = Field(0, description="MOFs with a CO2 uptake")
    best_uptake: float | None = Field(None, description="Highest CO2 uptake (mol/kg)")
    best_mof: str | None = Field(None, description="MOF id of the highest uptake")
    retrained: bool = Field(
        False, description="Whether the generator was retrained after this round"
    )
    training_set: int = Field(0, description="Examples it was retrained on")
    training_basis: Literal["stability", "uptake"] | None = Field(
        None, description="What chose them: the most stable MOFs or the best uptakes"
    )


class MOFCampaignState(BaseModel):
    """What carries from one round of a MOF campaign to the next."""

    round: int = Field(0, description="The next round's number")
    generator_state: dict[str, Any] | None = Field(
        None, description="The linker generator's state (its weights and parents)"
    )
    results: list[MOFResult] = Field(default_factory=list, description="Every MOF's result so far")
    summaries: list[RoundSummary] = Field(
        default_factory=list, description="Every round's summary so far"
    )
    trained_on: int = Field(0, description="Examples of the last retraining")


class MOFEvaluationDocument(StageDocument):
    """The end of an evaluation of existing MOFs: where each MOF stands."""

    folder: str = Field(description="The folder of CIF files")
    fingerprint: str | None = Field(
        None, description="Of the folder's MOF ids and every stage's settings"
    )
    statuses: dict[str, str] = Field(default_factory=dict, description="mof_id -> last verdict")
    counts: dict[str, int] = Field(default_factory=dict, description="Verdict -> MOFs")


class MOFCampaignDocument(StageDocument):
    """The output of a MOF campaign: its rounds, every MOF's result and the
    generator's state."""

    rounds: list[RoundSummary] = Field(description="One summary per round")
    results: list[MOFResult] = Field(description="Every MOF's result")
    generator_state: dict[str, Any] | None = Field(
        None, description="The linker generator's final state"
    )
    plot: str | None = Field(None, description="Path of the strain-per-round plot, if written")
