"""Forward-pass batches bounded by structures and atoms."""

from pymatgen.core import Lattice, Structure

from discoverflow.models.chgnet import atom_batches


def cell(n_atoms: int) -> Structure:
    return Structure(
        Lattice.cubic(3.0 * n_atoms),
        ["Fe"] * n_atoms,
        [[i / n_atoms, 0, 0] for i in range(n_atoms)],
    )


def test_batches_keep_order_and_respect_both_limits():
    structures = [cell(n) for n in (4, 4, 4, 10, 1, 30, 2, 2)]
    batches = list(atom_batches(structures, max_atoms=12, max_structures=2))
    assert [len(s) for b in batches for s in b] == [len(s) for s in structures]
    assert [[len(s) for s in b] for b in batches] == [[4, 4], [4], [10, 1], [30], [2, 2]]
    for batch in batches:
        assert len(batch) <= 2
        assert sum(len(s) for s in batch) <= 12 or len(batch) == 1
