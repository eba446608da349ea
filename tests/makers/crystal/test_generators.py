"""Directive pattern: generators feeding the validity filter."""

from jobflow import Flow, run_locally

from discoverflow.core.crystal.generators import charge_neutral_compositions
from discoverflow.core.crystal.prototypes import PrototypeSettings
from discoverflow.core.crystal.validity import ValiditySettings
from discoverflow.makers.crystal.chunks import merged_generation
from discoverflow.makers.crystal.generators import (
    RandomStructureMaker,
    UserStructuresMaker,
    ValidityFilterMaker,
)
from discoverflow.makers.crystal.prototypes import PrototypesMaker
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.stores import make_store


def run(flow):
    store = make_store("memory")
    run_locally(flow, store=store, log=False, ensure_success=True, raise_immediately=True)
    return store


def loaded(store, job) -> GenerationDocument:
    """A generator job's output with its chunks' candidates merged in."""
    index = GenerationDocument.model_validate(store.get_output(job.uuid, load=True))
    assert index.chunks and not index.candidates
    return merged_generation(index, store)


def test_random_structures_then_validity_filter():
    generate = RandomStructureMaker(
        settings={"per_composition": 3, "max_atoms": 3, "seed": 1}
    ).make({}, ["Mg", "O"])
    check = ValidityFilterMaker().make(generate.output)
    store = run(Flow([generate, check]))
    generated = loaded(store, generate)
    valid = loaded(store, check)
    formulas = {c.formula for c in generated.candidates}
    neutral = {c.reduced_formula for c in charge_neutral_compositions(["Mg", "O"], 3)}
    assert formulas <= neutral and "MgO" in formulas
    assert "Mg2O" not in formulas  # Mg(+2) and O(-2) cannot balance 2:1
    assert all(c.template.startswith("pyxtal:") for c in generated.candidates)
    removed = sum(valid.filter_counts.values())
    assert len(valid.candidates) + removed == len(generated.candidates)
    assert valid.n_candidates == len(valid.candidates)
    assert set(valid.structures) == {c.candidate_id for c in valid.candidates}


def test_user_structures_keep_only_the_campaign_elements(rocksalt, prototypes):
    job = UserStructuresMaker().make({"nacl": rocksalt, "cu3au": prototypes["Cu3Au"]}, ["Na", "Cl"])
    store = run(job)
    doc = loaded(store, job)
    assert [c.template for c in doc.candidates] == ["nacl"]


def test_validity_keeps_the_textbook_prototype_of_coinciding_ones():
    settings = PrototypeSettings(stoichiometries=["AB3"], space_groups=[140, 221])
    generate = PrototypesMaker(settings=settings).make({}, ["Cu", "Au"])
    check = ValidityFilterMaker(settings=ValiditySettings(charge_neutral=False)).make(
        generate.output
    )
    store = run(Flow([generate, check]))
    generated = {c.template for c in loaded(store, generate).candidates}
    kept = {(c.template, c.formula) for c in loaded(store, check).candidates}
    assert "aflow:AB3_tI16_140_b_ah (D0_c)" in generated  # coincides with L1_2 once decorated
    assert ("aflow:AB3_cP4_221_a_c (L1_2)", "Cu3Au") in kept
    assert not any(template.endswith("(D0_c)") and formula == "Cu3Au" for template, formula in kept)
