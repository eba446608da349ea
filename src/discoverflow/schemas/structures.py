"""Structures as job outputs store them: plain arrays where that loses nothing.

A generation stores 1e4-1e5 structures; as pymatgen's ``as_dict`` each is a tree of one
dict per site, which jobflow walks on every write and every read. The compact form keeps
the lattice matrix, the element symbols and the fractional coordinates as plain lists,
read back into the same ``Structure`` (coordinates to the last bit). Structures with
oxidation states, disorder, a charge, labels or properties keep pymatgen's form.
"""

from __future__ import annotations

from typing import Annotated, Any

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
        "lattice": structure.lattice.matrix.tolist(),
        "species": symbols,
        "frac_coords": structure.frac_coords.tolist(),
    }


def element_symbols(structure: Structure) -> list[str] | None:
    """The element on each site, or None where a site holds anything else (disorder, an
    oxidation state, a label of its own) or the structure has a charge."""
    if not structure.is_ordered:
        return None
    species = structure.species
    if any(type(specie) is not Element for specie in species):
        return None
    symbols = [specie.symbol for specie in species]
    if structure.labels != symbols or structure.charge:
        return None
    return symbols


def stored_structure(value: Any) -> Structure:
    """A ``Structure`` from either stored form (or a ``Structure`` itself)."""
    if isinstance(value, Structure):
        return value
    if isinstance(value, dict) and COMPACT_KEYS.issuperset(value) and "species" in value:
        return Structure(value["lattice"], value["species"], value["frac_coords"])
    if isinstance(value, dict):
        return Structure.from_dict(value)
    raise TypeError(f"not a structure: {type(value).__name__}")


CompactStructure = Annotated[
    Structure, PlainValidator(stored_structure), PlainSerializer(compact_structure)
]
"""A ``Structure`` field stored in the compact form where it loses nothing."""
