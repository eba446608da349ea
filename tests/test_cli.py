"""The discoverflow command, run as users run it: in its own process."""

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import in_process


def cli(
    *args: str, cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "discoverflow.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=900,
        env={**os.environ, **(env or {})},
    )


NARROW = {"COLUMNS": "40"}


@pytest.fixture
def config(campaign_dir) -> Path:
    return campaign_dir / "config.json"


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def edit(config: Path, **changes) -> Path:
    data = json.loads(config.read_text())
    data.update(changes)
    config.write_text(json.dumps(data))
    return config


def test_validate_accepts_a_good_config(config):
    result = cli("validate", str(config))
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_validate_misspelled_key(config):
    edit(config, screening={"formation_energy_treshold": -0.3})
    line = one_error_line(cli("validate", str(config)))
    assert "screening.formation_energy_treshold: unknown key" in line


def test_validate_unknown_element(config):
    edit(config, elements=["Al", "Nx", "Ti"])
    assert "unknown element symbol 'Nx'" in one_error_line(cli("validate", str(config)))


def test_validate_missing_templates_folder(config):
    edit(config, inputs={"templates": "nowhere"})
    line = one_error_line(cli("validate", str(config)))
    assert "inputs.templates: folder not found" in line and "nowhere" in line


def test_validate_unparseable_cif(config, campaign_dir):
    (campaign_dir / "templates" / "broken.cif").write_text(
        "data_broken\n_cell_length_a 3.0\nloop_\n"
    )
    line = one_error_line(cli("validate", str(config)))
    assert "broken.cif" in line and "cannot parse" in line


def test_run_refuses_bad_input_with_one_line(config, tmp_path):
    edit(config, inputs={"templates": "nowhere"})
    line = one_error_line(cli("run", str(config), "--store", str(tmp_path / "db")))
    assert "folder not found" in line


def test_override_on_the_command_line(config):
    line = one_error_line(cli("validate", str(config), "--set", "hull.e_above_hull_threshold=-1"))
    assert "hull.e_above_hull_threshold" in line and "-1" in line


def test_piped_lines_are_not_wrapped_for_long_paths(tmp_path):
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 8)
    deep.mkdir(parents=True)
    missing = deep / "campaign.json"
    line = one_error_line(cli("validate", str(missing), env=NARROW))
    assert line == f"error: {missing}: config file not found"


