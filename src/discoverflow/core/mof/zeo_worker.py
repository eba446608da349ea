"""Run Zeo++ (``pyzeo``) on one CIF in this (fresh) process.

``python -m discoverflow.core.mof.zeo_worker CIF PROBE SURFACE_SAMPLES VOLUME_SAMPLES``
prints its -res, -sa and -vol results as JSON. Zeo++ ends the process on some inputs
(degenerate Voronoi networks of exactly symmetric cells), so it runs apart
from the caller; its own messages go to stderr."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def run(cif: Path, probe_radius: float, surface_samples: int, volume_samples: int) -> dict:
    """Zeo++'s spheres, surface area and volume of one CIF.

    Parameters
    ----------
    cif
        The CIF file.
    probe_radius
        Probe radius (A).
    surface_samples, volume_samples
        Monte Carlo samples per atom and per cell.

    Returns
    -------
    dict
        The -res, -sa and -vol results."""
    from pyzeo.extension import AtomNetwork, surface_area, volume

    network = AtomNetwork.read_from_CIF(str(cif), rad_flag=True)
    res = cif.with_suffix(".res")
    network.calculate_free_sphere_parameters(str(res))
    found = {
        "spheres": [float(x) for x in res.read_text().split()[1:4]],
        "area": surface_area(network, probe_radius, probe_radius, surface_samples),
        "accessible": volume(network, probe_radius, probe_radius, volume_samples),
        "void": volume(network, 0.0, 0.0, volume_samples),
    }
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in found.items()}


if __name__ == "__main__":
    path, probe, surface, samples = sys.argv[1:5]
    sys.stdout.flush()
    answer = os.dup(1)
    os.dup2(2, 1)  # Zeo++ prints to the C stdout
    found = run(Path(path), float(probe), int(surface), int(samples))
    sys.stdout.flush()
    os.write(answer, json.dumps(found).encode())
