"""One self-contained HTML page of a campaign: its scorecard, hull, parity plot, a sortable and
filterable table of its candidates and a 3D view of any of them (plotly, from
``plotly.min.js`` beside the page)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from pymatgen.analysis.phase_diagram import PDPlotter, PhaseDiagram
from pymatgen.core import Structure

PAGE = "campaign.html"
PLOTLY = "plotly.min.js"
COLUMNS = [
    ("candidate_id", "id"),
    ("formula_pretty", "formula"),
    ("space_group", "space group"),
    ("predicted_formation_energy_per_atom", "E_f predicted (eV/atom)"),
    ("formation_energy_per_atom", "E_f relaxed (eV/atom)"),
    ("energy_above_hull", "E above hull (eV/atom)"),
    ("novelty", "known / new"),
    ("probability_stable", "P(stable)"),
]

SCRIPT = """
const rows = () => Array.from(document.querySelectorAll('#candidates tbody tr'));
function sortBy(column, descending) {
  const body = document.querySelector('#candidates tbody');
  const value = (row) => {
    const text = row.children[column].textContent;
    const number = parseFloat(text);
    return text === '' ? null : (isNaN(number) ? text : number);
  };
  const sorted = rows().sort((a, b) => {
    const x = value(a), y = value(b);
    if (x === null) return 1;
    if (y === null) return -1;
    return (x < y ? -1 : x > y ? 1 : 0) * (descending ? -1 : 1);
  });
  sorted.forEach((row) => body.appendChild(row));
}
function filterRows(text) {
  const wanted = text.toLowerCase();
  rows().forEach((row) => {
    row.style.display = row.textContent.toLowerCase().includes(wanted) ? '' : 'none';
  });
}
function showStructure(id) {
  const figure = STRUCTURES[id];
  if (figure) Plotly.react('structure', figure.data, figure.layout);
}
document.querySelectorAll('#candidates th').forEach((header, column) => {
  header.addEventListener('click', () => {
    const descending = header.dataset.order === 'ascending';
    header.dataset.order = descending ? 'descending' : 'ascending';
    sortBy(column, descending);
  });
});
document.getElementById('filter').addEventListener('input', (e) => filterRows(e.target.value));
rows().forEach((row) => row.addEventListener('click', () => showStructure(row.dataset.id)));
for (const [div, figure] of Object.entries(FIGURES)) {
  Plotly.newPlot(div, figure.data, figure.layout);
}
const wanted = new URLSearchParams(location.hash.slice(1));
if (wanted.has('sort')) sortBy(parseInt(wanted.get('sort')), wanted.get('order') === 'desc');
if (wanted.has('filter')) filterRows(wanted.get('filter'));
showStructure(wanted.get('show') || Object.keys(STRUCTURES)[0]);
"""


def structure_figure(structure: Structure, title: str) -> go.Figure:
    """Atoms (coloured by element) and the cell's edges in 3D."""
    figure = go.Figure()
    for element in sorted({site.specie.symbol for site in structure}):
        sites = [site for site in structure if site.specie.symbol == element]
        figure.add_trace(
            go.Scatter3d(
                x=[s.coords[0] for s in sites],
                y=[s.coords[1] for s in sites],
                z=[s.coords[2] for s in sites],
                mode="markers",
                name=element,
                marker={"size": 10, "line": {"width": 1, "color": "black"}},
            )
        )
    a, b, c = structure.lattice.matrix
    corners = [i * a + j * b + k * c for i in (0, 1) for j in (0, 1) for k in (0, 1)]
    for start, end in ((0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 3), (2, 6), (3, 7),
                       (4, 5), (4, 6), (5, 7), (6, 7)):  # fmt: skip
        edge = [corners[start], corners[end]]
        figure.add_trace(
            go.Scatter3d(
                x=[p[0] for p in edge],
                y=[p[1] for p in edge],
                z=[p[2] for p in edge],
                mode="lines",
                line={"color": "grey"},
                showlegend=False,
                hoverinfo="skip",
            )
        )
    figure.update_layout(title=title, scene={"aspectmode": "data"}, height=450)
    return figure


def parity_figure(docs: Sequence[dict]) -> go.Figure:
    """The relaxed against the predicted formation energy of each relaxed candidate.

    Parameters
    ----------
    docs
        Candidate documents (``formation_energy_per_atom``,
        ``predicted_formation_energy_per_atom``, ``formula_pretty``).

    Returns
    -------
    plotly.graph_objects.Figure
        The parity plot."""
    pairs = [
        (
            d["formation_energy_per_atom"],
            d["predicted_formation_energy_per_atom"],
            d["formula_pretty"],
        )
        for d in docs
        if d.get("formation_energy_per_atom") is not None
        and d.get("predicted_formation_energy_per_atom") is not None
    ]
    figure = go.Figure()
    if pairs:
        relaxed, predicted, formulas = zip(*pairs, strict=True)
        low, high = min(relaxed + predicted), max(relaxed + predicted)
        figure.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", name="y = x"))
        figure.add_trace(
            go.Scatter(x=relaxed, y=predicted, mode="markers", text=formulas, name="candidates")
        )
    figure.update_layout(
        title="screening vs relaxed formation energy",
        xaxis_title="relaxed E_f (eV/atom)",
        yaxis_title="predicted E_f (eV/atom)",
        template="simple_white",
    )
    return figure


