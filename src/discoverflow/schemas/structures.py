"""Structures as job outputs store them: plain arrays where that loses nothing.

A generation stores 1e4-1e5 structures; as pymatgen's ``as_dict`` each is a tree of one
dict per site, which jobflow walks on every write and every read. The compact form keeps
the lattice matrix (9 numbers, row by row), the element symbols and the fractional
coordinates (3 per site, site by site) as flat lists: four containers whatever the size,
which is what jobflow's passes and Python's cycle collector walk. It reads back into the
same ``Structure`` (coordinates to the last bit), as does the earlier form with nested
lists. Structures with
oxidation states, disorder, a charge, labels or properties keep pymatgen's form.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from monty.json import jsanitize
from pydantic import PlainSerializer, PlainValidator
from pymatgen.core import Element, Structure

COMPACT_KEYS = frozenset({"lattice", "species", "frac_coords"})


def compact_structure(structure: Structure) -> dict[str, Any]:
    """``structure`` as lattice matrix, element symbols and fractional coordinates, or as
    pymatgen's dict where those would lose something."""
    symbols = element_symbols(structure)
    if symbols is None or structure.properties or structure.site_properties:
        return structure.as_dict()
    return {
        "lattice": structure.lattice.matrix.ravel().tolist(),
        "species": symbols,
        "frac_coords": structure.frac_coords.ravel().tolist(),
    }


def element_symbols(structure: Structure) -> list[str] | None:
    """The element on each site, or None where a site holds anything else (disorder, an
    oxidation state, a label of its own) or the structure has a charge."""
    sites = element_sites(structure)
    if sites is None or structure.charge:
        return None
    return [symbol for symbol, _ in sites]


def element_sites(structure: Structure) -> list[tuple[str, float]] | None:
    """Each site's element and occupancy (1, as pymatgen holds it), or None where a site holds
    anything else or has a label of its own; one pass over the sites, where pymatgen's
    ``is_ordered``, ``species`` and ``labels`` take one each."""
    sites = []
    for site in structure:
        species = site.species
        if len(species) != 1:
            return None
        ((specie, amount),) = species.items()
        if amount != 1 or type(specie) is not Element or site.label != specie.symbol:
            return None
        sites.append((specie.symbol, amount))
    return sites


def structure_dict(structure: Structure) -> dict[str, Any]:
    """``structure.as_dict()`` as ``jsanitize`` leaves it. A plain crystal's is built from its
    arrays (pymatgen's serialises the lattice again for every site): the same dict, 3x
    faster."""
    return sites_dict(structure, element_sites(structure))


def sites_dict(structure: Structure, sites: list[tuple[str, float]] | None) -> dict[str, Any]:
    """``structure_dict`` of a structure whose ``element_sites`` are ``sites``."""
    charge = structure.charge
    if sites is None or charge or structure.properties or structure.site_properties:
        return jsanitize(structure.as_dict(), strict=True, allow_bson=True)
    lattice = structure.lattice
    xyz = [site.coords.tolist() for site in structure]
    return {
        "@module": type(structure).__module__,
        "@class": type(structure).__name__,
        "charge": charge,
        "lattice": {
            "matrix": lattice.matrix.tolist(),
            "pbc": [bool(periodic) for periodic in lattice.pbc],
            **lattice.params_dict,
            "volume": lattice.volume,
        },
        "properties": {},
        "sites": [
            {
                "species": [{"element": symbol, "occu": occupancy}],
                "abc": abc,
                "properties": {},
                "label": symbol,
                "xyz": cartesian,
            }
            for (symbol, occupancy), abc, cartesian in zip(
                sites, structure.frac_coords.tolist(), xyz, strict=True
            )
        ],
    }


def stored_structure(value: Any) -> Structure:
    """A ``Structure`` from either stored form (or a ``Structure`` itself)."""
    if isinstance(value, Structure):
        return value
    if isinstance(value, dict) and COMPACT_KEYS.issuperset(value) and "species" in value:
        return Structure(
            np.reshape(value["lattice"], (3, 3)),
            value["species"],
            np.reshape(value["frac_coords"], (-1, 3)),
        )
    if isinstance(value, dict):
        return Structure.from_dict(value)
    raise TypeError(f"not a structure: {type(value).__name__}")


CompactStructure = Annotated[
    Structure, PlainValidator(stored_structure), PlainSerializer(compact_structure)
]
"""A ``Structure`` field stored in the compact form where it loses nothing."""
