"""One document per candidate crystal and per MOF: what users query, built from the records.

Field names follow emmet (``formula_pretty``, ``chemsys``, ``energy_above_hull``, ...); the
structure metadata are emmet's ``StructureMetadata``. Every stage that touches a document
leaves a ``StageRecord`` under ``stages`` with the fingerprint of its settings and inputs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from emmet.core.structure import StructureMetadata
from pydantic import BaseModel, Field
from pymatgen.core import Structure

from discoverflow.schemas.records import CANDIDATES, MOFS, Stage, Status, utcnow

__all__ = ["CANDIDATES", "MOFS", "CampaignDocument", "CandidateDoc", "MOFDoc", "StageRecord"]


class StageRecord(BaseModel):
    """What one stage did to one document (a summary of its record in ``records``)."""

    status: Status = Field(description="The stage's verdict (e.g. screened, duplicate, relaxed)")
    reason: str | None = Field(None, description="Why it was rejected or failed")
    fingerprint: str | None = Field(
        None, description="Hash of the stage's settings and inputs that gave this result"
    )
    settings: dict[str, Any] | None = Field(
        None, description="The settings behind the fingerprint, where the stage records them"
    )
    job_uuid: str | None = Field(None, description="The jobflow job that wrote it")
    updated_at: datetime = Field(default_factory=utcnow, description="When it was written (UTC)")


class CampaignDocument(StructureMetadata):
    """Fields every per-item document has."""

    campaign: str = Field(description="Campaign id")
    status: Status = Field(description="Where the item stands: the verdict of its last stage")
    reason: str | None = Field(None, description="Why it was rejected or failed, if it was")
    stages: dict[Stage, StageRecord] = Field(
        default_factory=dict, description="Stage name -> what that stage did"
    )
    job_uuids: list[str] = Field(default_factory=list, description="Every job that touched it")
    last_updated: datetime = Field(default_factory=utcnow, description="UTC")


class CandidateDoc(CampaignDocument):
    """A candidate crystal (or a reference phase) of a crystal campaign."""

    candidate_id: str = Field(description="Deterministic id: reduced formula + structure hash")
    role: Literal["candidate", "reference", "known phase"] = Field(
        "candidate",
        description="A generated candidate, an elemental reference, or a known phase",
    )
    template: str | None = Field(None, description="Template or generator the candidate came from")
    species_map: dict[str, str] = Field(
        default_factory=dict, description="Template element -> substituted element"
    )
    scale: float | None = Field(None, description="Isotropic lattice-parameter scale")
    provenance: dict[str, Any] = Field(
        default_factory=dict,
        description="Generator details: a partial substitution's Wyckoff orbit, element and "
        "share of the orbit; a predicted substitution's probability",
    )
    generator: str | None = Field(None, description="Generation method (substitution, random)")
    screening_model: str | None = Field(None, description="Energy model of the screen")
    predicted_energy_per_atom: float | None = Field(None, description="Screen (eV/atom)")
    predicted_energy_per_atom_std: float | None = Field(
        None, description="Spread (std) of an ensemble screening model's members (eV/atom)"
    )
    predicted_formation_energy_per_atom: float | None = Field(
        None, description="Screen, against the model's own elemental energies (eV/atom)"
    )
    duplicate_of: str | None = Field(None, description="The kept candidate it matches")
    known_phase: str | None = Field(
        None, description="Candidates: the known phase it matches (id or formula, and source)"
    )
    is_new: bool | None = Field(None, description="Candidates: matches no known phase")
    source: str | None = Field(None, description="Known phases: file or Materials Project")
    energy_source: str | None = Field(
        None,
        description="Candidates of the coordinate pattern: 'lookup', 'prediction' or "
        "'relaxation'; known phases: 'relaxed with <engine>' or 'given (<engine>)'",
    )
    energy_per_atom_std: float | None = Field(
        None, description="Coordinate pattern: the ensemble's spread on the candidate (eV/atom)"
    )
    energy_models: list[str] = Field(
        default_factory=list,
        description="Coordinate pattern: the ensemble's members that predicted it (fine-tuned "
        "ones by file name)",
    )
    looked_up_from: str | None = Field(
        None, description="Coordinate pattern: the computed result it matched"
    )
    coordinate_round: int | None = Field(
        None, description="Coordinate pattern: the round that gave it its energy"
    )
    source_energy_per_atom: float | None = Field(
        None, description="Known phases: the energy their source gave (eV/atom)"
    )
    property_name: str | None = Field(
        None, description="Predicted property of the surrogate screen"
    )
    property_value: float | None = Field(None, description="In property_unit")
    property_unit: str | None = Field(None, description="Unit of property_value")
    relax_engine: str | None = Field(None, description="Engine of the relaxation")
    energy: float | None = Field(None, description="Relaxed total energy (eV)")
    energy_per_atom: float | None = Field(
        None, description="Relaxed energy, or the coordinate pattern's (see energy_source)"
    )
    formation_energy_per_atom: float | None = Field(
        None, description="Relaxed formation energy against the references (eV/atom)"
    )
    energy_above_hull: float | None = Field(None, description="Distance to the hull (eV/atom)")
    energy_above_hull_std: float | None = Field(
        None, description="Spread of energy_above_hull over hull.ensemble's members (eV/atom)"
    )
    probability_stable: float | None = Field(
        None,
        description="Share of hull.ensemble's per-member hulls (and draws) on which the "
        "candidate lies within the hull threshold",
    )
    is_stable: bool | None = Field(None, description="On the convex hull")
    promising: bool | None = Field(None, description="Within the campaign's hull threshold")
    decomposes_to: list[str] = Field(
        default_factory=list, description="Formulas of the hull phases it decomposes to"
    )
    energy_corrections: str | None = Field(None, description="MP2020 when applied")
    n_steps: int | None = Field(None, description="Optimiser steps of the relaxation")
    max_force: float | None = Field(None, description="Largest residual force (eV/A)")
    structure_initial: Structure | None = Field(None, description="As generated")
    structure: Structure | None = Field(None, description="Relaxed, else as generated")


class MOFDoc(CampaignDocument):
    """A MOF of a MOF campaign."""

    mof_id: str = Field(
        description="Generated MOFs: node, net and a hash of the linkers' SMILES; existing "
        "MOFs: the CIF's stem and a hash of its content"
    )
    source_file: str | None = Field(None, description="Existing MOFs: the CIF it was read from")
    round: int | None = Field(None, description="Generated MOFs: round that proposed it")
    node: str | None = Field(None, description="Generated MOFs: metal node")
    topology: str | None = Field(None, description="Generated MOFs: RCSR net")
    linkers: list[str] = Field(
        default_factory=list, description="Generated MOFs: SMILES of the carboxylate linkers"
    )
    pillar: str | None = Field(None, description="SMILES of the pillar linker")
    histories: list[list[str]] = Field(default_factory=list, description="Generator edits")
    overlap_ok: bool | None = Field(None, description="No atoms closer than allowed")
    closest_approach: float | None = Field(None, description="Shortest interatomic distance (A)")
    checks_passed: bool | None = Field(None, description="Passed the structure checks")
    overlapping_atoms: list[int] = Field(default_factory=list, description="Sites too close")
    overcoordinated_atoms: list[int] = Field(
        default_factory=list, description="H, C, N sites with too many bonds"
    )
    undercoordinated_atoms: list[int] = Field(
        default_factory=list, description="C and N sites with too few bonds"
    )
    missing_hydrogens: bool | None = Field(None, description="Carbons lack hydrogens")
    open_metal_sites: list[int] = Field(
        default_factory=list, description="Metal sites with an exposed coordination site"
    )
    charge_balanced: bool | None = Field(
        None, description="Metals at a known oxidation state (None: ligands not recognised)"
    )
    metal_oxidation_state: float | None = Field(
        None, description="Mean formal charge of the metals from the ligands' charges (e)"
    )
    free_molecules: list[str] = Field(
        default_factory=list,
        description="Molecules in the cell as read bonded to nothing else: formula and kind "
        "(solvent; an ion with its formal charge; charge unknown)",
    )
    solvent_removed: bool | None = Field(
        None, description="Free solvent removed before the checks and later stages"
    )
    bond_graph_supercell: list[int] | None = Field(
        None, description="Repeats of the cell whose bond graph the checks read (a, b, c)"
    )
    largest_included_sphere: float | None = Field(None, description="Zeo++ diameter (A)")
    largest_free_sphere: float | None = Field(None, description="Zeo++ diameter (A)")
    included_sphere_along_free_path: float | None = Field(
        None, description="Largest included sphere along the free sphere's path (A)"
    )
    accessible_surface_area_m2_g: float | None = Field(
        None, description="Zeo++ accessible surface area (m2/g)"
    )
    accessible_surface_area_a2: float | None = Field(
        None, description="Zeo++ accessible surface area per cell (A2)"
    )
    accessible_volume_fraction: float | None = Field(
        None, description="Fraction of the cell the probe's centre reaches"
    )
    void_fraction: float | None = Field(None, description="Geometric void fraction (point probe)")
    probe_radius: float | None = Field(None, description="Zeo++ probe radius (A)")
    strain: float | None = Field(None, description="Largest absolute eigenvalue of the MD strain")
    stable: bool | None = Field(None, description="Strain below the campaign's threshold")
    md_engine: str | None = Field(
        None, description="Engine of the MD (chgnet-<version> or lammps-uff4mof)"
    )
    md_supercell: list[int] | None = Field(
        None, description="Repeats of the cell the MD simulated; the strain is the cell's own"
    )
    optimisation_engine: str | None = Field(
        None, description="Engine of the cell optimisation (an ML potential, or cp2k-PBE-DFTD3)"
    )
    energy: float | None = Field(None, description="Optimised cell total energy (eV)")
    energy_per_atom: float | None = Field(None, description="Optimised cell (eV/atom)")
    lattice_abc: list[float] | None = Field(None, description="Optimised cell lengths (A)")
    n_steps: int | None = Field(None, description="Optimiser steps of the cell optimisation")
    max_force: float | None = Field(None, description="Largest residual force (eV/A)")
    optimisation_converged: bool | None = Field(None, description="Reached the force criterion")
    scf_steps: int | None = Field(None, description="CP2K: SCF iterations of the optimisation")
    seconds_per_scf_step: float | None = Field(None, description="CP2K: wall time per SCF step")
    charges_method: str | None = Field(None, description="How partial charges were assigned")
    charges: dict[str, float] = Field(default_factory=dict, description="Per element (e)")
    uptake_mol_per_kg: float | None = Field(None, description="Absolute CO2 uptake (mol/kg)")
    uptake_error: float | None = Field(None, description="Block-average error (mol/kg)")
    uptake_molecules: float | None = Field(
        None, description="Mean CO2 molecules adsorbed in the GCMC's simulation box"
    )
    uptake_converged: bool | None = Field(
        None, description="A molecule adsorbed and the error no larger than the uptake"
    )
    gcmc_cycles: int | None = Field(None, description="GCMC production cycles")
    gcmc_unit_cells: list[int] | None = Field(
        None, description="Unit cells of the GCMC box (a, b, c); the uptake is per kg"
    )
    excess_mol_per_kg: float | None = Field(None, description="Excess CO2 uptake (mol/kg)")
    adsorption_temperature: float | None = Field(None, description="GCMC temperature (K)")
    adsorption_pressure: float | None = Field(None, description="CO2 pressure (Pa)")
    structure_initial: Structure | None = Field(None, description="As assembled or read")
    structure: Structure | None = Field(None, description="Optimised, else as assembled or read")
