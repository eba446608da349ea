"""CP2K cell optimisation: settings checks, MOFA's kinds, and tiny PBE-D3 runs on a water box."""

import numpy as np
import pytest
from ase import Atoms
from ase.constraints import FixAtoms

from discoverflow.core.mof.cp2k import (
    CP2KSettings,
    CP2KUnavailable,
    cp2k_problems,
    data_dir,
    kinds,
    optimise_cell,
    single_point,
)

CP2K_MISSING = cp2k_problems(CP2KSettings())
needs_cp2k = pytest.mark.skipif(
    bool(CP2K_MISSING), reason=f"CP2K is not usable here: {'; '.join(CP2K_MISSING)}"
)
needs_data = pytest.mark.skipif(
    data_dir(CP2KSettings()) is None, reason="no CP2K data dir (apt-get install cp2k)"
)
# a small grid for two shared cores (MOFA: 600 / 50 Ry), a tight SCF for clean forces
TINY = {"cutoff": 300.0, "rel_cutoff": 40.0, "eps_scf": 1e-7}


@pytest.fixture
def water() -> Atoms:
    """A water molecule with stretched bonds and an opened angle in a 5.5 A box; O is fixed,
    or the molecule drifts over the grid's egg-box ripple, which at this small cutoff holds
    the residual forces near 0.1 eV/A."""
    atoms = Atoms("OH2", positions=[[0, 0, 0], [1.05, 0, 0], [-0.3, 1.0, 0]], pbc=True)
    atoms.set_cell([5.5, 5.5, 5.5])
    atoms.center()
    atoms.set_constraint(FixAtoms([0]))
    return atoms


def test_a_missing_executable_and_data_dir_are_named():
    settings = CP2KSettings(command="no-such-cp2k -s", data_dir="/nonexistent")
    problems = cp2k_problems(settings)
    assert any("no-such-cp2k" in p and "not found" in p for p in problems)
    assert any("/nonexistent" in p and "BASIS_MOLOPT" in p for p in problems)
    with pytest.raises(CP2KUnavailable, match="no-such-cp2k"):
        optimise_cell(Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]], cell=[4] * 3), settings)


def test_mpi_ranks_need_a_launcher():
    settings = CP2KSettings(mpi_ranks=2, mpi_launcher="no-such-mpiexec -n {ranks}")
    assert any("no-such-mpiexec" in p for p in cp2k_problems(settings))


@needs_data
def test_kinds_take_mofa_basis_with_matching_valence():
    settings = CP2KSettings()
    chosen = kinds(["Zn", "O", "C", "H", "U"], settings, data_dir(settings))
    assert chosen["Zn"] == ("DZVP-MOLOPT-SR-GTH", "GTH-PBE-q12")
    assert chosen["O"] == ("DZVP-MOLOPT-SR-GTH", "GTH-PBE-q6")
    assert chosen["H"] == ("DZVP-MOLOPT-SR-GTH", "GTH-PBE-q1")
    # uranium has no short-range MOLOPT basis: the fallback, with the potential of its valence
    assert chosen["U"] == ("DZVP-MOLOPT-GTH-q14", "GTH-PBE-q14")


@needs_cp2k
@pytest.mark.slow
def test_optimisation_lowers_the_energy_and_reaches_fmax(water):
    settings = CP2KSettings(**TINY, fmax=0.05, steps=40, relax_cell=False)
    result = optimise_cell(water, settings)
    assert result.converged and result.max_force < settings.fmax
    assert result.energy < result.initial_energy - 0.1
    assert result.scf_converged and result.scf_steps > result.n_steps
    assert result.seconds_per_scf_step > 0
    o, h1, h2 = result.structure.cart_coords
    bonds = [np.linalg.norm(h - o) for h in (h1, h2)]
    angle = np.degrees(np.arccos(np.dot(h1 - o, h2 - o) / (bonds[0] * bonds[1])))
    assert bonds == pytest.approx([0.97, 0.97], abs=0.03)  # PBE: 0.97 A, 104 degrees
    assert angle == pytest.approx(104.0, abs=4.0)


@needs_cp2k
@pytest.mark.slow
def test_the_cell_follows_the_stress(water):
    settings = CP2KSettings(**TINY, fmax=0.01, steps=2)
    result = optimise_cell(water, settings)
    assert result.n_steps == 2
    assert result.energy < result.initial_energy
    assert not np.allclose(result.structure.lattice.matrix, water.cell[:], atol=1e-4)


@needs_cp2k
@pytest.mark.slow
def test_d3_adds_a_small_attraction(water):
    with_d3 = single_point(water, CP2KSettings(**TINY))
    without = single_point(water, CP2KSettings(**TINY, dispersion=None))
    bj = single_point(water, CP2KSettings(**TINY, dispersion="DFTD3(BJ)"))
    # D3 between a water molecule and its images 5.5 A away: attractive, tens of meV
    assert -0.1 < with_d3 - without < -1e-3
    assert -0.1 < bj - without < -1e-3 and bj != pytest.approx(with_d3, abs=1e-5)
