"""Pore descriptors of a framework with Zeo++ (``pyzeo``): spheres, surface area, void space."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from pymatgen.core import Structure
from pymatgen.io.cif import CifWriter

CO2_PROBE_RADIUS = 1.65
"""Half CO2's kinetic diameter (3.3 A)."""


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


@contextlib.contextmanager
def quiet_stdout():
    """Zeo++ prints to the C stdout; send it to /dev/null while it runs."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def zeo_field(text: str, name: str) -> float:
    found = re.search(rf"{re.escape(name)}:\s*([-+0-9.eE]+)", text)
    if found is None:
        raise RuntimeError(f"Zeo++ gave no {name}: {text!r}")
    return float(found.group(1))


def pore_descriptors(
    structure: Structure,
    probe_radius: float = CO2_PROBE_RADIUS,
    surface_samples: int = 2000,
    volume_samples: int = 50000,
) -> PoreDescriptors:
    """Largest included and free spheres, accessible surface area and volume with a probe of
    ``probe_radius`` (Monte Carlo: samples per atom for the area, per cell for the volume)."""
    try:
        from pyzeo.extension import AtomNetwork, surface_area, volume
    except ImportError as error:
        raise ImportError("pore descriptors need pyzeo: pip install 'discoverflow[mof]'") from error
    with tempfile.TemporaryDirectory() as folder, quiet_stdout():
        cif = Path(folder) / "framework.cif"
        CifWriter(structure).write_file(str(cif))
        network = AtomNetwork.read_from_CIF(str(cif), rad_flag=True)
        res = Path(folder) / "framework.res"
        network.calculate_free_sphere_parameters(str(res))
        spheres = [float(x) for x in res.read_text().split()[1:4]]
        area = surface_area(network, probe_radius, probe_radius, surface_samples)
        accessible = volume(network, probe_radius, probe_radius, volume_samples)
        void = volume(network, 0.0, 0.0, volume_samples)
    area, accessible, void = (
        x.decode() if isinstance(x, bytes) else x for x in (area, accessible, void)
    )
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
