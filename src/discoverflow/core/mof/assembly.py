"""Assemble MOFs from linkers and a metal node on an RCSR topology with pormake.

pormake places the building blocks; the linkers are then turned about their anchor-anchor
axes so that their end rings lie in the plane of the carboxylates they bind (pormake leaves
that angle arbitrary), and the framework is checked for overlapping atoms.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import Field, field_validator
from pymatgen.core import Lattice, Structure

from discoverflow.core.mof.linkers import ProcessedLinker
from discoverflow.core.mof.nodes import (
    NODES,
    NodeSpec,
    building_block,
    node_building_block,
    pormake_module,
)
from discoverflow.core.mof.overlap import closest_approach, find_overlaps
from discoverflow.settings import PositiveInt, StageSettings

PCU_TWO_NODE_CGD = """CRYSTAL
  NAME pcu
  GROUP P1
  CELL 1.41421356 1.41421356 1.41421356 60.0 60.0 60.0
  NODE 1 6 0.0 0.0 0.0
  NODE 2 6 0.5 0.5 0.5
  EDGE 0.0 0.0 0.0 0.5 0.5 -0.5
  EDGE 0.0 0.0 0.0 -0.5 -0.5 0.5
  EDGE 0.0 0.0 0.0 0.5 -0.5 0.5
  EDGE 0.0 0.0 0.0 -0.5 0.5 -0.5
  EDGE 0.0 0.0 0.0 -0.5 0.5 0.5
  EDGE 0.0 0.0 0.0 0.5 -0.5 -0.5
