"""A campaign with the default settings scores itself after the hull: the summary document
in ``campaigns`` (and ``discoverflow report --json``) holds figures that the candidates'
documents and the audit sample give again when recomputed here by hand."""

import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition
from rich.console import Console
from test_cli import cli

from discoverflow.campaigns import CampaignRecord, load_config
from discoverflow.campaigns.base import ResultFilter
from discoverflow.campaigns.crystal.campaign import CrystalCampaign
from discoverflow.campaigns.crystal.driver import build_flow, run_campaign
from discoverflow.core.crystal.prototypes import write_prototypes
from discoverflow.stores import document_store, make_store


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """Al-Ni from three prototypes, default screening (audit) and hull settings."""
    tmp_path = tmp_path_factory.mktemp("scored")
    write_prototypes(tmp_path / "templates", ["Cu3Au", "CuZn", "AlB2"])
    config = {
        "name": "alni-score",
        "elements": ["Al", "Ni"],
        "inputs": {"templates": "templates"},
        "generation": {"lattice_scales": [1.0]},
        "screening": {"formation_energy_threshold": -0.45},
        "relax": {"fmax": 0.1, "steps": 150},
        "hull": {"plot": False},
    }
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    store = str(tmp_path / "db")
    run_campaign(load_config(config_file), store)
    return config_file, store


def test_scorecard_figures_recomputed_from_the_documents(scored):
    config_file, store = scored
    found = cli("report", str(config_file), "--store", store, "--json")
    assert found.returncode == 0, found.stderr
    card = json.loads(found.stdout)

    documents = document_store(make_store(store), "candidates")
    documents.connect()
    docs = list(documents.query({"campaign": "alni-score", "role": "candidate"}))
    selection = {d["candidate_id"]: d["stages"]["selection"]["status"] for d in docs}
    kept = [c for c, s in selection.items() if s == "selected"]
    rejected = [c for c, s in selection.items() if s == "screened out"]
    assert kept and rejected
    relaxed = [d for d in docs if d.get("energy_above_hull") is not None]
    stable = [d for d in relaxed if d["energy_above_hull"] <= 0.1]
    on_hull = [d for d in relaxed if d["energy_above_hull"] <= 1e-8]
    assert card["n_screened"] == len(kept) + len(rejected)
    assert card["screen"]["n_kept"] == len(kept)
    assert card["screen"]["n_rejected"] == len(rejected)
    assert (card["hit_rate"]["k"], card["hit_rate"]["n"]) == (len(stable), len(relaxed))
    assert card["on_hull"]["k"] == len(on_hull)
    errors = [
        d["predicted_formation_energy_per_atom"] - d["formation_energy_per_atom"] for d in relaxed
    ]
    mae = sum(map(abs, errors)) / len(errors)
    assert card["formation_energy_error"]["mae"] == pytest.approx(mae)
    assert card["formation_energy_error"]["n"] == len(relaxed)

    # the audit: ceil(0.02 * rejected) = 1 rejected candidate relaxed, placed against the hull
    record = CampaignRecord(make_store(store), "alni-score")
    audit = record.output(record.latest("audit"), load=True)
    assert card["n_audited"] == len(audit["entries"]) == 1 and card["audit_fraction"] == 0.02
    (audited,) = audit["entries"]
    assert audited["candidate_id"] in rejected
    hull = record.output(record.latest("hull"), load=True)

    def entry(row: dict) -> PDEntry:
        composition = Composition(row["formula"])
        return PDEntry(composition, row["formation_energy_per_atom"] * composition.num_atoms)

    entries = [PDEntry(Composition(el), 0.0) for el in ("Al", "Ni")]
    entries += [entry(e) for e in hull["entries"]]
    mine = entry(audited)
    _, expected = PhaseDiagram(entries).get_decomp_and_e_above_hull(mine, allow_negative=True)
    assert audited["e_above_hull"] == pytest.approx(expected, abs=1e-6)

    # the screen at the campaign's thresholds, by hand from the two strata
    precision = len(stable) / len(relaxed)
    miss = float(audited["e_above_hull"] <= 0.1)
    stable_kept, stable_rejected = precision * len(kept), miss * len(rejected)
    recall = stable_kept / (stable_kept + stable_rejected)
    screen = card["screen"]
    assert screen["precision"]["value"] == pytest.approx(precision)
    assert screen["audit_miss_rate"]["n"] == 1
    assert screen["recall"] == pytest.approx(recall)
    assert screen["f1"] == pytest.approx(2 * precision * recall / (precision + recall))
    prevalence = (stable_kept + stable_rejected) / (len(kept) + len(rejected))
    assert screen["daf"] == pytest.approx(precision / prevalence)
    (round_,) = card["rounds"]
    assert round_["hit_rate"] == card["hit_rate"]

    campaign = CrystalCampaign(load_config(config_file))
    console = Console(record=True, width=200)
    console.print(*campaign.status_report(make_store(store)))
    shown = console.export_text()
    assert "scorecard" in shown and "recall" in shown
    table = (config_file.parent / "results" / "scorecard_rounds.csv").read_text().splitlines()
    assert table[0].startswith("round,n_relaxed,hit_rate") and len(table) == 2
    assert build_flow(load_config(config_file), make_store(store)) is None


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
         "--virtual-time-budget=5000", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def table_rows(dom: str) -> list[tuple[str, list[str]]]:
    """(style, cells) of each candidate row of a dumped page."""
    rows = re.findall(r'<tr data-id="[^"]+"([^>]*)>(.*?)</tr>', dom)
    return [(style, re.findall(r"<td>(.*?)</td>", cells)) for style, cells in rows]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_campaign_page_in_headless_chromium(scored, tmp_path):
    config_file, store = scored
    campaign = CrystalCampaign(load_config(config_file))
    page = campaign.summary_page(make_store(store))
    assert (page.parent / "plotly.min.js").is_file()
    url = page.resolve().as_uri()

    found = chromium("--dump-dom", f"{url}#sort=3&order=desc")
    assert found.returncode == 0
    console = [line for line in found.stderr.splitlines() if ":CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "Error" in line], console
    rows = table_rows(found.stdout)
    everything = campaign.documents(make_store(store), ResultFilter(everything=True))
    assert len(rows) == len(everything) > 2
    predicted = [float(cells[3]) for _, cells in rows if cells[3]]
    assert len(predicted) > 2 and predicted == sorted(predicted, reverse=True)
    assert 'class="main-svg"' in found.stdout  # plotly drew the figures

    formula = rows[0][1][1]
    filtered = table_rows(chromium("--dump-dom", f"{url}#filter={formula}").stdout)
    shown = ["".join(cells).lower() for style, cells in filtered if "none" not in style]
    hidden = ["".join(cells).lower() for style, cells in filtered if "none" in style]
    assert shown and all(formula.lower() in row for row in shown)
    assert len(shown) < len(rows) and not any(formula.lower() in row for row in hidden)

    shot = tmp_path / "page.png"
    chromium("--window-size=1200,2000", f"--screenshot={shot}", url)
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 10 and (pixels < 128).mean() > 0.01  # text and plots, not blank
