"""mofchecker's structure checks, on the framework's covalent bond graph.

mofchecker 0.9.6 (PyPI) does not import beside current pymatgen: its structuregraph-helpers
imports ``BrunnerNN_relative``, which pymatgen has removed, and it needs libconeangle (no
wheel; Fortran) and pyeqeq (fails to build against Python 3.11's headers). These are its
checks, computed here: overlapping atoms, over- and under-coordinated C, N and H, missing
hydrogens, open metal sites (geometrically exposed metals: a large empty cone in the metal's
coordination sphere) and charge balance from the ligands' formal charges.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from pydantic import Field
from pymatgen.core import Element, Structure

from discoverflow.core.mof.overlap import DEFAULT_SCALE, find_overlaps
from discoverflow.core.mof.pores import CO2_PROBE_RADIUS, PoreDescriptors, pore_descriptors
from discoverflow.core.mof.solvent import FreeMolecule, free_molecules, without_solvent
from discoverflow.core.mof.supercell import Repeats, first_image, original_site
from discoverflow.core.mof.uff4mof import BondGraph, angle, framework_graph, is_metal, planar
from discoverflow.settings import PositiveInt, StageSettings

MAX_NEIGHBOURS = {"H": 1, "C": 4, "N": 4}
FAILURES = (
    "overlapping_atoms",
    "overcoordinated",
    "undercoordinated",
    "missing_hydrogens",
    "charge_imbalance",
)


class CharacterisationSettings(StageSettings):
    """Pore descriptors (Zeo++) and mofchecker's checks of each assembled MOF; a MOF failing
    one of ``reject`` leaves the loop before the stability MD."""

    probe_radius: float = Field(CO2_PROBE_RADIUS, gt=0, description="Zeo++ probe radius (A)")
    surface_samples: PositiveInt = Field(2000, description="Zeo++ surface samples per atom")
    volume_samples: PositiveInt = Field(50000, description="Zeo++ volume samples per cell")
    open_metal_cone: float = Field(
        80.0, gt=0, lt=180, description="A metal is open above this empty-cone half-angle (deg)"
    )
    overlap_scale: float = Field(
        DEFAULT_SCALE, gt=0, description="Atoms closer than this x covalent-radius sum overlap"
    )
    reject: list[str] = Field(
        default_factory=lambda: list(FAILURES),
        description=f"Failed checks that remove a MOF: any of {', '.join(FAILURES)}",
    )
    min_free_sphere: float | None = Field(
        None, ge=0, description="Remove MOFs whose largest free sphere is narrower (A)"
    )
    remove_solvent: bool = Field(
        False,
        description="Remove free solvent (neutral molecules bonded to nothing, as CoRE MOF's "
        "solvent-free sets do) before the checks and every later stage; counter-ions stay",
    )


@dataclass
class CheckVerdicts:
    """The structure checks' findings on one MOF (sites by index in the original cell).

    Parameters
    ----------
    overlapping_atoms
        Sites closer than the overlap criterion.
    overcoordinated
        H, C and N sites with too many neighbours.
    undercoordinated
        H, C and N sites with too few.
    missing_hydrogens
        Whether undercoordinated sites suggest missing hydrogens.
    open_metal_sites
        Metal sites with an empty cone over 80 degrees in their coordination sphere.
    charge_balanced
        Whether the ligands' formal charges balance the metals (None: undecided).
    metal_oxidation_state
        The metals' mean oxidation state that balance implies.
    supercell
        Repeats of the cell whose bond graph the checks read."""

    overlapping_atoms: list[int] = field(default_factory=list)
    overcoordinated: list[int] = field(default_factory=list)
    undercoordinated: list[int] = field(default_factory=list)
    missing_hydrogens: bool = False
    open_metal_sites: list[int] = field(default_factory=list)
    charge_balanced: bool | None = None
    metal_oxidation_state: float | None = None
    supercell: list[int] = field(default_factory=lambda: [1, 1, 1])
    """Repeats of the cell whose bond graph the checks read."""

    def failures(self) -> dict[str, str]:
        found = {}
        for name in ("overlapping_atoms", "overcoordinated", "undercoordinated"):
            if sites := getattr(self, name):
                found[name] = f"{name.replace('_', ' ')} (sites {', '.join(map(str, sites[:8]))})"
        if self.missing_hydrogens:
            found["missing_hydrogens"] = "missing hydrogens"
        if self.charge_balanced is False:
            found["charge_imbalance"] = (
                f"not charge balanced (metals at {self.metal_oxidation_state:+.2f})"
            )
        return found

    def to_dict(self) -> dict:
        return asdict(self)


def largest_empty_cone(vectors: list[np.ndarray], directions: int = 20000) -> float:
    """Half-angle (deg) of the widest cone about a centre that holds none of its bonds."""
    if not vectors:
        return 180.0
    k = np.arange(directions) + 0.5
    polar, azimuth = np.arccos(1 - 2 * k / directions), np.pi * (1 + 5**0.5) * k
    sphere = np.stack(
        [np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)], 1
    )
    bonds = np.array([v / np.linalg.norm(v) for v in vectors])
    nearest = np.degrees(np.arccos(np.clip(sphere @ bonds.T, -1, 1))).min(axis=1)
    return float(nearest.max())


def undercoordinated(graph: BondGraph, i: int) -> bool:
    """C with one bond, two bent bonds or three pyramidal ones; N with one long bond."""
    symbol, vectors = graph.symbols[i], [v for _, v in graph.neighbours[i]]
    if symbol == "C":
        return (
            len(vectors) <= 1
            or (len(vectors) == 2 and angle(*vectors) < 160)
            or (len(vectors) == 3 and not planar(vectors))
        )
    if symbol == "N":
        return len(vectors) == 0 or (len(vectors) == 1 and np.linalg.norm(vectors[0]) > 1.25)
    return False


def ligand_charge(graph: BondGraph) -> float | None:
    """Formal charge of everything but the metals: -1 per carboxylate, -2 per oxo, -1 per
    hydroxo, 0 per water and N donor; None when a metal binds anything else."""
    charge, counted = 0.0, set()
    for i, symbol in enumerate(graph.symbols):
        if not is_metal(symbol):
            continue
        for j in graph.partners(i):
            if is_metal(graph.symbols[j]) or j in counted:
                continue
            partners = [graph.symbols[k] for k in graph.partners(j)]
            other = [p for p in partners if not is_metal(p)]
            if graph.symbols[j] == "N":
                counted.add(j)
            elif graph.symbols[j] == "O" and other == ["C"]:
                carbon = next(k for k in graph.partners(j) if graph.symbols[k] == "C")
                oxygens = [k for k in graph.partners(carbon) if graph.symbols[k] == "O"]
                if len(oxygens) != 2 or graph.degree(carbon) != 3:
                    return None
                counted.update(oxygens)
                charge -= 1
            elif graph.symbols[j] == "O" and other in ([], ["H"], ["H", "H"]):
                counted.add(j)
                charge -= 2 - len(other)
            else:
                return None
    return charge


def charge_balance(
    graph: BondGraph, repeats: Repeats, ions: list[FreeMolecule] = ()
) -> tuple[bool | None, float | None]:
    """Whether the framework metals' mean formal charge (from the ligands and the free
    counter-ions) is one of their known oxidation states."""
    free = {i for ion in ions for i in ion.sites}
    framework = [s for k, s in enumerate(graph.symbols) if original_site(k, repeats) not in free]
    metals = {s for s in framework if is_metal(s)}
    charge = ligand_charge(graph)
    if len(metals) != 1 or charge is None or any(ion.charge is None for ion in ions):
        return None, None
    (metal,) = metals
    charge += math.prod(repeats) * sum(ion.charge for ion in ions)
    state = -charge / framework.count(metal)
    known = set(Element(metal).common_oxidation_states) | set(Element(metal).icsd_oxidation_states)
    return any(abs(state - k) < 1e-6 for k in known), state


def check_mof(
    structure: Structure, settings: CharacterisationSettings, ions: list[FreeMolecule] = ()
) -> CheckVerdicts:
    """The checks on the bond graph of the supercell in which each bond joins two distinct
    atoms (``framework_graph``); sites are the original cell's. The charge balance counts the
    free counter-ions ``ions``."""
    graph, repeats = framework_graph(structure)
    overlaps = find_overlaps(structure, settings.overlap_scale)
    verdicts = CheckVerdicts(
        overlapping_atoms=sorted({o.site_i for o in overlaps} | {o.site_j for o in overlaps}),
        supercell=list(repeats),
    )
    for i in range(len(structure)):
        k = first_image(i, repeats)
        symbol = graph.symbols[k]
        if graph.degree(k) > MAX_NEIGHBOURS.get(symbol, 99):
            verdicts.overcoordinated.append(i)
        if undercoordinated(graph, k):
            verdicts.undercoordinated.append(i)
        if is_metal(symbol):
            cone = largest_empty_cone([v for _, v in graph.neighbours[k]])
            if cone > settings.open_metal_cone:
                verdicts.open_metal_sites.append(i)
    carbons = [i for i, site in enumerate(structure) if site.specie.symbol == "C"]
    verdicts.missing_hydrogens = bool(carbons) and (
        "H" not in graph.symbols or any(i in verdicts.undercoordinated for i in carbons)
    )
    if not overlaps:
        verdicts.charge_balanced, verdicts.metal_oxidation_state = charge_balance(
            graph, repeats, ions
        )
    return verdicts


@dataclass
class Characterisation:
    """A MOF's structure checks and pore descriptors.

    Parameters
    ----------
    checks
        The checks' findings.
    pores
        Zeo++'s descriptors, if computed.
    reasons
        Why the MOF is removed; empty if it goes on.
    structure
        The cell checked and passed on.
    free_molecules
        Molecules bonded to nothing else in the cell as read.
    solvent_removed
        Whether free solvent was removed."""

    checks: CheckVerdicts
    pores: PoreDescriptors | None
    reasons: list[str]
    """Why the MOF is removed (the failed checks in ``reject``); empty if it goes on."""
    structure: Structure
    """The cell checked and passed on: without its free solvent if ``remove_solvent``."""
    free_molecules: list[FreeMolecule] = field(default_factory=list)
    """Molecules bonded to nothing else in the cell as read (solvent, counter-ions)."""
    solvent_removed: bool = False


def characterise(structure: Structure, settings: CharacterisationSettings) -> Characterisation:
    """Free molecules (solvent removed if ``settings.remove_solvent``), mofchecker's checks,
    then Zeo++'s descriptors of a MOF without overlapping atoms.

    Parameters
    ----------
    structure
        The MOF's cell.
    settings
        The characterisation settings.

    Returns
    -------
    Characterisation
        The checks' findings, the pores and why the MOF is removed, if it is.
    """
    molecules = free_molecules(structure)
    removed = settings.remove_solvent and any(m.solvent for m in molecules)
    if removed:
        structure = without_solvent(structure, molecules)
    # the ions' sites, in the cell without solvent where it was removed
    ions = free_molecules(structure) if removed else [m for m in molecules if not m.solvent]
    checks = check_mof(structure, settings, ions)
    failed = checks.failures()
    reasons = [text for name, text in failed.items() if name in settings.reject]
    pores = None
    if "overlapping_atoms" not in failed:
        pores = pore_descriptors(
            structure, settings.probe_radius, settings.surface_samples, settings.volume_samples
        )
        narrow = settings.min_free_sphere
        if narrow is not None and pores.largest_free_sphere < narrow:
            reasons.append(f"largest free sphere {pores.largest_free_sphere:.2f} A < {narrow} A")
    return Characterisation(
        checks=checks,
        pores=pores,
        reasons=reasons,
        structure=structure,
        free_molecules=molecules,
        solvent_removed=removed,
    )
