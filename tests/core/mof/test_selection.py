"""Which MOFs go on to optimisation and which train the generator; how linkers combine."""

from dataclasses import dataclass, field

import numpy as np

from discoverflow.core.mof.assembly import AssemblySettings, linker_combinations
from discoverflow.core.mof.linkers import ProcessedLinker
from discoverflow.core.mof.selection import (
    RetrainingSettings,
    most_stable,
    training_examples,
    training_set,
)


@dataclass
class Result:
    mof_id: str
    strain: float | None
    stable: bool = False
    uptake_mol_per_kg: float | None = None
    linkers: list[str] = field(default_factory=lambda: ["L"])
    pillar: str | None = None
    histories: list[list[str]] = field(default_factory=list)


def test_most_stable_lowest_strain_first():
    records = [Result("a", 0.05, True), Result("b", 0.2), Result("c", 0.01, True)]
    assert [r.mof_id for r in most_stable(records, 5)] == ["c", "a"]
    assert [r.mof_id for r in most_stable(records, 1)] == ["c"]


def test_training_set_switches_from_stability_to_uptake():
    results = [Result("a", 0.2, uptake_mol_per_kg=0.1), Result("b", 0.05), Result("c", 0.3)]
    chosen, basis = training_set(results, RetrainingSettings(adsorption_switch=2))
    assert basis == "stability" and [r.mof_id for r in chosen] == ["b", "a"]
    results.append(Result("d", 0.4, uptake_mol_per_kg=0.5))
    chosen, basis = training_set(results, RetrainingSettings(adsorption_switch=2))
    assert basis == "uptake" and [r.mof_id for r in chosen] == ["d", "a"]


def test_training_examples_score_by_rank_and_carry_histories():
    best = Result("a", 0.01, linkers=["X"], pillar="P", histories=[["fluoro"], ["aza"]])
    second = Result("b", 0.02, linkers=["Y"])
    examples = training_examples([best, second])
    assert [(e.smiles, e.history, e.score) for e in examples] == [
        ("X", ["fluoro"], 2.0),
        ("P", ["aza"], 2.0),
        ("Y", [], 1.0),
    ]


def linker(smiles: str, anchor: str) -> ProcessedLinker:
    return ProcessedLinker(smiles, anchor, [], [], [], 0, 0.0)


def test_linker_combinations_one_mof_per_carboxylate_with_a_pillar():
    linkers = [linker("A", "COO"), linker("B", "COO"), linker("C", "COO"), linker("N", "CN")]
    settings = AssemblySettings(node="Zn-paddlewheel-pillared", linkers_per_mof=2, max_mofs=2)
    combos = linker_combinations(linkers, settings, np.random.default_rng(0))
    assert [group[0].smiles for group, _ in combos] == ["A", "B"]
    for group, pillar in combos:
        assert len({g.smiles for g in group}) == 2 and pillar.smiles == "N"
    plain = linker_combinations(linkers, AssemblySettings(), np.random.default_rng(0))
    assert len(plain) == 3 and all(p is None and len(g) == 1 for g, p in plain)
