"""Pore descriptors of a framework with Zeo++ (``pyzeo``): spheres, surface area, void space."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from pymatgen.core import Structure
from pymatgen.io.cif import CifWriter

CO2_PROBE_RADIUS = 1.65
"""Half CO2's kinetic diameter (3.3 A)."""
JIGGLE = 0.001
"""Displacement (A) that lifts the degeneracy of an exactly symmetric cell for Zeo++."""


class ZeoFailed(RuntimeError):
    """Zeo++ stopped on this structure."""


@dataclass
class PoreDescriptors:
    """Zeo++'s -res, -sa and -vol results (Zeo++'s default atomic radii)."""

    largest_included_sphere: float
    """Diameter of the largest sphere that fits in the framework (A)."""
    largest_free_sphere: float
    """Diameter of the largest sphere that can travel through it (A)."""
    included_sphere_along_free_path: float
    """Diameter of the largest included sphere along the free sphere's path (A)."""
    accessible_surface_area_m2_g: float
    accessible_surface_area_a2: float
    """Per cell (A^2)."""
    accessible_volume_fraction: float
    """Fraction of the cell the probe's centre reaches."""
    void_fraction: float
    """Geometric void fraction (a point probe)."""
    density_g_cm3: float
    probe_radius: float
    """Probe of the surface area and accessible volume (A)."""

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def zeo_field(text: str, name: str) -> float:
    """A number Zeo++ printed after ``name:``.

    Parameters
    ----------
    text
        Zeo++'s output.
    name
        The field's name (e.g. ``ASA_m^2/g``).

    Returns
    -------
    float
        Its value."""
    found = re.search(rf"{re.escape(name)}:\s*([-+0-9.eE]+)", text)
    if found is None:
        raise RuntimeError(f"Zeo++ gave no {name}: {text!r}")
    return float(found.group(1))


def run_zeo(
    structure: Structure, probe_radius: float, surface_samples: int, volume_samples: int
) -> dict:
    """Zeo++'s results for a structure, from a separate Python process (``zeo_worker``)."""
    try:
        import pyzeo  # noqa: F401
    except ImportError as error:
        raise ImportError("pore descriptors need pyzeo: pip install 'discoverflow[mof]'") from error
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CifWriter: labels of a supercell repeat
        cif = Path(folder) / "framework.cif"
        CifWriter(structure).write_file(str(cif))
        numbers = (probe_radius, surface_samples, volume_samples)
        command = [sys.executable, "-m", "discoverflow.core.mof.zeo_worker", str(cif)]
        result = subprocess.run(
            [*command, *map(str, numbers)], capture_output=True, text=True, cwd=folder
        )
    if result.returncode != 0 or not result.stdout:
        noise = ("Opening File", "Point ")
        lines = [s for s in result.stderr.splitlines() if s.strip() and not s.startswith(noise)]
        raise ZeoFailed(" ".join(lines[-2:]) or f"Zeo++ stopped (exit code {result.returncode})")
    return json.loads(result.stdout)


def displaced(structure: Structure, distance: float = JIGGLE, seed: int = 0) -> Structure:
    """Every atom moved by about ``distance`` A in a random direction (seeded)."""
    steps = np.random.default_rng(seed).normal(0.0, distance, (len(structure), 3))
    return Structure(
        structure.lattice,
        structure.species,
        structure.cart_coords + steps,
        coords_are_cartesian=True,
    )


def pore_descriptors(
    structure: Structure,
    probe_radius: float = CO2_PROBE_RADIUS,
    surface_samples: int = 2000,
    volume_samples: int = 50000,
) -> PoreDescriptors:
    """Largest included and free spheres, accessible surface area and volume with a probe of
    ``probe_radius`` (Monte Carlo: samples per atom for the area, per cell for the volume).

    Zeo++ handles periodic images itself (no supercell). Where its Voronoi network of an
    exactly symmetric cell is degenerate (Zeo++ stops), the atoms are displaced by
    ``JIGGLE`` A and it runs again; a second stop raises ZeoFailed.
    """
    settings = (probe_radius, surface_samples, volume_samples)
    try:
        found = run_zeo(structure, *settings)
    except ZeoFailed:
        found = run_zeo(displaced(structure), *settings)
    area, accessible, void = found["area"], found["accessible"], found["void"]
    spheres = found["spheres"]
    return PoreDescriptors(
        largest_included_sphere=spheres[0],
        largest_free_sphere=spheres[1],
        included_sphere_along_free_path=spheres[2],
        accessible_surface_area_m2_g=zeo_field(area, "ASA_m^2/g"),
        accessible_surface_area_a2=zeo_field(area, "ASA_A^2"),
        accessible_volume_fraction=zeo_field(accessible, "AV_Volume_fraction"),
        void_fraction=zeo_field(void, "AV_Volume_fraction"),
        density_g_cm3=zeo_field(area, "Density"),
        probe_radius=probe_radius,
    )
