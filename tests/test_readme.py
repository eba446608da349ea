"""The README's Python example runs as written."""

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_example_runs(capsys):
    assert BLOCKS, "the README has a Python example"
    exec(compile(BLOCKS[0], "README.md", "exec"), {})
    stable = capsys.readouterr().out
    assert "AlNi" in stable and "Al" in stable and "Ni" in stable


def test_readme_mof_example_composes_a_flow():
    (mof,) = [block for block in BLOCKS if "MOFDiscoveryMaker" in block]
    namespace = {}
    exec(compile(mof, "README.md", "exec"), namespace)
    maker, flow = namespace["maker"], namespace["flow"]
    assert maker.assembly_maker.settings.node == "Cu-paddlewheel-pillared"
    assert maker.stability_maker.settings.steps == 5000
    assert flow.metadata["stage"] == "mof-round"
