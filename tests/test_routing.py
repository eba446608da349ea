"""Job stages and placements: one enum, stored as the plain strings the store is queried by."""

import ast
from pathlib import Path

from jobflow import Flow, JobStore, job, run_locally
from maggma.stores import MemoryStore

from discoverflow.routing import JobStage, RunsOn, place, placed

PACKAGE = Path(__file__).parents[1] / "src" / "discoverflow"


@job(metadata=placed(JobStage.RELAX_BATCH, RunsOn.GPU))
def relax_batch(x: int) -> int:
    return x + 1


def test_placement_is_plain_strings_in_the_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    step = relax_batch(1)
    assert type(step.metadata["stage"]) is str and step.metadata == {
        "stage": "relax-batch",
        "runs_on": "gpu",
    }
    store = JobStore(MemoryStore())
    run_locally(Flow([step]), store=store, ensure_success=True)
    (doc,) = store.query({"metadata.stage": "relax-batch"}, properties=["metadata"])
    assert doc["metadata"]["stage"] == "relax-batch" and doc["metadata"]["runs_on"] == "gpu"


def test_place_sets_every_job_of_a_flow():
    flow = Flow([relax_batch(1), relax_batch(2)])
    place(flow, JobStage.AUDIT_RELAX)
    assert {j.metadata["stage"] for j in flow.jobs} == {"audit-relax"}
    assert {j.metadata["runs_on"] for j in flow.jobs} == {"gpu"}


def test_no_stage_is_a_free_string_in_the_makers():
    """Job metadata is declared through placed/place, never as a literal dict."""

    def is_placement(node) -> bool:
        keys = node.keys if isinstance(node, ast.Dict) else []
        return any(isinstance(k, ast.Constant) and k.value in ("stage", "runs_on") for k in keys)

    literal = []
    for path in sorted((PACKAGE / "makers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            declared = isinstance(node, ast.keyword) and node.arg == "metadata"
            updated = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("update_metadata", "update")
                and node.args
            )
            if (declared and is_placement(node.value)) or (updated and is_placement(node.args[0])):
                literal.append(f"{path.name}:{node.lineno}")
    assert literal == []
