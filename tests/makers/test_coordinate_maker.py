"""The coordinate pattern end to end: ensemble gate, relaxations, fine-tuning."""

from pathlib import Path

import numpy as np
import pytest
import torch
from jobflow import run_locally

from discoverflow.core.crystal.prototypes import PROTOTYPES
from discoverflow.core.crystal.substitution import SubstitutionSettings, substitute
from discoverflow.makers.coordinate import CoordinateMaker
from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.models.chgnet import CHGNetRelaxer, load_chgnet
from discoverflow.models.finetune import finetune_chgnet
from discoverflow.schemas.active import ActiveLearningDocument
from discoverflow.stores import make_store


def al_ni_candidates():
    templates = {n: PROTOTYPES[n].structure() for n in ("Cu3Au", "CuZn", "AlB2")}
    return {
        c.candidate_id: c.structure
        for c in substitute(
            templates, ["Al", "Ni"], SubstitutionSettings(lattice_scales=[1.0])
        ).candidates
    }


def energies(model, structures):
    with torch.inference_mode():
        return np.array([float(p["e"]) for p in model.predict_structure(structures, task="e")])


def test_finetuning_lowers_the_error_on_relaxed_structures(tmp_path, monkeypatch):
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    relaxer = CHGNetRelaxer(fmax=0.1, steps=150)  # stands in for DFT
    outcomes = [relaxer.relax(s) for s in al_ni_candidates().values()]
    structures = [o.structure for o in outcomes]
    targets = np.array([o.energy_per_atom for o in outcomes])
    model = load_chgnet("0.2.0")
    before = np.abs(energies(model, structures) - targets).mean()
    tuned = finetune_chgnet(model, structures, targets, epochs=30)
    after = np.abs(energies(tuned, structures) - targets).mean()
    assert after < 0.7 * before
    assert np.abs(energies(model, structures) - targets).mean() == pytest.approx(
        before
    )  # original untouched
    assert list(workdir.iterdir()) == []  # chgnet's epoch checkpoints are not left behind


def test_fine_tuned_models_go_beside_the_embedded_store(tmp_path, monkeypatch):
    from discoverflow.stores import default_model_dir

    monkeypatch.setenv("DISCOVERFLOW_STORE", str(tmp_path / "store"))
    assert default_model_dir() == tmp_path / "store" / "models"
    monkeypatch.setenv("DISCOVERFLOW_MODEL_DIR", str(tmp_path / "mine"))
    assert default_model_dir() == tmp_path / "mine"
    monkeypatch.setenv("DISCOVERFLOW_STORE", "mongodb://db:27017")
    monkeypatch.delenv("DISCOVERFLOW_MODEL_DIR")
    assert default_model_dir() == Path("~/.cache/discoverflow/models").expanduser()


def test_active_learning_rounds(tmp_path):
    structures = al_ni_candidates()
    maker = CoordinateMaker(
        settings={
            "uncertainty_threshold": 0.005,
            "batch_size": 3,
            "buffer_size": 2,
            "finetune_epochs": 20,
            "model": "chgnet-ensemble",
            "model_options": {"versions": ["0.3.0", "0.2.0"]},
        },
        model_dir=str(tmp_path / "models"),
        relax_maker=MLRelaxMaker(settings={"fmax": 0.1, "steps": 150, "batch_size": 4}),
    )
    twins = dict(structures)
    for cid, s in list(structures.items())[:2]:  # symmetry-equivalent copies come later
        copy = s.copy()
        copy.make_supercell([1, 1, 2])
        twins[f"{cid}-twin"] = copy
    store = make_store("memory")
    flow = maker.make(twins)
    run_locally(flow, store=store, log=False, ensure_success=True, raise_immediately=True)
    doc = ActiveLearningDocument.model_validate(store.get_output(flow.uuid, load=True))
    actions = {r.candidate_id: r.action for r in doc.results}
    assert set(actions) == set(twins)
    total = sum(r.lookups + r.ml_accepted + r.relax_runs for r in doc.rounds)
    assert total == len(twins) and len(doc.rounds) == -(-len(twins) // 3)
    for result in doc.results:
        if result.action == "relax":
            assert result.uncertainty >= 0.005
        if result.action == "ml":
            assert result.uncertainty < 0.005
    for cid in list(structures)[:2]:  # computed (or trusted) first, so the twin is looked up
        if actions[cid] == "relax":
            assert actions[f"{cid}-twin"] == "lookup"
    tuned = [r for r in doc.rounds if r.finetuned]
    assert tuned, "two relaxations fill the buffer and trigger a fine-tune"
    assert all(r.mae_after < r.mae_before for r in tuned)
    files = tuned[0].model_options["model_files"]
    assert len(files) == 2 and tuned[0].model_options["versions"] == []
    for path in files:
        assert Path(path).is_file() and Path(path).parent == tmp_path / "models"
    assert doc.model_options == tuned[-1].model_options
    after = [r for r in doc.results if r.round == tuned[0].round + 1 and r.action != "lookup"]
    assert after
    for result in after:  # predicted by the fine-tuned members, named by their files
        assert result.models == [f"chgnet-{Path(f).stem}" for f in files]


def test_stored_relaxations_feed_the_lookup(rocksalt):
    from discoverflow.campaigns.crystal.driver import stored_relaxations
    from discoverflow.core.crystal.coordinate import KnownResult, ResultLookup

    store = make_store("memory")
    kcl = rocksalt.copy()
    kcl.replace_species({"Na": "K"})
    job = MLRelaxMaker(settings={"fmax": 0.1, "steps": 100}).make({"nacl": rocksalt, "kcl": kcl})
    run_locally(job, store=store, log=False, ensure_success=True, raise_immediately=True)
    known = stored_relaxations(store, ["Na", "Cl"])
    assert [r.candidate_id for r in known.records] == ["nacl"]  # KCl is outside Na-Cl
    lookup = ResultLookup(
        [
            KnownResult(r.candidate_id, known.structures[r.candidate_id], r.energy_per_atom)
            for r in known.records
        ]
    )
    shifted = rocksalt.copy()
    shifted.translate_sites(list(range(len(shifted))), [0.5, 0, 0])
    assert lookup.find(shifted).candidate_id == "nacl"


def test_results_stored_with_the_old_dft_action_read_as_relax():
    from discoverflow.schemas.active import ActiveResult, RoundReport

    old = ActiveResult(candidate_id="c", formula="AlNi", action="dft", round=0)
    assert old.action == "relax"
    report = RoundReport.model_validate(
        {"round": 0, "lookups": 1, "ml_accepted": 2, "dft_runs": 3, "dft_failed": 1}
    )
    assert (report.relax_runs, report.relax_failed) == (3, 1)
    assert "relax_runs" in report.model_dump()
