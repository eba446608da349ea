"""Forward-pass batches bounded by structures and atoms; relaxation batches refilled."""

import pytest
from pymatgen.core import Lattice, Structure

from discoverflow.core.relax import relax_many
from discoverflow.models.chgnet import CHGNetRelaxer, atom_batches, prefetched


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


def test_pipelined_batches_start_small_and_double_up_to_the_limit():
    structures = [cell(1) for _ in range(40)]
    batches = list(atom_batches(structures, max_atoms=100, max_structures=8, first=2))
    assert [len(b) for b in batches] == [2, 4, 8, 8, 8, 8, 2]
    assert [s for b in batches for s in b] == structures


def test_prefetched_items_arrive_in_order_and_an_error_reaches_the_caller():
    assert list(prefetched(iter(range(5)))) == [0, 1, 2, 3, 4]

    def failing():
        yield 1
        raise ValueError("graph failed")

    items = prefetched(failing())
    assert next(items) == 1
    with pytest.raises(ValueError, match="graph failed"):
        next(items)


def test_a_refilled_chgnet_batch_ends_where_one_by_one_relaxations_do(prototypes):
    structures = {name: prototypes[name].copy() for name in ("CuZn", "Cu3Au", "MgAgAs")}
    for i, structure in enumerate(structures.values()):
        structure.apply_strain([0.02, -0.01, 0.01 * i])
        structure.translate_sites([0], [0.04, -0.03, 0.02], frac_coords=False)
    relaxer = CHGNetRelaxer(fmax=0.05, steps=200, max_batch=2)
    alone = relax_many(structures, relaxer, batched=False)
    together = relax_many(structures, relaxer)
    for one, batched in zip(alone, together, strict=True):
        assert one.status == batched.status == "relaxed"
        assert batched.n_steps == one.n_steps
        assert batched.energy_per_atom == pytest.approx(one.energy_per_atom, abs=1e-3)
