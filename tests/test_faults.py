"""Bad input, as a new user gives it: one readable line on stderr, exit code 2, and nothing
written to the store or the output folder; and two runs on one store at once."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

from discoverflow import cli
from discoverflow.locations import DEFAULT_STORE_FOLDER
from discoverflow.sqlite_store import DATABASE_FILE
from discoverflow.stores import OWNER_FILE, make_store


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def discoverflow(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    """The command as its entry point runs it, in this process: exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["discoverflow", *args])
    with pytest.raises(SystemExit) as ended:
        cli.main()
    captured = capsys.readouterr()
    return ended.value.code, captured.out, captured.err


def edit(config: Path, **changes) -> None:
    data = json.loads(config.read_text())
    data.update(changes)
    config.write_text(json.dumps(data))


def write_structure(folder: Path, name: str, structure: Structure) -> None:
    folder.mkdir(exist_ok=True)
    structure.to(filename=str(folder / f"{name}.cif"))


def unknown_nested_key(d: Path) -> list[str]:
    edit(d / "config.json", relax={"vasp": {"incarr": {"ENCUT": 520}}})
    return ["relax.vasp.incarr: unknown key; did you mean 'incar'?"]


def unknown_top_key(d: Path) -> list[str]:
    edit(d / "config.json", elemnts=["Al"])
    return ["elemnts: unknown key; did you mean 'elements'?"]


def unknown_element(d: Path) -> list[str]:
    edit(d / "config.json", elements=["Al", "Xx"])
    return ["unknown element symbol 'Xx'"]


def empty_elements(d: Path) -> list[str]:
    edit(d / "config.json", elements=[])
    return ["elements: List should have at least 1 item"]


def wrong_type(d: Path) -> list[str]:
    edit(d / "config.json", relax={"steps": "many"}, elements="AlNi")
    return [
        "relax.steps: Input should be a valid integer",
        "elements: Input should be a valid list",
    ]


def missing_templates(d: Path) -> list[str]:
    edit(d / "config.json", inputs={"templates": "nowhere"})
    return ["inputs.templates: folder not found", "nowhere"]


def empty_templates(d: Path) -> list[str]:
    (d / "none").mkdir()
    edit(d / "config.json", inputs={"templates": "none"})
    return ["inputs.templates: no structure files"]


def garbage_cif(d: Path) -> list[str]:
    (d / "templates" / "garbage.cif").write_bytes(b"\x00\x01 not a crystal \xff\n" * 20)
    return ["garbage.cif", "cannot parse"]


def partially_occupied_cif(d: Path) -> list[str]:
    mixed = Structure(Lattice.cubic(2.95), [{"Cu": 0.5, "Zn": 0.5}, "Al"], [[0, 0, 0], [0.5] * 3])
    write_structure(d / "templates", "mixed", mixed)
    return ["mixed.cif", "partially occupied"]


def atoms_too_close(d: Path) -> list[str]:
    close = Structure(Lattice.cubic(4.0), ["Cu", "Zn"], [[0, 0, 0], [0.05, 0, 0]])
    write_structure(d / "templates", "close", close)
    return ["close.cif", "0.20 A apart"]


def not_json(d: Path) -> list[str]:
    (d / "config.json").write_text("name: alniti\nelements: [Al, Ni]\n")
    return ["config.json: not valid JSON"]


def missing_config(d: Path) -> list[str]:
    (d / "config.json").unlink()
    return ["config.json: config file not found"]


FAULTS = [
    unknown_nested_key,
    unknown_top_key,
    unknown_element,
    empty_elements,
    wrong_type,
    missing_templates,
    empty_templates,
    garbage_cif,
    partially_occupied_cif,
    atoms_too_close,
    not_json,
    missing_config,
]


def assert_one_line(code: int, err: str, expected: list[str]) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for part in expected:
        assert part in lines[0], lines[0]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.__name__)
def test_bad_input_is_one_line_and_writes_nothing(fault, campaign_dir, capsys, monkeypatch):
    expected = fault(campaign_dir)
    before = tree(campaign_dir)
    for command in ("validate", "run"):
        code, _, err = discoverflow(capsys, monkeypatch, command, str(campaign_dir / "config.json"))
        assert_one_line(code, err, expected)
    assert tree(campaign_dir) == before  # no store beside the file, no results folder


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("relax.fmax", "--set 'relax.fmax': expected key.path=value"),
        ("=0.1", "expected key.path=value"),
        ("name.first=x", "name is not a section"),
        ("relax.fmx=0.1", "relax.fmx: unknown key; did you mean 'fmax'?"),
    ],
)
def test_malformed_set(override, expected, campaign_dir, capsys, monkeypatch):
    before = tree(campaign_dir)
    config = str(campaign_dir / "config.json")
    code, _, err = discoverflow(capsys, monkeypatch, "run", config, "--set", override)
    assert_one_line(code, err, [expected])
    assert tree(campaign_dir) == before


