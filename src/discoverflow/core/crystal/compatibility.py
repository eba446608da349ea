"""MP2020 corrections when GGA and GGA+U energies meet on one hull."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymatgen.entries.computed_entries import ComputedEntry


def needs_mp2020(entries: Mapping[str, ComputedEntry]) -> bool:
    """True when some entries are GGA+U: then plain GGA and GGA+U energies would be mixed.

    Parameters
    ----------
    entries
        Key -> computed entry (its ``is_hubbard`` parameter).

    Returns
    -------
    bool
        Whether MP2020 corrections apply.
    """
    return any(entry.parameters.get("is_hubbard") for entry in entries.values())


def mp2020_energies_per_atom(
    entries: Mapping[str, ComputedEntry],
) -> dict[str, tuple[float | None, str | None]]:
    """(corrected energy per atom, None) for each entry, or (None, why) when rejected.

    Parameters
    ----------
    entries
        Key -> computed entry with its run parameters.

    Returns
    -------
    dict
        Key -> (corrected energy per atom (eV/atom) or None, reason for a rejection or None).
    """
    # a second to import (VASP input sets, local environments): only when a hull mixes U
    from pymatgen.entries.compatibility import CompatibilityError, MaterialsProject2020Compatibility

    compatibility = MaterialsProject2020Compatibility(check_potcar=False)
    corrected: dict[str, tuple[float | None, str | None]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, entry in entries.items():
            try:
                processed = compatibility.process_entries(
                    [entry], clean=True, inplace=False, on_error="raise"
                )
            except CompatibilityError as exc:
                corrected[key] = (None, str(exc).split(" for {")[0])
                continue
            corrected[key] = (
                (processed[0].energy_per_atom, None) if processed else (None, "rejected")
            )
    return corrected
