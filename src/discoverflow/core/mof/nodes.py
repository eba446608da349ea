"""Metal nodes as pormake building blocks, and the topologies they fit.

Connection points (X) follow pormake: an X sits at the middle of the bond it stands for. A
carboxylate node holds the carboxylate carbons, so a linker's X lies halfway between its ring
atom and its At dummy (the carboxylic carbon); an axial pillar X on a paddlewheel lies halfway
along the metal-N bond, and a nitrile linker's X halfway between N and its Fr dummy.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

METAL_N_BOND = 2.05
"""Zn-N / Cu-N distance of an axial pillar on a paddlewheel (angstrom)."""


@dataclass(frozen=True)
class NodeSpec:
    """A node by name: its pormake building block and how it connects."""

    name: str
    pormake_bb: str
    metal: str
    connections: int
    pillared: bool = False
    description: str = ""
    alternating: bool = False
    """Neighbouring nodes turn 90 degrees to each other (Zn4O in MOF-5), so the repeat unit
    of a one-node net is a 2x2x2 supercell."""


NODES = {
    "Zn4O": NodeSpec(
        "Zn4O", "N16", "Zn", 6, description="Zn4O(CO2)6, the MOF-5 family", alternating=True
    ),
    "Zn-paddlewheel": NodeSpec(
        "Zn-paddlewheel", "N153", "Zn", 4, description="Zn2(CO2)4 paddlewheel"
    ),
    "Cu-paddlewheel": NodeSpec(
        "Cu-paddlewheel", "N409", "Cu", 4, description="Cu2(CO2)4 paddlewheel (HKUST-1's)"
    ),
    "Zn-paddlewheel-pillared": NodeSpec(
        "Zn-paddlewheel-pillared", "N153", "Zn", 6, True, "Zn2(CO2)4 with two axial N pillars"
    ),
    "Cu-paddlewheel-pillared": NodeSpec(
        "Cu-paddlewheel-pillared", "N409", "Cu", 6, True, "Cu2(CO2)4 with two axial N pillars"
    ),
}


@functools.cache
def pormake_module():
    """pormake, imported without its runtime.log in the working folder and quiet below WARNING."""
    try:
        with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
            import pormake
    except ImportError as error:
        raise ImportError("MOF assembly needs pormake: pip install 'discoverflow[mof]'") from error
    log = pormake.log
    log.logger.removeHandler(log.file_log_handler)
    log.file_log_handler.close()
    log.console_log_handler.setLevel(logging.WARNING)
    return pormake


def write_building_block(
    path: Path, symbols: list[str], positions: np.ndarray, bonds: list[tuple[int, int]]
) -> Path:
    """A pormake building-block XYZ file (atoms, then bonds as ``i j S``)."""
    lines = [str(len(symbols)), " ".join(str(i) for i, s in enumerate(symbols) if s == "X")]
    lines += [
        f"{s} {x:.6f} {y:.6f} {z:.6f}" for s, (x, y, z) in zip(symbols, positions, strict=False)
    ]
    lines += [f"{i} {j} S" for i, j in bonds]
    path.write_text("\n".join(lines) + "\n")
    return path


def building_block(name: str, symbols: list[str], positions: np.ndarray, bonds):
    """A pormake BuildingBlock from atoms with X connection points."""
    pormake = pormake_module()
    with tempfile.TemporaryDirectory() as folder:
        path = write_building_block(Path(folder) / f"{name}.xyz", symbols, positions, bonds)
        return pormake.BuildingBlock(str(path))


def node_building_block(spec: NodeSpec):
    """The pormake building block of a node; pillared paddlewheels get two axial X."""
    pormake = pormake_module()
    bb = pormake.Database().get_bb(spec.pormake_bb)
    if not spec.pillared:
        return bb
    atoms = bb.atoms
    symbols = atoms.get_chemical_symbols()
    positions = atoms.positions.copy()
    metals = [i for i, s in enumerate(symbols) if s == spec.metal]
    first, second = positions[metals[0]], positions[metals[1]]
    axis = (first - second) / np.linalg.norm(first - second)
    extra = [first + 0.5 * METAL_N_BOND * axis, second - 0.5 * METAL_N_BOND * axis]
    bonds = [tuple(int(k) for k in b) for b in bb.bonds]
    bonds += [(metals[0], len(symbols)), (metals[1], len(symbols) + 1)]
    return building_block(spec.name, [*symbols, "X", "X"], np.vstack([positions, extra]), bonds)