END
"""
"""pcu with two nodes in an fcc primitive cell: the smallest cell in which neighbouring nodes
alternate (MOF-5's 106-atom primitive cell; its conventional Fm-3m cell holds eight nodes)."""

MAX_NODE_RMSD = 0.3
"""Largest pormake RMSD between a node's connection points and a topology slot."""


class AssemblySettings(StageSettings):
    """Which node on which net, how linkers combine, and what counts as overlapping atoms."""

    node: str = Field("Zn4O", description="Zn4O, Zn/Cu-paddlewheel, Zn/Cu-paddlewheel-pillared")
    topology: str = Field("pcu", description="An RCSR net in pormake's database")
    max_mofs: PositiveInt = Field(32, description="MOFs assembled per round")
    linkers_per_mof: PositiveInt = Field(1, description="Distinct carboxylate linkers per MOF")
    supercell: PositiveInt | None = Field(
        None, description="Repeat the net (default: the smallest cell alternating nodes need)"
    )
    primitive: bool = Field(True, description="Reduce assembled cells to primitive ones")
    overlap_scale: float = Field(
        0.7, gt=0, lt=1.5, description="Atoms closer than this x covalent-radius sum overlap"
    )
    pair_minima: dict[str, float] = Field(
        default_factory=dict, description='Closest allowed distance per pair (A), e.g. {"H-H": 1.2}'
    )

    @field_validator("node")
    @classmethod
    def known_node(cls, node: str) -> str:
        if node not in NODES:
            raise ValueError(f"unknown node (known: {', '.join(NODES)})")
        return node

    @property
    def anchors(self) -> tuple[str, ...]:
        """Anchor types the node takes: carboxylates, and nitrile pillars if pillared."""
        return ("COO", "CN") if NODES[self.node].pillared else ("COO",)


def linker_combinations(
    linkers: list[ProcessedLinker], settings: AssemblySettings, rng: np.random.Generator
) -> list[tuple[list[ProcessedLinker], ProcessedLinker | None]]:
    """One MOF per carboxylate linker (at most ``max_mofs``), joined by ``linkers_per_mof - 1``
    others drawn at random, and a random pillar (a CN linker) for pillared nodes."""
    carboxylates = [p for p in linkers if p.anchor_type == "COO"]
    pillars = [p for p in linkers if p.anchor_type == "CN"]
    pillared = NODES[settings.node].pillared
    combos = []
    for index, first in enumerate(carboxylates[: settings.max_mofs]):
        others = [c for k, c in enumerate(carboxylates) if k != index]
        extra = min(settings.linkers_per_mof - 1, len(others))
        group = [first] + [others[k] for k in rng.choice(len(others), extra, replace=False)]
        pillar = pillars[int(rng.integers(len(pillars)))] if pillared and pillars else None
        combos.append((group, pillar))
    return combos


class AssemblyFailed(ValueError):
    """A MOF that cannot be built, with the reason."""


@dataclass
class AssembledMOF:
    """A MOF assembled on a net: its cell (sites sorted by element), ``node``, ``topology``
    (the RCSR net), the carboxylate ``linkers`` and the nitrile ``pillar`` (SMILES), the RMSD
    of the node's fit to the net's vertex and the shortest interatomic distance (A), and the
    site indices of each placed linker (``linker_slots``)."""

    structure: Structure
    node: str
    topology: str
    linkers: list[str]
    pillar: str | None = None
    node_rmsd: float = 0.0
    closest_approach: float = 0.0
    linker_slots: list[list[int]] = field(default_factory=list)


def _anchor_partners(linker: ProcessedLinker) -> list[int]:
    """For each anchor dummy, the linker atom it is bonded to (the nearest non-H atom)."""
    positions = linker.positions
    partners = []
    for anchor in linker.anchor_indices:
        distances = np.linalg.norm(positions - positions[anchor], axis=1)
        for index in np.argsort(distances)[1:]:
            if linker.symbols[index] not in ("H", "At", "Fr"):
                partners.append(int(index))
                break
    return partners


def linker_building_block(linker: ProcessedLinker):
    """The linker as a pormake edge: each dummy becomes an X halfway along its bond."""
    positions = linker.positions
    partners = _anchor_partners(linker)
    symbols = list(linker.symbols)
    new_positions = positions.copy()
    for anchor, partner in zip(linker.anchor_indices, partners, strict=False):
        symbols[anchor] = "X"
        new_positions[anchor] = 0.5 * (positions[anchor] + positions[partner])
    return building_block(f"linker-{linker.anchor_type}", symbols, new_positions, [])


def check_topology(topology_name: str, spec: NodeSpec):
    """The pormake topology, if all its node slots take this node; AssemblyFailed otherwise."""
    database = pormake_module().Database()
    if topology_name not in database.topo_list:
        raise AssemblyFailed(f"pormake has no topology {topology_name!r}")
    topology = database.get_topo(topology_name)
    connectivities = sorted({int(cn) for cn in topology.unique_cn})
    if connectivities != [spec.connections]:
        raise AssemblyFailed(
            f"{spec.name} is {spec.connections}-connected; topology {topology_name} has "
            f"{'/'.join(map(str, connectivities))}-connected nodes"
        )
    return topology


def quarter_turn_permutation(node_bb) -> np.ndarray | None:
    """How a 90-degree turn about the first connection point's axis permutes the connection
    points, or None if the node's points are not symmetric under it."""
    points = node_bb.atoms.positions[node_bb.connection_point_indices]
    vectors = points - points.mean(axis=0)
    turned = vectors @ _rotation(vectors[0] / np.linalg.norm(vectors[0]), np.pi / 2).T
    distances = np.linalg.norm(turned[:, None, :] - vectors[None, :, :], axis=-1)
    mapping = distances.argmin(axis=1)
    if distances.min(axis=1).max() > 0.3 or len(set(mapping)) != len(mapping):
        return None
    return mapping


def node_colouring(topology) -> dict[int, int] | None:
    """Two colours for the nodes so that bonded nodes differ, or None if the net (with its
    periodic images) has odd rings in this cell."""
    neighbours: dict[int, set[int]] = {int(n): set() for n in topology.node_indices}
    for edge in topology.edge_indices:
        first, second = (int(n.index) for n in topology.neighbor_list[edge])
        neighbours[first].add(second)
        neighbours[second].add(first)
    colour: dict[int, int] = {}
    for start in neighbours:
        if start in colour:
            continue
        colour[start], queue = 0, [start]
        while queue:
            node = queue.pop()
            for other in neighbours[node]:
                if other == node:
                    return None
                if other not in colour:
                    colour[other] = 1 - colour[node]
                    queue.append(other)
                elif colour[other] == colour[node]:
                    return None
    return colour


def alternating_topology(topology_name: str, topology):
    """The smallest cell of the net in which nodes can alternate."""
    if node_colouring(topology) is not None:
        return topology
    if topology_name == "pcu":
        pormake = pormake_module()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "pcu.cgd"
            path.write_text(PCU_TWO_NODE_CGD)
            return pormake.Topology(str(path))
    doubled = topology * 2
    if node_colouring(doubled) is None:
        raise AssemblyFailed(f"nodes cannot alternate on {topology_name}")
    return doubled


def _slot_assignment(topology, node_bb, spec: NodeSpec, locator):
    """Node permutations and, for pillared nodes, the edges that take the pillar."""
    permutations, pillar_edges, carboxylate_edges, rmsds = {}, set(), set(), []
    axial = set(node_bb.connection_point_indices[-2:]) if spec.pillared else set()
    turn = quarter_turn_permutation(node_bb) if spec.alternating else None
    colouring = node_colouring(topology) if turn is not None else None
    for node in topology.node_indices:
        _, perm, rmsd = locator.locate(topology.local_structure(node), node_bb)
        if colouring and colouring[int(node)]:
            perm = turn[perm]
            _, rmsd = locator.locate_with_permutation(topology.local_structure(node), node_bb, perm)
        rmsds.append(rmsd)
        permutations[int(node)] = perm
        for slot, neighbor in enumerate(topology.neighbor_list[node]):
            cp = node_bb.connection_point_indices[perm][slot]
            (pillar_edges if cp in axial else carboxylate_edges).add(int(neighbor.index))
    if pillar_edges & carboxylate_edges:
        raise AssemblyFailed("pillars cannot be placed consistently on this topology")
    return permutations, pillar_edges, max(rmsds)


def assemble_mof(
    linkers: list[ProcessedLinker],
    pillar: ProcessedLinker | None = None,
    settings: AssemblySettings | None = None,
) -> AssembledMOF:
    """Build a MOF; ``linkers`` fill the carboxylate edges in turn, ``pillar`` the axial ones.

    Alternating nodes (Zn4O, whose neighbours turn against each other as in MOF-5) get the
    smallest cell in which they can alternate; ``supercell`` repeats the net instead
    (``supercell=1`` keeps a one-node pcu cell with all nodes alike). Raises AssemblyFailed
    with the reason (topology mismatch, missing pillar, overlaps).

    ``linkers`` are processed carboxylate linkers, ``pillar`` a processed nitrile for pillared
    nodes, ``settings`` the node, net and overlap criteria (None: the defaults); returns the
    ``AssembledMOF``.
    """
    settings = settings or AssemblySettings()
    node, topology, supercell = settings.node, settings.topology, settings.supercell
    pormake = pormake_module()
    spec = NODES[node]
    if not linkers or any(linker.anchor_type != "COO" for linker in linkers):
        raise AssemblyFailed("carboxylate nodes need one or more COO linkers")
    if spec.pillared and (pillar is None or pillar.anchor_type != "CN"):
        raise AssemblyFailed(f"{node} needs a CN pillar linker")
    topo = check_topology(topology, spec)
    if supercell and supercell > 1:
        topo = topo * supercell
    elif supercell is None and spec.alternating:
        topo = alternating_topology(topology, topo)
    node_bb = node_building_block(spec)
    locator = pormake.Locator()
    permutations, pillar_edges, rmsd = _slot_assignment(topo, node_bb, spec, locator)
    if rmsd > MAX_NODE_RMSD:
        raise AssemblyFailed(f"{node} fits {topology} poorly (RMSD {rmsd:.2f} > {MAX_NODE_RMSD})")

    linker_bbs = [linker_building_block(linker) for linker in linkers]
    pillar_bb = linker_building_block(pillar) if spec.pillared else None
    bbs, edge_linkers, carboxylate_count = [None] * topo.n_all_points, {}, 0
    for index in topo.node_indices:
        bbs[index] = node_bb
    for index in topo.edge_indices:
        if int(index) in pillar_edges:
            bbs[index], edge_linkers[int(index)] = pillar_bb, pillar
        else:
            choice = carboxylate_count % len(linkers)
            bbs[index], edge_linkers[int(index)] = linker_bbs[choice], linkers[choice]
            carboxylate_count += 1
    builder = pormake.Builder(locator=locator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        framework = builder.build(topo, bbs, permutations=permutations)

    atoms = framework.atoms
    structure = Structure(
        Lattice(np.array(atoms.cell)),
        atoms.get_chemical_symbols(),
        atoms.positions,
        coords_are_cartesian=True,
    )
    slots = _edge_slots(topo, bbs)
    adjacency = _adjacency(len(structure), framework.bonds)
    for indices in slots.values():
        _align_edge(structure, indices, adjacency)
    overlaps = find_overlaps(structure, settings.overlap_scale, settings.pair_minima or None)
    if overlaps:
        worst = min(overlaps, key=lambda o: o.distance / o.minimum)
        raise AssemblyFailed(
            f"{len(overlaps)} overlapping atom pairs (closest {worst.pair} at "
            f"{worst.distance:.2f} A, minimum {worst.minimum:.2f} A)"
        )
    return AssembledMOF(
        structure=structure.get_sorted_structure(),
        node=node,
        topology=topology,
        linkers=[edge_linkers[e].smiles for e in sorted(edge_linkers) if e not in pillar_edges],
        pillar=pillar.smiles if spec.pillared else None,
        node_rmsd=float(rmsd),
        closest_approach=closest_approach(structure),
        linker_slots=[indices for indices in slots.values()],
    )


def _edge_slots(topology, bbs) -> dict[int, list[int]]:
    """Framework atom indices of each edge's building block (pormake keeps slot order)."""
    slots, offset = {}, 0
    edges = {int(e) for e in topology.edge_indices}
    for index, bb in enumerate(bbs):
        if bb is None:
            continue
        count = bb.n_atoms - bb.n_connection_points
        if index in edges:
            slots[index] = list(range(offset, offset + count))
        offset += count
    return slots


def _adjacency(count: int, bonds: np.ndarray) -> list[set[int]]:
    adjacency: list[set[int]] = [set() for _ in range(count)]
    for i, j in np.asarray(bonds, dtype=int):
        adjacency[i].add(j)
        adjacency[j].add(i)
    return adjacency


def _unwrapped(structure: Structure, indices: list[int], origin: np.ndarray) -> np.ndarray:
    """Cartesian positions of ``indices`` as the images nearest to ``origin``."""
    lattice = structure.lattice
    frac = structure.frac_coords[indices] - lattice.get_fractional_coords(origin)
    frac -= np.round(frac)
    return lattice.get_cartesian_coords(frac) + origin


def _plane_normal(center: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    normal = np.cross(a - center, b - center)
    length = np.linalg.norm(normal)
    return normal / length if length > 1e-6 else None


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    x, y, z = axis
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def _align_edge(structure: Structure, indices: list[int], adjacency: list[set[int]]) -> None:
    """Turn an edge about its end-to-end axis to make its end rings coplanar with the node."""
    members = set(indices)
    ends = [i for i in indices if adjacency[i] - members]
    if len(ends) != 2:
        return
    origin = structure.cart_coords[ends[0]]
    positions = _unwrapped(structure, indices, origin)
    local = {atom: k for k, atom in enumerate(indices)}
    start, stop = positions[local[ends[0]]], positions[local[ends[1]]]
    axis = (stop - start) / np.linalg.norm(stop - start)
    pairs = []
    for end in ends:
        center = positions[local[end]]
        heavy = [n for n in adjacency[end] & members if structure[n].specie.symbol != "H"]
        outside = next(iter(adjacency[end] - members))
        partner = _unwrapped(structure, [outside], center)[0]
        partner_neighbors = [n for n in adjacency[outside] if n not in members]
        if len(heavy) < 2 or len(partner_neighbors) < 2:
            continue
        linker_normal = _plane_normal(center, *positions[[local[n] for n in heavy[:2]]])
        node_normal = _plane_normal(partner, *_unwrapped(structure, partner_neighbors[:2], partner))
        if linker_normal is not None and node_normal is not None:
            pairs.append((linker_normal, node_normal))
    if not pairs:
        return
    angles = np.radians(np.arange(0, 180, 0.25))
    scores = [sum(float((_rotation(axis, a) @ ln) @ nn) ** 2 for ln, nn in pairs) for a in angles]
    best = angles[int(np.argmax(scores))]
    if best == 0:
        return
    rotated = (positions - start) @ _rotation(axis, best).T + start
    for atom, position in zip(indices, rotated, strict=False):
        structure.replace(atom, structure[atom].species, position, coords_are_cartesian=True)