def test_unwritable_store_path(campaign_dir, capsys, monkeypatch):
    blocker = campaign_dir / "a-file"
    blocker.write_text("")
    before = tree(campaign_dir)
    config = str(campaign_dir / "config.json")
    code, _, err = discoverflow(capsys, monkeypatch, "run", config, "--store", str(blocker / "db"))
    assert_one_line(code, err, [f"cannot make the store folder {blocker / 'db'}"])
    code, _, err = discoverflow(capsys, monkeypatch, "run", config, "--store", str(blocker))
    assert_one_line(code, err, [f"the store {blocker} is a file"])
    assert tree(campaign_dir) == before


def damage(store: Path) -> Path:
    """A store with a document in it, then its job-output file cut in half."""
    jobs = make_store(str(store))
    jobs.connect()
    jobs.docs_store.update([{"uuid": "u1", "index": 1, "output": {"x": 1}}], key=["uuid", "index"])
    jobs.close()
    damaged = store / DATABASE_FILE
    damaged.write_bytes(damaged.read_bytes()[:100])
    return damaged


def test_damaged_store_file(campaign_dir, capsys, monkeypatch):
    store = campaign_dir / DEFAULT_STORE_FOLDER
    damage(store)
    before = tree(campaign_dir)
    config = str(campaign_dir / "config.json")
    for command in ("run", "status", "results"):
        code, _, err = discoverflow(capsys, monkeypatch, command, config)
        assert_one_line(code, err, [f"the store at {store} is damaged", DATABASE_FILE])
    (store / DATABASE_FILE).write_text("garbage, not sqlite\n")
    code, _, err = discoverflow(capsys, monkeypatch, "status", config)
    assert_one_line(code, err, ["is damaged", "file is not a database"])
    after = tree(campaign_dir)
    changed = {k for k in {*before, *after} if after.get(k) != before.get(k)}
    changed = {k for k in changed if not k.endswith(("-shm", "-wal"))}  # sqlite's own index
    assert changed == {f"{DEFAULT_STORE_FOLDER}/{DATABASE_FILE}"}  # the garbage written


def command(*args: str, cwd: Path | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "discoverflow.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        **kwargs,
    )


def test_bad_inputs_in_their_own_process(campaign_dir):
    """The same through a real process: a garbage CIF, then a damaged store."""
    garbage_cif(campaign_dir)
    config = str(campaign_dir / "config.json")
    first = command("run", config)
    _, err = first.communicate(timeout=600)
    assert_one_line(first.returncode, err, ["garbage.cif", "cannot parse"])
    assert not (campaign_dir / DEFAULT_STORE_FOLDER).exists()
    (campaign_dir / "templates" / "garbage.cif").unlink()
    damage(campaign_dir / DEFAULT_STORE_FOLDER)
    second = command("status", config)
    _, err = second.communicate(timeout=600)
    assert_one_line(second.returncode, err, ["is damaged", DATABASE_FILE])


@pytest.mark.slow
def test_two_runs_on_one_store_at_once(campaign_dir, tmp_path):
    """The second run refuses while the first holds the store, naming it; the first's
    results are whole, each candidate once."""
    config = str(campaign_dir / "config.json")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    store = campaign_dir / DEFAULT_STORE_FOLDER
    first = command("run", config, cwd=elsewhere)
    deadline = time.time() + 600
    while not (store / OWNER_FILE).exists() and time.time() < deadline:
        assert first.poll() is None, first.communicate()
        time.sleep(0.2)
    second = command("run", config, cwd=campaign_dir)
    _, err = second.communicate(timeout=600)
    line = err.strip()
    assert second.returncode == 2 and "\n" not in line, err
    assert f"the store at {store} is in use by process {first.pid}" in line
    assert f"run {config}" in line
    assert first.poll() is None  # still running, untouched by the refused one
    out, err = first.communicate(timeout=900)
    assert first.returncode == 0, err
    assert f"embedded store at {store}" in out  # beside the file, run from another folder
    assert not (elsewhere / DEFAULT_STORE_FOLDER).exists()
    shown = subprocess.run(
        [sys.executable, "-m", "discoverflow.cli", "results", config, "--json", "--all"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert shown.stderr.strip() == f"store: embedded store at {store}"
    ids = [doc["candidate_id"] for doc in json.loads(shown.stdout)]
    assert ids and len(ids) == len(set(ids))
