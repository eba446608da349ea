"""The files a user reads after a hull: promising CIFs, ``hull.csv``, the plots, and a record
of the run that wrote them. Files of an earlier state (a CIF of a candidate no longer
promising, a plot no longer drawn) are removed; nothing else in the folder is touched."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition, Element, Structure
from pymatgen.io.cif import CifWriter

from discoverflow.core.crystal.plots import plot_parity, plot_phase_diagram, plot_stability_cdf
from discoverflow.core.crystal.stability import CIF_SYMPREC, HullRow, HullSettings

PROMISING_FOLDER = "promising"
HULL_TABLE = "hull.csv"
RUN_FILE = "run.json"
PLOTS = (
    "stability_cdf.png",
    "parity.png",
    "phase_diagram.png",
    "phase_diagram.html",
)
"""The plots this module draws (removed first, so that none outlives its data)."""


def formation_diagram(elements: Sequence[str], rows: Sequence[HullRow]) -> PhaseDiagram:
    """A phase diagram from formation energies (elements at zero): the hull of ``rows``
    drawn again from stored results, as the hull job computed it.

    Parameters
    ----------
    elements
        The system's elements.
    rows
        The entries on the hull, with their formation energies (eV/atom).

    Returns
    -------
    PhaseDiagram
        The diagram.
    """
    entries = [PDEntry(Composition(element), 0.0) for element in elements]
    for row in rows:
        composition = Composition(row.formula)
        entry = PDEntry(composition, row.formation_energy_per_atom * composition.num_atoms)
        entry.attribute = row.candidate_id
        entries.append(entry)
    return PhaseDiagram(entries, [Element(e) for e in elements])


def write_hull_outputs(
    folder: Path,
    diagram: PhaseDiagram,
    rows: Sequence[HullRow],
    promising: Mapping[str, Structure],
    elements: Sequence[str],
    settings: HullSettings,
    known_phases: Mapping[str, str | None] | None = None,
    scripts: Path | None = None,
) -> list[Path]:
    """Promising CIFs (exactly ``promising``), ``hull.csv`` (with the known phase each
    candidate matches, if any) and, with ``settings.plot``, the stability CDF, the parity plot
    and (2-4 elements) the phase diagram (loading plotly.js from ``scripts`` if given);
    returns the files written."""
    clear_hull_outputs(folder, keep=set(promising))
    cif_dir = folder / PROMISING_FOLDER
    cif_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for cid, structure in promising.items():
        path = cif_dir / f"{cid}.cif"
        CifWriter(structure, symprec=CIF_SYMPREC).write_file(path)
        written.append(path)
    table = folder / HULL_TABLE
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*(f.name for f in fields(HullRow)), "known_phase", "novelty"])
        for row in rows:
            label = (known_phases or {}).get(row.candidate_id)
            writer.writerow([*asdict(row).values(), label or "", "known" if label else "new"])
    written.append(table)
    if settings.plot and rows:
        written.extend(draw_hull_plots(folder, diagram, rows, elements, settings, scripts))
    return written


def clear_hull_outputs(folder: Path, keep: set[str] = frozenset()) -> None:
    """Remove the files ``write_hull_outputs`` writes (promising CIFs but those in ``keep``,
    the table, the plots); nothing else in ``folder``."""
    for stale in (folder / PROMISING_FOLDER).glob("*.cif"):
        if stale.stem not in keep:
            stale.unlink()
    for name in (HULL_TABLE, *PLOTS):
        (folder / name).unlink(missing_ok=True)


def draw_hull_plots(
    folder: Path,
    diagram: PhaseDiagram,
    rows: Sequence[HullRow],
    elements: Sequence[str],
    settings: HullSettings,
    scripts: Path | None = None,
) -> list[Path]:
    """Draw the campaign's phase diagram (PNG and HTML) and stability CDF.

    Parameters
    ----------
    folder
        Where the plots are written.
    diagram
        The campaign's phase diagram.
    rows
        The candidates on it.
    elements
        The system's elements (a diagram is drawn for 2-4 of them).
    settings
        The hull settings (the threshold of the entries shown).
    scripts
        A folder with ``plotly.min.js`` for offline HTML, if any.

    Returns
    -------
    list of Path
        The files written."""
    system = "-".join(elements)
    threshold = settings.e_above_hull_threshold
    written = [
        plot_stability_cdf(
            [row.e_above_hull for row in rows],
            threshold,
            folder / "stability_cdf.png",
            title=f"{system}: relaxed candidates",
        )
    ]
    if 2 <= len(elements) <= 4:
        title = f"{system} convex hull (entries within {threshold} eV/atom shown)"
        written.extend(plot_phase_diagram(diagram, folder, threshold, title, scripts=scripts))
    pairs = [
        (row.predicted_formation_energy_per_atom, row.formation_energy_per_atom)
        for row in rows
        if row.predicted_formation_energy_per_atom is not None
    ]
    if pairs:
        predicted, relaxed = zip(*pairs, strict=True)
        written.append(
            plot_parity(
                predicted, relaxed, folder / "parity.png", f"{system}: screening vs relaxed"
            )
        )
    return written


def write_run_record(folder: Path, run: Mapping[str, Any], files: Sequence[Path]) -> Path:
    """``run.json``: which campaign, store and hull result the folder's files show, and when
    they were written."""
    path = folder / RUN_FILE
    record = {
        **run,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": sorted(str(f.relative_to(folder)) for f in files),
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
