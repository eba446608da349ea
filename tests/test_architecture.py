"""The package's shape: one-way imports, no private names across modules, small files."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "src" / "discoverflow"
GROUND_FLOOR = {
    "errors",
    "faults",
    "settings",
    "progress",
    "routing",
    "stores",
    "sqlite_store",
    "sqlite_codec",
    "sqlite_pushdown",
    "mongo_query",
    "plugins",
    "testing",
    "third_party_warnings",
    "locations",
}
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """Every import in a module (inside functions too): (module, names imported from it)."""
    found = []
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    )
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.append((base, [alias.name for alias in node.names]))
    return found


def internal_target(name: str, imported: list[str]) -> list[str]:
    """The package modules an import statement loads."""
    targets = []
    if name in MODULES:
        targets.append(name)
    targets += [f"{name}.{n}" for n in imported if f"{name}.{n}" in MODULES]
    return targets


def graph() -> dict[str, set[str]]:
    edges = {}
    for name, path in MODULES.items():
        edges[name] = {
            target
            for module, names in imports(path)
            if module.startswith("discoverflow")
            for target in internal_target(module, names)
            if target != name
        }
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for child in sorted(edges[node]):
            if state.get(child) == 1:
                return [*stack[stack.index(child) :], child]
            if child not in state and (cycle := visit(child)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def layer(module: str) -> int:
    """0 ground floor, 1 core/models/schemas/builders, 2 makers, 3 campaigns, 4 remote, 5 cli."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in GROUND_FLOOR:
        return 0
    layers = {"core": 1, "models": 1, "schemas": 1, "builders": 1, "makers": 2, "campaigns": 3}
    return {**layers, "remote": 4, "remote_project": 4}.get(parts[1], 5)


def test_no_import_cycle():
    assert find_cycle(graph()) is None


def test_imports_point_down():
    upward = [
        f"{source} -> {target}"
        for source, targets in graph().items()
        for target in targets
        if layer(target) > layer(source)
    ]
    assert upward == []


def test_core_is_plain_science():
    offenders = [
        name
        for name, path in MODULES.items()
        if name.startswith("discoverflow.core")
        for module, _ in imports(path)
        if module.split(".")[0] == "jobflow"
        or module.startswith(("discoverflow.makers", "discoverflow.schemas", "discoverflow.models"))
    ]
    assert offenders == []


def test_no_private_names_across_modules():
    private = [
        f"{name}: {module}.{imported}"
        for name, path in MODULES.items()
        for module, names in imports(path)
        for imported in names
        if imported.startswith("_") and not imported.startswith("__")
    ]
    assert private == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_source_files_are_small(name):
    assert len(MODULES[name].read_text().splitlines()) <= MAX_LINES


@pytest.mark.parametrize("name", ["discoverflow.cli", "discoverflow.remote"])
def test_commands_do_not_test_the_campaign_kind(name):
    source = MODULES[name].read_text()
    assert "workflow" not in source
    assert "MOFCampaign" not in source and "CrystalCampaign" not in source
    assert "isinstance(config" not in source and "isinstance(campaign" not in source


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def public_makers() -> list[type]:
    import importlib
    import inspect
    import pkgutil

    from jobflow import Maker

    import discoverflow.makers as makers

    found = {}
    for info in pkgutil.walk_packages(makers.__path__, "discoverflow.makers."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, Maker)
                and value.__module__ == module.__name__
                and not name.startswith("_")
                and value.make is not Maker.make  # bases (StageMaker, MOFStagesMaker, ...)
            ):
                found[name] = value
    return [found[name] for name in sorted(found)]


@pytest.mark.parametrize("maker", public_makers(), ids=lambda m: m.__name__)
def test_makers_have_numpydoc_docstrings(maker):
    import inspect

    doc = inspect.getdoc(maker) or ""
    assert doc.splitlines()[0] and "\nParameters\n----------\n" in doc
    make = getattr(maker.make, "original", maker.make)
    assert "\nReturns\n-------\n" in (inspect.getdoc(make) or ""), maker.__name__


def test_campaign_settings_have_numpydoc_docstrings():
    import inspect

    from discoverflow.campaigns import config as base
    from discoverflow.campaigns.crystal import config as crystal
    from discoverflow.campaigns.existing_mofs import config as existing
    from discoverflow.campaigns.mof import config as mof
    from discoverflow.settings import StageSettings

    models = [
        value
        for module in (base, crystal, mof, existing)
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, StageSettings)
        and value is not StageSettings
    ]
    for model in models:
        doc = inspect.getdoc(model) or ""
        assert "\nParameters\n----------\n" in doc, model.__name__
        listed = doc.split("\nParameters\n----------\n")[1]
        assert all(f"\n{name} " in f"\n{listed}" for name in model.model_fields), model.__name__