def cell(value) -> str:
    """A table cell's text: floats to three decimals, other values HTML-escaped.

    Parameters
    ----------
    value
        The value, or None for an empty cell.

    Returns
    -------
    str
        The cell's text."""
    if value is None:
        return ""
    return f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))


def scorecard_rows(summary: dict | None) -> str:
    """The campaign page's scorecard as HTML.

    Parameters
    ----------
    summary
        The scorecard document as stored, or None before the hull.

    Returns
    -------
    str
        An HTML table of the rates and errors, or a sentence saying there is none yet."""
    if not summary:
        return "<p>No scorecard yet (it comes after the hull).</p>"
    screen = summary["screen"]

    def rate(name: str, found: dict) -> str:
        value = "" if found.get("value") is None else f"{found['value']:.3f}"
        interval = "" if found.get("low") is None else f"{found['low']:.3f}-{found['high']:.3f}"
        counts = f"{found['k']}/{found['n']}"
        return f"<tr><td>{name}</td><td>{value}</td><td>{counts}</td><td>{interval}</td></tr>"

    rests = f"{screen['n_kept']} kept, {screen['n_rejected']} rejected"
    lines = [
        rate("hit rate", summary["hit_rate"]),
        rate("on the hull", summary["on_hull"]),
        rate("precision", screen["precision"]),
        *(
            f"<tr><td>{name}</td><td>{cell(screen.get(key))}</td><td>{rests}</td><td></td></tr>"
            for name, key in (("recall", "recall"), ("F1", "f1"), ("DAF", "daf"))
        ),
        f"<tr><td>MAE E_f (eV/atom)</td><td>{cell(summary['formation_energy_error']['mae'])}"
        f"</td><td>{summary['formation_energy_error']['n']}</td><td></td></tr>",
    ]
    return (
        "<table id='scorecard'><thead><tr><th>figure</th><th>value</th><th>rests on</th>"
        "<th>95% interval</th></tr></thead><tbody>" + "".join(lines) + "</tbody></table>"
    )


def write_campaign_page(
    folder: Path,
    title: str,
    summary: dict | None,
    docs: Sequence[dict],
    diagram: PhaseDiagram | None,
) -> Path:
    """``folder/campaign.html`` (and ``plotly.min.js`` beside it) from the scorecard
    (``summary``), the candidate documents (with ``structure`` where relaxed) and the hull.

    Parameters
    ----------
    folder
        The campaign's output folder.
    title
        The page's title.
    summary
        The scorecard document, or None before the hull.
    docs
        The candidates' documents.
    diagram
        The campaign's phase diagram, if any.

    Returns
    -------
    Path
        The page written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / PLOTLY
    if not script.is_file():
        script.write_text(get_plotlyjs())
    figures = {"parity": json.loads(parity_figure(docs).to_json())}
    if diagram is not None and 2 <= len(diagram.elements) <= 4:
        hull = PDPlotter(diagram, backend="plotly").get_plot()
        figures["hull"] = json.loads(hull.to_json())
    structures = {
        d["candidate_id"]: json.loads(
            structure_figure(Structure.from_dict(d["structure"]), d["candidate_id"]).to_json()
        )
        for d in docs
        if d.get("structure")
    }
    header = "".join(f"<th>{html.escape(name)}</th>" for _, name in COLUMNS)
    body = "".join(
        f"<tr data-id='{html.escape(d['candidate_id'])}'>"
        + "".join(f"<td>{cell(d.get(key))}</td>" for key, _ in COLUMNS)
        + "</tr>"
        for d in docs
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<script src="{PLOTLY}"></script>
<style>body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; }} th {{ cursor: pointer; }}
#candidates tbody tr {{ cursor: pointer; }}</style></head>
<body><h1>{html.escape(title)}</h1>
<h2>Scorecard</h2>{scorecard_rows(summary)}
<h2>Hull and parity</h2><div id="hull"></div><div id="parity"></div>
<h2>Candidates</h2><input id="filter" placeholder="filter rows">
<table id="candidates"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>
<h2>Structure (click a row)</h2><div id="structure"></div>
<script>const FIGURES = {json.dumps(figures)};
const STRUCTURES = {json.dumps(structures)};{SCRIPT}</script>
</body></html>
"""
    path = folder / PAGE
    path.write_text(page)
    return path
