import pytest

from discoverflow.core.crystal.elements import check_element_symbols, elemental_reference_candidates


def test_unknown_symbol_is_named():
    check_element_symbols(["Ce", "Fe", "In"])
    with pytest.raises(ValueError, match="'Qq'"):
        check_element_symbols(["Fe", "Qq"])


@pytest.mark.parametrize(
    ("symbol", "origins"),
    [("Fe", {"ase"}), ("Cl", {"dimer"}), ("B", {"polymorph:fcc", "polymorph:diamond"})],
)
def test_reference_candidates(symbol, origins):
    found = elemental_reference_candidates(symbol)
    assert origins <= set(found)
    assert all([str(e) for e in s.composition.elements] == [symbol] for s in found.values())
