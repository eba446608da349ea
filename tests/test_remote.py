"""Distributed runs on jobflow-remote, in one process: a shared mongomock queue, the job
store and documents in one embedded database the workers reach, two local shell workers
named gpu and cpu, and the Runner's run_all_jobs()."""

import sys
from pathlib import Path

import pytest
import yaml
from jobflow import JobStore

from discoverflow.campaigns import load_campaign
from discoverflow.remote import LenientShellIO, submit_campaign
from discoverflow.sqlite_store import SQLiteStore
from discoverflow.testing import SharedMemoryStore


@pytest.fixture
def project(tmp_path, monkeypatch):
    import jobflow_remote

    SharedMemoryStore.reset_all()
    folder = tmp_path / "projects"
    folder.mkdir()
    venv_bin = Path(sys.executable).parent

    def worker(name):
        return {
            "type": "local",
            "scheduler_type": LenientShellIO().as_dict(),
            "work_dir": str(tmp_path / f"{name}-runs"),
            "pre_run": "\n".join(
                [
                    f"export PATH={venv_bin}:$PATH",
                    "export DISCOVERFLOW_DEVICE=cpu",
                    f"export DF_WORKER={name}",
                    f"export DISCOVERFLOW_STORE={tmp_path / 'documents'}",  # the workers' database
                ]
            ),
            "timeout_execute": 600,
        }

    def embedded(collection):
        return SQLiteStore(collection, str(tmp_path / "documents"))

    spec = {
        "name": "dftest",
        "base_dir": str(tmp_path / "jfr"),
        "runner": {"delay_checkout": 1, "delay_check_run_status": 1, "delay_advance_status": 1},
        "workers": {"gpu": worker("gpu"), "cpu": worker("cpu")},
        "queue": {"store": {"type": "SharedMemoryStore", "collection_name": "jobs"}},
        # the database the workers reach, as in the starter project; written as the JobStore's
        # @module/@class form, which imports the store's module wherever it is read
        "jobstore": JobStore(
            embedded("outputs"), additional_stores={"data": embedded("outputs_data")}
        ).as_dict(),
    }
    (folder / "dftest.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.setattr(jobflow_remote.SETTINGS, "projects_folder", str(folder))
    monkeypatch.setattr(jobflow_remote.SETTINGS, "project", "dftest")
    controller = jobflow_remote.JobController.from_project_name("dftest")
    controller.reset(max_limit=0)
    yield controller
    SharedMemoryStore.reset_all()


def run_all(controller_project="dftest"):
    from jobflow_remote.jobs.runner import Runner

    Runner(project_name=controller_project).run_all_jobs(max_seconds=900)


def test_lenient_shell_io_skips_kernel_threads():
    output = "PID USER TIME STAT CMD\n2 root 00:00 I kworker\n123 root 00:01 S python\n"
    jobs = LenientShellIO().parse_jobs_list_output(0, output, "")
    assert [j.job_id for j in jobs] == ["123"]


@pytest.mark.slow  # ~3 min, a process per job; test_remote_batch checks each job's runs_on
def test_campaign_runs_on_gpu_and_cpu_workers(project, campaign_dir, tmp_path):
    blocker = campaign_dir / "blocked"
    blocker.write_text("a file where the campaign wants its output folder")
    overrides = [f"output_dir={blocker}", "screening.audit_fraction=0"]  # routing, not scores
    config = load_campaign(campaign_dir / "config.json", overrides)
    assert submit_campaign(config, "dftest")
    run_all()

    jobs = project.get_jobs_info(metadata={"campaign": "alniti"})
    failed = [j for j in jobs if j.state.value != "COMPLETED"]
    assert sorted((j.name, j.state.value) for j in failed) == [
        ("write_hull_files", "FAILED"),
        ("write_scorecard", "FAILED"),
    ]
    with pytest.raises(Exception, match="still has 2 jobs queued or running"):
        submit_campaign(config, "dftest")  # the failed jobs are not finished business yet

    blocker.unlink()
    for job in failed:
        project.rerun_job(db_id=job.db_id)
    run_all()
    jobs = project.get_jobs_info(metadata={"campaign": "alniti"})
    assert {j.state.value for j in jobs} == {"COMPLETED"}

    by_kind = {}
    stages_on_gpu = set()
    for info in jobs:
        doc = project.get_job_doc(db_id=info.db_id)
        kind = doc.job.metadata.get("runs_on")
        if kind:
            by_kind.setdefault(kind, set()).add(info.worker)
        if info.worker == "gpu":
            stages_on_gpu.add(doc.job.metadata.get("stage"))
        assert Path(doc.run_dir).is_relative_to(tmp_path / f"{info.worker}-runs")
    assert by_kind == {"gpu": {"gpu"}, "cpu": {"cpu"}}
    assert {
        "screen-batch",
        "relax-batch",
        "reference-relax",
    } <= stages_on_gpu  # incl. run-time jobs

    from discoverflow.campaigns.base import ResultFilter
    from discoverflow.campaigns.crystal.report import candidate_documents
    from discoverflow.stores import document_store, make_store

    # the workers wrote each result into the candidates collection of their database at once
    documents = document_store(make_store(str(tmp_path / "documents")), "candidates")
    rows = candidate_documents(documents, "alniti", ResultFilter())
    assert any(r["formula_pretty"] == "AlNi" and r["status"] == "on hull" for r in rows)
    assert (blocker / "phase_diagram.png").is_file()
    assert submit_campaign(config, "dftest") == []  # complete: nothing left to submit


@pytest.mark.slow  # 77 s; the crystal campaign above covers the same routing
def test_mof_campaign_runs_on_gpu_and_cpu_workers(project, tmp_path):
    from discoverflow.campaigns.mof.campaign import MOFCampaign
    from discoverflow.campaigns.mof.config import MOFCampaignConfig
    from discoverflow.campaigns.mof.driver import stored_summary
    from discoverflow.remote import project_jobstore

    config = MOFCampaignConfig(
        name="mof-remote",
        workflow="mof",
        rounds=1,
        output_dir=tmp_path / "mof-results",
        linkers={"per_round": 1, "seed_linkers": ["OC(=O)c1ccc(cc1)C(=O)O"]},
        stability={"steps": 3},
        optimisation={"enabled": False},
        adsorption={"enabled": False},
    )
    campaign = MOFCampaign(config)
    assert submit_campaign(campaign, "dftest")
    run_all()
    jobs = project.get_jobs_info(metadata={"campaign": "mof-remote"})
    assert jobs and {j.state.value for j in jobs} == {"COMPLETED"}
    workers = {}
    for info in jobs:
        stage = project.get_job_doc(db_id=info.db_id).job.metadata.get("stage")
        workers.setdefault(stage, set()).add(info.worker)
    assert workers["mof-stability"] == {"gpu"} and workers["mof-assembly"] == {"cpu"}
    summary = stored_summary(project_jobstore("dftest"), "mof-remote")
    assert summary.rounds[0].mofs_assembled >= 1
    assert submit_campaign(campaign, "dftest") == []
