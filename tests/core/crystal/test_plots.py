"""The campaign's pictures: files, sizes and the statistics they print."""

import pytest
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition

from discoverflow.core.crystal.plots import parity_statistics, plot_parity, plot_phase_diagram


def al_ni() -> PhaseDiagram:
    energies = {"Al": -3.75, "Ni": -5.78, "AlNi": -5.40, "AlNi3": -5.60, "Al3Ni": -4.40}
    return PhaseDiagram(
        [PDEntry(Composition(f), e * Composition(f).num_atoms) for f, e in energies.items()]
    )


def test_parity_statistics_match_a_hand_computation():
    stats = parity_statistics([-0.3, -0.5, -0.2], [-0.35, -0.45, -0.1])
    assert stats["mae"] == pytest.approx((0.05 + 0.05 + 0.1) / 3)
    assert stats["bias"] == pytest.approx((0.05 - 0.05 - 0.1) / 3)
    mean = (-0.35 - 0.45 - 0.1) / 3
    total = sum((r - mean) ** 2 for r in (-0.35, -0.45, -0.1))
    assert stats["r2"] == pytest.approx(1 - (0.05**2 + 0.05**2 + 0.1**2) / total)


def test_phase_diagram_html_is_small_and_the_binary_axis_is_the_composition(tmp_path):
    html, png = plot_phase_diagram(al_ni(), tmp_path, 0.1, "Al-Ni convex hull")
    assert html.stat().st_size < 200_000  # plotly.js is one file beside it, not inlined
    assert (tmp_path / "plotly.min.js").is_file()
    assert "Al-Ni convex hull" in html.read_text()
    assert png.stat().st_size > 10_000


def test_results_folders_of_one_store_share_one_plotly_js(tmp_path):
    store = tmp_path / "discoverflow-data"
    pages = [
        plot_phase_diagram(al_ni(), tmp_path / folder, 0.1, "Al-Ni convex hull", scripts=store)[0]
        for folder in ("results", "other-results")
    ]
    (script,) = store.glob("plotly-*.min.js")
    assert script.stat().st_size > 1_000_000
    for page in pages:
        assert not (page.parent / "plotly.min.js").exists()
        assert f'src="../discoverflow-data/{script.name}"' in page.read_text()


def test_parity_plot_is_written(tmp_path):
    path = plot_parity([-0.3, -0.5], [-0.35, -0.45], tmp_path / "parity.png", "Al-Ni")
    assert path.stat().st_size > 10_000


def test_hull_geometry_colours_only_entries_within_the_threshold():
    from discoverflow.core.crystal.plots import hull_geometry

    lines, stable, above = hull_geometry(al_ni(), threshold=0.3)
    assert {p.formula for p in stable} == {"Al", "Ni", "AlNi", "AlNi3"}
    diagram = al_ni()
    expected = {
        e.composition.reduced_formula: diagram.get_e_above_hull(e) for e in diagram.unstable_entries
    }
    assert {p.formula: p.e_above_hull for p in above} == pytest.approx(
        {f: v for f, v in expected.items() if v <= 0.3}
    )
    assert lines
