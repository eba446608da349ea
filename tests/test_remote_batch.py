"""Batch workers in the starter project, and the estimate of a campaign's jobs."""

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from jobflow_remote.config.base import Project

from discoverflow.campaigns import load_campaign
from discoverflow.remote import campaign_jobs, crystal_stage_jobs
from discoverflow.remote_cli import DEFAULT_BATCH
from discoverflow.remote_project import BatchLimits

LIMITS = ["--batch-allocations", "6", "--batch-max-jobs", "50", "--batch-max-wait", "120",
          "--batch-max-time", "7200", "--batch-parallel", "2"]  # fmt: skip


def init(capsys, monkeypatch, tmp_path: Path, *args: str) -> Project:
    from conftest import in_process

    target = tmp_path / "project.yaml"
    code, _, err = in_process(capsys, monkeypatch, "remote", "init", "--output", str(target),
                              "--work-dir", "/scratch/df", *args)  # fmt: skip
    assert code == 0, err
    return Project.model_validate(yaml.safe_load(target.read_text()))


def test_the_commands_defaults_are_batch_limits_defaults():
    assert BatchLimits(**DEFAULT_BATCH) == BatchLimits()


@pytest.mark.parametrize("host", [[], ["--host", "login.example.org"]], ids=["local", "remote"])
def test_init_writes_a_batch_gpu_worker_with_the_limits_given(capsys, monkeypatch, tmp_path, host):
    project = init(capsys, monkeypatch, tmp_path, *LIMITS, *host)
    gpu, cpu = project.workers["gpu"], project.workers["cpu"]
    assert gpu.type == ("remote" if host else "local")
    assert cpu.batch is None and gpu.batch is not None
    assert gpu.max_jobs == 6  # the allocations in the queue at a time
    assert gpu.batch.max_jobs_per_batch == 50 and gpu.batch.parallel_jobs == 2
    assert (gpu.batch.max_wait, gpu.batch.max_time) == (120, 7200)
    assert gpu.resources["time"] == "03:00:00"  # max_time and an hour for the last job
    assert gpu.batch.jobs_handle_dir.is_relative_to("/scratch/df")
    assert gpu.batch.work_dir.is_relative_to("/scratch/df")


def test_cpu_batch_makes_both_workers_batch_workers(capsys, monkeypatch, tmp_path):
    project = init(capsys, monkeypatch, tmp_path, "--cpu-batch", "--cpu-partition", "gpu")
    gpu, cpu = project.workers["gpu"], project.workers["cpu"]
    assert gpu.batch.max_wait == cpu.batch.max_wait == BatchLimits().max_wait
    assert gpu.batch.max_jobs_per_batch is None and gpu.max_jobs == BatchLimits().allocations
    assert gpu.batch.jobs_handle_dir != cpu.batch.jobs_handle_dir  # jobflow-remote's rule


def test_no_batch_writes_plain_workers(capsys, monkeypatch, tmp_path):
    project = init(capsys, monkeypatch, tmp_path, "--no-batch")
    for worker in project.workers.values():
        assert worker.batch is None and worker.max_jobs is None
        assert "time" not in worker.resources


def test_batch_allocations_follow_the_runner():
    limits = BatchLimits(allocations=4, max_jobs_per_batch=10, parallel_jobs=2)
    assert limits.allocations_for(0) == 0
    assert limits.allocations_for(3) == 2  # one per parallel_jobs waiting jobs
    assert limits.allocations_for(60) == 4  # four at a time, each running up to 2 x 10
    assert limits.allocations_for(200) == 10  # replaced when they end
    assert BatchLimits().allocations_for(10_000) == 4
    hour_jobs = BatchLimits(max_time=3 * 3600)
    assert hour_jobs.allocations_for(40, job_seconds=3600) == 10  # 4 jobs fit before max_time


def stage_counts(store, campaign: str) -> Counter:
    """Jobs per (stage, runs_on) that ran, from the job store."""
    docs = store.query({"metadata.campaign": campaign}, ["metadata.stage", "metadata.runs_on"])
    return Counter((d["metadata"]["stage"], d["metadata"]["runs_on"]) for d in docs)


@pytest.mark.parametrize("dedup", [True, False])
def test_estimate_counts_the_jobs_a_campaign_runs(campaign_dir, monkeypatch, dedup):
    from discoverflow.campaigns.base import CampaignRecord
    from discoverflow.makers.crystal import chunks
    from discoverflow.makers.crystal.chunks import merged_generation
    from discoverflow.schemas.generation import GenerationDocument
    from discoverflow.stores import make_store

    monkeypatch.setattr(chunks, "MAX_CANDIDATES_PER_CHUNK", 7)
    overrides = ["screening.batch_size=3", "relax.batch_size=2", "relax.steps=5",
                 f"dedup.enabled={str(dedup).lower()}"]  # fmt: skip
    campaign = load_campaign(campaign_dir / "config.json", overrides)
    store = make_store("memory")
    campaign.run(store)

    record = CampaignRecord(store, campaign.name)
    index = GenerationDocument.model_validate(record.output(record.latest("generation")))
    generation = merged_generation(index, store)
    relaxed = record.output(record.latest("relax"))["records"]
    n_sites = [c.n_sites for c in generation.candidates]
    audited = len(record.output(record.latest("audit-sample"))["kept"])
    estimate = crystal_stage_jobs(campaign.config, n_sites, len(relaxed), audited)

    assert len(index.chunks) > 1 and len(relaxed) > 2  # several chunks and relax batches
    expected = Counter()
    for stage in estimate:
        expected[stage.stage, stage.runs_on] += stage.jobs
    assert stage_counts(store, campaign.name) == expected


def test_estimate_command_reads_the_campaign_settings(campaign_dir, capsys, monkeypatch):
    from conftest import in_process

    config = str(campaign_dir / "config.json")
    code, out, _ = in_process(capsys, monkeypatch, "remote", "estimate", config,
                              "--candidates", "1000", "--set", "screening.max_candidates=30")  # fmt: skip
    assert code == 0
    campaign = load_campaign(config, ["screening.max_candidates=30"])
    stages = {s.stage: s for s in campaign_jobs(campaign, 1000)}
    assert stages["relax-batch"].jobs == 10  # 30 selected, 3 per relax job (relax.batch_size)
    assert "relax-batch" in out
    code, out, _ = in_process(capsys, monkeypatch, "remote", "estimate", config, "--json",
                              "--candidates", "1000", "--set", "screening.max_candidates=30")  # fmt: skip
    rows = {(r["stage"], r["runs_on"]): r for r in json.loads(out)}
    assert code == 0 and rows["relax-batch", "gpu"]["jobs"] == 10
    all_jobs = rows["all", "gpu+cpu"]
    assert all_jobs["jobs"] == sum(s.jobs for s in campaign_jobs(campaign, 1000))
    assert all_jobs["allocations"]["plain"] == all_jobs["jobs"]  # one allocation per job
    assert all_jobs["allocations"]["batch_gpu_cpu"] <= all_jobs["allocations"]["batch_gpu"]
    code, _, err = in_process(capsys, monkeypatch, "remote", "estimate", config,
                              "--candidates", "-3")  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_estimate_refuses_campaigns_it_does_not_count(campaign_dir, capsys, monkeypatch):
    from conftest import in_process

    config = str(campaign_dir / "config.json")
    code, _, err = in_process(capsys, monkeypatch, "remote", "estimate", config, "--candidates",
                              "10", "--set", "relax.pattern=coordinate")  # fmt: skip
    assert code == 2 and err.strip() == (
        "error: estimate: only ML relax engines with relax.pattern 'relax' are estimated"
    )
