"""Directive pattern: generators feeding the validity filter."""

from jobflow import Flow, run_locally

from discoverflow.core.crystal.generators import charge_neutral_compositions
from discoverflow.makers.crystal.chunks import merged_generation
from discoverflow.makers.crystal.generators import (
    RandomStructureMaker,
    UserStructuresMaker,
    ValidityFilterMaker,
)
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
    generate = RandomStructureMaker(per_composition=3, max_atoms=3, seed=1).make({}, ["Mg", "O"])
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