def test_status_of_a_campaign_never_run_says_so_and_creates_nothing(config, tmp_path):
    store = tmp_path / "empty"
    result = cli("status", str(config), "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"campaign alniti: not started: no store at {store}"
    assert not store.exists()
    other = cli("status", str(config), "--store", "memory")  # a store without the campaign
    assert other.returncode == 0 and "not started" in other.stdout


def test_unreachable_mongodb_is_one_line_naming_the_host(config):
    line = one_error_line(cli("status", str(config), "--store", "mongodb://127.0.0.1:1"))
    assert line.startswith("error: MongoDB at 127.0.0.1:1 is not reachable")


@pytest.mark.parametrize("command", ["status", "submit"])
def test_unreachable_project_database_is_one_line(command, config, tmp_path):
    import yaml

    folder = tmp_path / "projects"
    folder.mkdir()
    dead = {"type": "MongoStore", "host": "127.0.0.1", "port": 1, "database": "x"}
    project = {
        "name": "dead",
        "workers": {"cpu": {"type": "local", "scheduler_type": "shell", "work_dir": str(tmp_path)}},
        "queue": {"store": {**dead, "collection_name": "jobs"}},
        "jobstore": {"docs_store": {**dead, "collection_name": "outputs"}},
    }
    (folder / "dead.yaml").write_text(yaml.safe_dump(project))
    env = {"JFREMOTE_PROJECTS_FOLDER": str(folder)}
    result = cli(command, str(config), "--project", "dead", env=env)
    assert one_error_line(result).startswith("error: MongoDB at 127.0.0.1:1 is not reachable")


def test_results_take_json_or_csv_not_both(config):
    line = one_error_line(cli("results", str(config), "--json", "--csv"))
    assert line == "error: give --json or --csv, not both"


def test_remote_init_defaults_work_as_given(tmp_path):
    import yaml

    folder = tmp_path / "projects"
    env = {"HOME": str(tmp_path / "home"), "JFREMOTE_PROJECTS_FOLDER": str(folder)}
    result = cli("remote", "init", "--name", "here", env=env)
    assert result.returncode == 0, result.stderr
    project = yaml.safe_load((folder / "here.yaml").read_text())
    assert project["workers"]["cpu"]["work_dir"] == str(
        tmp_path / "home" / "discoverflow-runs" / "cpu"
    )
    needs_folder = cli("remote", "init", "--name", "far", "--host", "login.example.org", env=env)
    assert "--work-dir" in one_error_line(needs_folder)


def test_run_then_status_and_results_from_other_processes(config, campaign_dir, tmp_path):
    store = str(tmp_path / "db")
    run = cli("run", str(config), "--store", store)
    assert run.returncode == 0, run.stderr
    assert "promising candidates" in run.stdout
    lines = run.stdout.splitlines()  # piped: a line per stage start and end, no bars
    for stage in ("references", "generation", "screen", "dedup", "relax"):  # ends as it starts
        started = sum(line.startswith(f"{stage}: started (") for line in lines)
        assert started >= 1 and started == sum(line.startswith(f"{stage}: done ") for line in lines)

    status = cli("status", str(config), "--store", store)
    assert status.returncode == 0, status.stderr
    assert status.stdout.count("done") == 6

    results = cli("results", str(config), "--store", store, "--json")
    rows = json.loads(results.stdout)
    table = cli("results", str(config), "--store", store, env=NARROW).stdout.splitlines()
    for row in rows:  # piped to a file: one line per candidate, nothing cut, whatever COLUMNS
        (line,) = [line for line in table if row["candidate_id"] in line]
        assert row["formula_pretty"] in line and row["status"] in line
    fields = {"candidate_id", "formula_pretty", "chemsys", "template", "energy_above_hull"}
    assert rows and fields | {"status", "structure", "stages"} <= set(rows[0])
    on_hull = [r for r in rows if r["status"] == "on hull"]
    assert any(r["formula_pretty"] == "AlNi" for r in on_hull)
    for row in rows:
        if row["energy_above_hull"] is not None:
            assert row["formation_energy_per_atom"] is not None
            assert row["stages"]["relax"]["fingerprint"] and row["job_uuids"]

    outputs = campaign_dir / "results"
    promising = {p.stem for p in (outputs / "promising").glob("*.cif")}
    nial = next(r for r in on_hull if r["formula_pretty"] == "AlNi")
    cif = (outputs / "promising" / f"{nial['candidate_id']}.cif").read_text()
    assert "_symmetry_space_group_name_H-M   Pm-3m" in cif  # symmetrised, not P1
    assert promising == {r["candidate_id"] for r in rows if r["status"] in ("on hull", "promising")}
    assert (outputs / "phase_diagram.png").stat().st_size > 10_000
    assert (outputs / "phase_diagram.html").is_file()
    assert (outputs / "stability_cdf.png").is_file()
    assert (outputs / "parity.png").is_file()

    typo = one_error_line(
        cli("results", str(config), "--store", store, "--sort", "-energy_abve_hull")
    )
    assert "--sort -energy_abve_hull: no result has a field 'energy_abve_hull'" in typo
    assert "did you mean 'energy_above_hull'?" in typo
    by_formula = cli("results", str(config), "--store", store, "--csv", "--sort", "-formula_pretty")
    formulas = [row["formula_pretty"] for row in csv.DictReader(io.StringIO(by_formula.stdout))]
    assert formulas == sorted(formulas, reverse=True)

    again = cli("run", str(config), "--store", store)
    assert again.returncode == 0, again.stderr
    everything = json.loads(cli("results", str(config), "--store", store, "--json", "--all").stdout)
    assert len(everything) > len(rows)
    assert {"screened out", "duplicate"} & {r["status"] for r in everything}

    with read_only(Path(store)):  # a store shared read-only: read, never called damaged
        status = cli("status", str(config), "--store", store)
        assert status.returncode == 0, status.stderr
        assert status.stdout.count("done") == 6 and "(read-only)" in status.stdout
        shared = cli("results", str(config), "--store", store, "--json", "--all")
        assert shared.returncode == 0, shared.stderr
        assert json.loads(shared.stdout) == everything
        refused = one_error_line(cli("run", str(config), "--store", store))
        assert "read-only" in refused and "damaged" not in refused


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` made read-only: by its permissions, or as root (whom permissions do not
    stop) by a read-only bind mount of it."""
    if os.geteuid() != 0:
        files = [folder, *folder.iterdir()]
        modes = {path: path.stat().st_mode for path in files}
        for path in files:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", folder, folder], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot make a read-only folder here: {mounted.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", folder], check=True)


# slow (40 s): test_kill_resume kills in the middle of a relaxation batch in the default run
@pytest.mark.slow
def test_kill_9_during_relaxations_then_resume(config, tmp_path):
    """SIGKILL in the middle of the relaxations (after the eighth committed write of
    relaxation records; the first ones are the elemental references'): the rerun finishes
    and keeps every relaxation finished before."""
    import signal

    from discoverflow.faults import KILL_AT

    edit(config, relax={"fmax": 0.05, "steps": 300, "batch_size": 50})
    store = tmp_path / "db"
    killed = subprocess.run(
        [sys.executable, "-m", "discoverflow.cli", "run", str(config), "--store", str(store)],
        capture_output=True,
        env={**os.environ, KILL_AT: "relax:8"},
        timeout=900,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-500:]
    before = finished_relaxations(store)
    assert before

    resumed = cli("run", str(config), "--store", str(store))
    assert resumed.returncode == 0, resumed.stderr
    after = finished_relaxations(store)
    assert {cid: after[cid] for cid in before} == before  # not recomputed: the same records
    assert len(after) > len(before)  # killed in the middle
    rows = json.loads(cli("results", str(config), "--store", str(store), "--json").stdout)
    outcome = {"on hull", "promising", "above hull", "unconverged", "failed"}
    assert all(r["status"] in outcome for r in rows)  # every selected candidate got relaxed
    assert {r["candidate_id"] for r in rows} >= set(before)
    status = cli("status", str(config), "--store", str(store)).stdout
    assert status.count("done") == 6 and status.count("reuses it") == 6


def finished_relaxations(store: Path) -> dict[str, list[str]]:
    """Candidate id -> ids of the records of its computed relaxations (those that keep the
    result as a checkpoint; the elemental references', ``El:origin``, left out)."""
    from discoverflow.schemas.records import RECORDS, Stage
    from discoverflow.stores import document_store, make_store

    records = document_store(make_store(str(store)), RECORDS)
    records.connect()
    found: dict[str, list[str]] = {}
    for record in records.query(
        {"campaign": "alniti", "stage": Stage.RELAX.value},
        properties=["item_id", "record_id", "record"],
    ):
        if ":" not in record["item_id"] and record.get("record"):
            found.setdefault(record["item_id"], []).append(record["record_id"])
    return found


def test_remote_init_writes_a_valid_project(tmp_path):
    import yaml
    from jobflow_remote.config.base import Project

    target = tmp_path / "cluster.yaml"
    args = ["remote", "init", "--name", "cluster", "--output", str(target), "--work-dir", "/scratch/me/df",
            "--host", "login.example.org", "--mongo-uri", "mongodb://db.example.org:27017"]  # fmt: skip
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    project = Project.model_validate(yaml.safe_load(target.read_text()))
    assert set(project.workers) == {"gpu", "cpu"}
    assert "DISCOVERFLOW_DEVICE=cuda" in project.workers["gpu"].pre_run
    assert "DISCOVERFLOW_STORE=" in project.workers["cpu"].pre_run  # documents go to the db
    assert project.workers["gpu"].resources["gres"] == "gpu:1"
    assert "outputs_data" in str(project.jobstore)
    assert "exists" in one_error_line(cli(*args))


COMMANDS = [[], ["validate"], ["run"], ["submit"], ["status"], ["results"], ["report"], ["config"],
            ["config", "show"], ["remote"], ["remote", "init"], ["remote", "estimate"]]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_flags_without_placeholders(command, capsys, monkeypatch):
    code, out, _ = in_process(capsys, monkeypatch, *command, "--help")
    assert code == 0 and "--help" in out
    assert "<bool>" not in out and "<list" not in out


def test_mistyped_command_or_option_gets_a_suggestion(capsys, monkeypatch):
    code, _, err = in_process(capsys, monkeypatch, "rn", "config.json")
    assert code == 2 and err.strip().splitlines() == [
        "error: No such command 'rn'. Did you mean 'run'? (see `discoverflow --help`)"
    ]
    code, _, err = in_process(capsys, monkeypatch, "results", "c.json", "--stabel")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--stable" in err
    code, _, err = in_process(capsys, monkeypatch, "config", "show", "mfo")
    assert code == 2 and "did you mean 'mof'?" in err


def without_comments(annotated: str) -> dict:
    """The annotated default file as JSON: comments dropped, required keys null."""
    lines = [line.split("  // ")[0] for line in annotated.splitlines()]
    kept = [line for line in lines if not line.lstrip().startswith("//")]
    return json.loads("\n".join(kept).replace("<required>", "null"))


@pytest.mark.parametrize(
    ("workflow", "required", "line"),
    [
        ("crystal", {"elements": ["Al"]}, '"fmax": 0.05,  // Force convergence criterion (eV/A)'),
        ("mof", {"workflow": "mof"}, '"rounds": 3,  // Rounds of generation and retraining'),
        (
            "existing-mofs",
            {"workflow": "existing-mofs", "inputs": {"mofs": "cifs"}},
            '"inputs": <required>  // required; The MOFs: {"mofs": "<folder of CIF files>"}',
        ),
    ],
)
def test_config_show_every_key_with_its_default(workflow, required, line, capsys, monkeypatch):
    from discoverflow.campaigns.loading import CAMPAIGN_KINDS

    model = CAMPAIGN_KINDS[workflow].config_type
    code, out, _ = in_process(capsys, monkeypatch, "config", "show", workflow)
    assert code == 0
    shown = without_comments(out)
    defaults = model(name="x", **required).model_dump(mode="json")
    filled = {k: v for k, v in shown.items() if v is not None or k not in ("name", *required)}
    assert {**filled, "name": "x", **required} == {**defaults, "output_dir": "results"}
    assert '"name": <required>,  // required; Campaign id' in out and line in out
    code, out, _ = in_process(capsys, monkeypatch, "config", "show", workflow, "--json")
    assert code == 0 and json.loads(out) == model.model_json_schema()


def test_default_store_is_beside_the_campaign_file(config, tmp_path, capsys, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, _ = in_process(capsys, monkeypatch, "status", str(config))
    assert code == 0
    assert (
        out.strip() == f"campaign alniti: not started: no store at {tmp_path / 'discoverflow-data'}"
    )
    monkeypatch.setenv("DISCOVERFLOW_STORE", str(tmp_path / "chosen"))
    code, _, err = in_process(capsys, monkeypatch, "results", str(config))
    assert (code, err.strip()) == (2, f"error: not started: no store at {tmp_path / 'chosen'}")
    code, out, _ = in_process(capsys, monkeypatch, "status", str(config), "--store", "memory")
    assert out.splitlines()[0] == "store: in-memory store"
    assert not list(elsewhere.iterdir()) and not (tmp_path / "discoverflow-data").exists()
